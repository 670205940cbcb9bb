package findings

import "github.com/gptviz/gptviz/model/trace"

// EvictionBlock is the tokens that left the context window at one step.
type EvictionBlock struct {
	// Step is the step at which they left: 0 before the first step (the
	// prompt was longer than the window and only its last n_positions
	// tokens were read), else the decode step whose new token found the
	// window full.
	Step int
	// Tokens is how many left; From is the absolute position of the
	// oldest of them (they are From..From+Tokens−1 when contiguous, as
	// the engine evicts them).
	Tokens, From int
	// Recomputed is how many positions the step computed again after the
	// eviction when it is a Recompute step: the rows it wrote into the KV
	// cache (KVWrite.N, or the positions cached after it when KVWrite was
	// not recorded), the tokens that stayed plus the new one; 0 for Step 0.
	Recomputed int
}

// WindowOverflow says what a run did because its text did not fit the
// context window: which tokens left it and when, what was recomputed, and
// what the window held at the end. Counts are tokens (not characters).
type WindowOverflow struct {
	Policy     string // trace.OverflowSlide or trace.OverflowBlock (Trace.OverflowOf)
	NPositions int    // the context window, tokens
	// Blocks are the evictions grouped by step, in step order.
	Blocks []EvictionBlock
	// Total is how many tokens left the window in all; PromptDropped of
	// them before the first step (the Step-0 block) and Decoding during
	// generation: Total = PromptDropped + Decoding.
	Total, PromptDropped, Decoding int
	// DecodeBlocks is how many decode steps evicted (len(Blocks) without
	// the Step-0 block); BlockSize is the most tokens one of them evicted
	// (1 under OverflowSlide, a quarter of the window under OverflowBlock).
	DecodeBlocks, BlockSize int
	// Recomputed is Σ Blocks[i].Recomputed: positions computed again.
	Recomputed int
	// FinalStart is the oldest position in the window after the last
	// step, FinalCached the positions cached then (≤ NPositions);
	// MinCached is the fewest positions cached after a decode step that
	// evicted (NPositions when none did).
	FinalStart, FinalCached, MinCached int
}

// Overflow returns what the run did because its text did not fit the
// context window; ok is false when no token left the window (or the trace
// has no steps).
func Overflow(tr *trace.Trace) (w WindowOverflow, ok bool) {
	if len(tr.Steps) == 0 || len(tr.Evictions) == 0 {
		return w, false
	}
	w.Policy, w.NPositions, w.MinCached = tr.OverflowOf(), tr.Model.Config.NPositions, tr.Model.Config.NPositions
	byIndex := map[int]trace.Step{}
	for _, st := range tr.Steps {
		byIndex[st.Index] = st
	}
	for _, ev := range tr.Evictions {
		n := len(w.Blocks)
		if n == 0 || w.Blocks[n-1].Step != ev.Step {
			b := EvictionBlock{Step: ev.Step, From: ev.Position}
			if st, ok := byIndex[ev.Step]; ok && st.Kind == trace.Recompute {
				b.Recomputed = stepCached(st)
				if st.KVWrite != nil {
					b.Recomputed = st.KVWrite.N
				}
			}
			w.Blocks = append(w.Blocks, b)
			n++
		}
		w.Blocks[n-1].Tokens++
		w.Blocks[n-1].From = min(w.Blocks[n-1].From, ev.Position)
	}
	for _, b := range w.Blocks {
		w.Total += b.Tokens
		w.Recomputed += b.Recomputed
		if b.Step == 0 {
			w.PromptDropped += b.Tokens
			continue
		}
		w.Decoding += b.Tokens
		w.DecodeBlocks++
		w.BlockSize = max(w.BlockSize, b.Tokens)
		if st, ok := byIndex[b.Step]; ok {
			w.MinCached = min(w.MinCached, stepCached(st))
		}
	}
	last := tr.Steps[len(tr.Steps)-1]
	w.FinalStart, w.FinalCached = last.WindowStart, stepCached(last)
	return w, true
}

// stepCached is the positions cached after a step: the most over layers.
func stepCached(st trace.Step) int {
	n := 0
	for _, p := range st.KV.Positions {
		n = max(n, p)
	}
	return n
}
