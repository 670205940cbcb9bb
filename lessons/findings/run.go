package findings

import (
	"slices"

	"github.com/gptviz/gptviz/model/trace"
)

// WindowSlide says the context window slid during the run: tokens left it
// and the keys and values of the tokens that stayed were computed again
// (with absolute position embeddings, a token that moves to an earlier
// slot of the window gets a new key and value).
type WindowSlide struct {
	Policy     string // trace.OverflowSlide or trace.OverflowBlock
	NPositions int    // the context window, tokens
	// PromptDropped is how many prompt tokens had left the window before
	// the first step (a prompt longer than the window): Steps[0].WindowStart.
	PromptDropped int
	// Evicted is how many tokens left the window during decoding, at
	// steps FirstStep..LastStep (0 when none).
	Evicted             int
	FirstStep, LastStep int
	// Recomputed lists the steps that recomputed the whole window
	// (StepKind Recompute): at each, every cached key and value was
	// written again.
	Recomputed []int
}

// Rewritten reports whether some step rewrote the keys and values already
// in the cache (len(Recomputed) > 0).
func (w WindowSlide) Rewritten() bool { return len(w.Recomputed) > 0 }

// KVWindow returns how the context window slid; ok is false when every
// token of the run stayed in the window and no step recomputed it: then
// the keys and values of past tokens never changed.
func KVWindow(tr *trace.Trace) (w WindowSlide, ok bool) {
	w.Policy, w.NPositions = tr.OverflowOf(), tr.Model.Config.NPositions
	if len(tr.Steps) > 0 {
		w.PromptDropped = tr.Steps[0].WindowStart
	}
	w.Evicted = len(tr.Evictions)
	if w.Evicted > 0 {
		w.FirstStep, w.LastStep = tr.Evictions[0].Step, tr.Evictions[w.Evicted-1].Step
	}
	for _, st := range tr.Steps {
		if st.Kind == trace.Recompute {
			w.Recomputed = append(w.Recomputed, st.Index)
		}
	}
	return w, w.PromptDropped > 0 || w.Evicted > 0 || len(w.Recomputed) > 0
}

// ResidualSink says the residual stream of the window's first position is
// outsized: Ratio times the median norm of the other positions after
// block Layer (the largest ratio over blocks 1..n_layer), as in GPT-2,
// where heads park attention on that position.
type ResidualSink struct {
	Position    int     // absolute position of the window's first token
	Layer       int     // residual stream after block Layer, 1..n_layer
	Norm        float32 // its L2 norm there
	MedianOther float32 // median L2 norm of the other positions there
	Ratio       float64 // Norm / MedianOther, ≥ ResidualSinkRatio
	Others      int     // other positions compared, ≥ 2
}

// FirstResidual returns the ResidualSink of the prefill; ok is false when
// the prefill did not record its first position's residual stream, had
// fewer than 3 positions, or the ratio stays below ResidualSinkRatio.
func FirstResidual(tr *trace.Trace) (best ResidualSink, ok bool) {
	if len(tr.Steps) == 0 {
		return ResidualSink{}, false
	}
	st := tr.Steps[0]
	q0 := st.WindowStart - st.QueryStart
	if q0 != 0 {
		return ResidualSink{}, false // the first rows were not recorded
	}
	for l := 1; l < len(st.ResidualNorm); l++ {
		row := st.ResidualNorm[l]
		if len(row) < 3 {
			continue
		}
		others := slices.Clone(row[1:])
		slices.Sort(others)
		med := others[(len(others)-1)/2]
		if med <= 0 {
			continue
		}
		r := float64(row[0]) / float64(med)
		if r >= ResidualSinkRatio && r > best.Ratio {
			best = ResidualSink{Position: st.WindowStart, Layer: l, Norm: row[0], MedianOther: med, Ratio: r, Others: len(others)}
			ok = true
		}
	}
	return best, ok
}

// CheckName names a sanity check of Trace.Checks.
type CheckName string

// The sanity checks.
const (
	CheckRowSums CheckName = "row-sums" // attention rows sum to 1: MaxRowSumError ≤ RowSumTolerance
	CheckCausal  CheckName = "causal"   // no attention on a future token: MaxCausalLeak = 0
	CheckCache   CheckName = "cache"    // cached = recomputed logits: CacheVsRecompute ≤ CacheTolerance
	CheckGreedy  CheckName = "greedy"   // temperature → 0 picks the argmax: ZeroTempIsGreedy
)

// Check is one sanity check measured on the run.
type Check struct {
	Name     CheckName
	Measured bool    // false when the run did not measure it (CacheVsRecompute < 0)
	Value    float64 // what was measured (1 or 0 for CheckGreedy)
	// Limit is the bound: Value ≤ Limit passes, except for CheckGreedy,
	// whose Value must equal Limit (1, yes).
	Limit float64
	Pass  bool // measured and within Limit
}

// Checks returns the run's sanity checks, in the order of the constants.
func Checks(tr *trace.Trace) []Check {
	c := tr.Checks
	greedy := 0.0
	if c.ZeroTempIsGreedy {
		greedy = 1
	}
	return []Check{
		{CheckRowSums, true, c.MaxRowSumError, RowSumTolerance, c.MaxRowSumError <= RowSumTolerance},
		{CheckCausal, true, c.MaxCausalLeak, 0, c.MaxCausalLeak == 0},
		{CheckCache, c.CacheVsRecompute >= 0, c.CacheVsRecompute, CacheTolerance, c.CacheVsRecompute >= 0 && c.CacheVsRecompute <= CacheTolerance},
		{CheckGreedy, true, greedy, 1, c.ZeroTempIsGreedy},
	}
}

// Failed returns the checks that were measured and did not pass.
func Failed(cs []Check) []Check {
	var out []Check
	for _, c := range cs {
		if c.Measured && !c.Pass {
			out = append(out, c)
		}
	}
	return out
}
