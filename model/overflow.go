package model

import "fmt"

// Overflow is what a run does when its context window of n_positions is
// full and generation goes on. GPT-2 has learned position embeddings, so
// the cached keys and values of a token depend on its position in the
// window: once the oldest tokens leave, the window must be computed again
// from scratch at its new positions. The policies differ in how often.
type Overflow string

// The overflow policies. Their cost is measured in recomputed positions: a
// decode step computes 1 position, a recompute of a window of w tokens
// computes w (and its attention grows as w²).
const (
	// OverflowBlock evicts the oldest EvictBlock(n_positions) tokens, a
	// quarter of the window, at once, recomputes the remaining window
	// together with the new token in one pass, and decodes with the KV
	// cache again until the window is full. Every prediction sees at least
	// three quarters of a window of context; a recompute of about
	// 3/4·n_positions positions happens once every n_positions/4 steps
	// (gpt2: 769 positions every 256 steps, about 3 positions per step).
	// It is Run's default: the policy a learner can afford on gpt2 at
	// 1,024 tokens.
	OverflowBlock Overflow = "block"
	// OverflowSlide evicts the oldest token at every step and recomputes
	// the whole window: every prediction sees exactly the last n_positions
	// tokens, as Hugging Face's generate() does when it crops the context,
	// at the cost of a full-window pass per step (gpt2: 1,024 positions per
	// step, hundreds of times a cached step). It is a Runner's default and
	// what every trace without a recorded policy used.
	OverflowSlide Overflow = "slide"
)

// Validate returns a *ParamError naming "overflow" unless o is "" (the
// default), OverflowBlock or OverflowSlide.
func (o Overflow) Validate() error {
	switch o {
	case "", OverflowBlock, OverflowSlide:
		return nil
	}
	return &ParamError{Param: "overflow", Value: fmt.Sprintf("%q", string(o)), Problem: `want "block" or "slide"`}
}

// EvictBlock is how many tokens OverflowBlock evicts at once from a context
// window of nPositions: a quarter of the window, at least 1.
func EvictBlock(nPositions int) int { return max(nPositions/4, 1) }

// evictCount is how many tokens policy o evicts from a full window of
// nPositions ("" is OverflowSlide, a Runner's default).
func (o Overflow) evictCount(nPositions int) int {
	if o == OverflowBlock {
		return min(EvictBlock(nPositions), nPositions)
	}
	return 1
}

// OverflowCost is what a policy will recompute during a run's decode steps.
type OverflowCost struct {
	Evicted    int   // tokens that leave the window during the decode steps
	Recomputes int   // decode steps that recompute the window instead of reading the cache
	Positions  int64 // positions computed by those recomputes, in all
}

// PlanOverflow returns what policy o ("" means OverflowBlock, Run's
// default) will evict and recompute when a prompt of promptTokens tokens is
// followed by steps decode steps on a model with a context window of
// nPositions. A prompt longer than the window is cropped to its last
// nPositions tokens before the first step (see Run), which costs no
// recompute. The zero OverflowCost means the run fits in the window.
func PlanOverflow(nPositions, promptTokens, steps int, o Overflow) OverflowCost {
	if o == "" {
		o = OverflowBlock
	}
	var c OverflowCost
	if nPositions < 1 {
		return c
	}
	window := min(max(promptTokens, 1), nPositions)
	for range max(steps, 0) {
		if window < nPositions {
			window++
			continue
		}
		drop := o.evictCount(nPositions)
		window = window - drop + 1
		c.Evicted += drop
		c.Recomputes++
		c.Positions += int64(window)
	}
	return c
}
