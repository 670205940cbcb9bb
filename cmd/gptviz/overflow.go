package main

import (
	"fmt"
	"io"

	"github.com/gptviz/gptviz/model"
)

// warnOverflow prints on stderr, before a run starts, what it will
// recompute: the extra passes that score a prompt longer than the context
// window, and what the overflow policy evicts and recomputes when prompt +
// steps exceed it, with the other policy's cost beside it. It prints
// nothing for a run that fits.
func warnOverflow(stderr io.Writer, m *model.Model, prompt string, opts model.RunOptions) {
	if m.Tokenizer == nil {
		return // Run refuses the model
	}
	n := m.Config.NPositions
	tokens := max(len(m.Tokenizer.Encode(prompt)), 1)
	if w := model.ScoreWindows(tokens, n); tokens > n {
		fmt.Fprintf(stderr, "gptviz: the prompt has %d tokens, more than the context window of %d positions: it is scored in %d sliding windows (%d extra forward passes of %d positions), and its last %d tokens stay in working memory\n",
			tokens, n, len(w), len(w)-1, n, n)
	}
	if opts.Continuation != "" {
		if all := tokens + len(m.Tokenizer.Encode(opts.Continuation)); all > n {
			fmt.Fprintf(stderr, "gptviz: prompt + continuation are %d tokens, more than the context window of %d positions: the continuation is scored in %d sliding windows\n",
				all, n, len(model.ScoreWindows(all, n)))
		}
	}
	o := opts.Overflow
	if o == "" {
		o = model.OverflowBlock
	}
	cost := model.PlanOverflow(n, tokens, opts.Steps, o)
	if cost.Recomputes == 0 {
		return
	}
	other := model.OverflowSlide
	if o == model.OverflowSlide {
		other = model.OverflowBlock
	}
	alt := model.PlanOverflow(n, tokens, opts.Steps, other)
	fmt.Fprintf(stderr, "gptviz: the prompt (%d tokens in the window) + %d steps exceed the context window of %d positions: --overflow %s evicts %d tokens and recomputes the window %s, %d positions in all (a cached step computes 1); --overflow %s would recompute it %s, %d positions\n",
		min(tokens, n), opts.Steps, n, o, cost.Evicted, times(cost.Recomputes), cost.Positions, other, times(alt.Recomputes), alt.Positions)
}

// times says how often something happens: "once", "twice", "N times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
