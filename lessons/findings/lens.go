package findings

import (
	"slices"

	"github.com/gptviz/gptviz/model/trace"
)

// LensSettle is where the logit lens settles at one position: from Layer
// on, the top token read out after every block is the model's final one.
type LensSettle struct {
	Step     int // index of the step that recorded the position (0: the prefill)
	Position int // absolute position; its top token is the guess for position+1
	// Layer is the first layer l (0-based: the residual stream after
	// block l) from which the lens's top token equals the last layer's at
	// every later layer, 0..n_layer−1; n_layer−1 means it settled only at
	// the end.
	Layer int
	// Top is the last layer's top token: the model's own prediction.
	Top trace.LensEntry
}

// Lens is where the logit lens settles over the run.
type Lens struct {
	NLayer int // layers the lens read (len of Step.LogitLens)
	// Positions are every recorded position, in position order (a
	// position recorded by more than one step keeps its latest reading).
	Positions []LensSettle
	// Median is the median of Positions' Layer (the lower middle for an
	// even count): where the lens typically settles.
	Median int
	// Early counts positions settled from layer 0 (every layer agreed);
	// Late those that settled only at the last layer.
	Early, Late int
}

// Last returns the setting of the last recorded position: the newest
// prediction of the run.
func (l Lens) Last() LensSettle { return l.Positions[len(l.Positions)-1] }

// LogitLens returns where the logit lens settles; ok is false when the
// trace recorded no logit lens or it read fewer than 2 layers (then there
// is nothing to settle).
func LogitLens(tr *trace.Trace) (out Lens, ok bool) {
	byPos := map[int]LensSettle{}
	for _, st := range tr.Steps {
		nl := len(st.LogitLens)
		if nl < 2 {
			continue
		}
		out.NLayer = max(out.NLayer, nl)
		for q := range st.LogitLens[nl-1] {
			if s, ok := settle(st.LogitLens, q); ok {
				s.Step, s.Position = st.Index, st.QueryStart+q
				byPos[s.Position] = s
			}
		}
	}
	if len(byPos) == 0 {
		return Lens{}, false
	}
	for _, s := range byPos {
		out.Positions = append(out.Positions, s)
	}
	slices.SortFunc(out.Positions, func(a, b LensSettle) int { return a.Position - b.Position })
	layers := make([]int, len(out.Positions))
	for i, s := range out.Positions {
		layers[i] = s.Layer
		if s.Layer == 0 {
			out.Early++
		}
		if s.Layer == out.NLayer-1 {
			out.Late++
		}
	}
	slices.Sort(layers)
	out.Median = layers[(len(layers)-1)/2]
	return out, true
}

// settle finds where query row q of lens [n_layer][query] settles; ok is
// false when a layer lacks the row.
func settle(lens [][]trace.LensEntry, q int) (LensSettle, bool) {
	last := len(lens) - 1
	if q >= len(lens[last]) {
		return LensSettle{}, false
	}
	s := LensSettle{Layer: last, Top: lens[last][q]}
	for l := last - 1; l >= 0; l-- {
		if q >= len(lens[l]) || lens[l][q].ID != s.Top.ID {
			break
		}
		s.Layer = l
	}
	return s, true
}
