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
	// even count): where the lens typically settles. At least half the
	// positions settle at or before it (the report says so, not "the
	// median", which for an even count may lie between two layers).
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
				s.Step, s.Position = st.Index, st.QueryStart+st.LensStart+q
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

// LensCost is what reading out the logit lens cost a run: each reading
// passes one residual row through ln_f and the whole output head
// (vocab_size × n_embd multiply-adds).
type LensCost struct {
	Positions int     // query rows read out, summed over steps
	Readings  int     // Positions × layers: passes through the output head
	Millis    float64 // wall time of those passes and their softmaxes, ms
	// StepMillis is the wall time of the steps that read the lens out,
	// Millis included, ms.
	StepMillis float64
}

// Share is the part of the steps' time the lens took, in [0, 1].
func (c LensCost) Share() float64 { return c.Millis / c.StepMillis }

// LogitLensCost sums the lens's cost over tr's steps; ok is false when the
// trace recorded no lens or no lens timings (a reproducible run, a trace
// written before gptviz timed the lens).
func LogitLensCost(tr *trace.Trace) (c LensCost, ok bool) {
	for _, st := range tr.Steps {
		if len(st.LogitLens) == 0 {
			continue
		}
		n := len(st.LogitLens[0])
		c.Positions += n
		c.Readings += n * len(st.LogitLens)
		c.Millis += st.LensMillis
		c.StepMillis += st.Millis
	}
	return c, c.Millis > 0 && c.StepMillis > 0
}
