package model

import (
	"fmt"

	"github.com/gptviz/gptviz/model/trace"
)

// ScoreWindow is one forward pass of a strided (sliding-window) evaluation:
// the model reads ids[Start:End] from scratch, at most n_positions tokens,
// and scores the tokens at positions From..End−1 with the logits of the
// row before each. A token at position p scored in this window had
// p − Start tokens of context.
type ScoreWindow struct {
	Start, From, End int
}

// ScoreWindows plans the strided evaluation of a text of n tokens on a
// model with a context window of nPositions (the strided evaluation of
// Hugging Face's perplexity guide, "Perplexity of fixed-length models"):
//
//   - A text that fits (n ≤ nPositions) is one window: every token after
//     the first has all the tokens before it as context.
//   - A longer text is read in windows of nPositions tokens whose starts
//     advance by the stride, nPositions/2; the last window ends at the
//     text's last token. Each window scores only the tokens the previous
//     ones did not, so every token is scored once, and each token at
//     position p ≥ nPositions/2 has at least nPositions/2 tokens of
//     context (the tokens before it inside its window), at most
//     nPositions−1; earlier tokens have all p tokens before them.
//
// The cost is one forward pass of at most nPositions tokens per window:
// ⌈(n − nPositions)/stride⌉ + 1 passes for a longer text. Position 0 is
// never scored (nothing precedes it). The windows are returned in order;
// none for n < 2, and none for nPositions < 2, where no token can be
// scored with a token before it in its window.
func ScoreWindows(n, nPositions int) []ScoreWindow {
	if n < 2 || nPositions < 2 {
		return nil
	}
	stride := ScoreStride(nPositions)
	var out []ScoreWindow
	from := 1
	for start := 0; ; start += stride {
		end := start + nPositions
		if end >= n {
			// The last window ends at the text's end.
			start = max(n-nPositions, 0)
			out = append(out, ScoreWindow{Start: start, From: from, End: n})
			return out
		}
		out = append(out, ScoreWindow{Start: start, From: from, End: end})
		from = end
	}
}

// ScoreStride is how far the windows of ScoreWindows advance on a model with
// a context window of nPositions: half the window (at least 1), so that a
// token keeps at least nPositions/2 tokens of context.
func ScoreStride(nPositions int) int { return max(nPositions/2, 1) }

// ScoreContext is the number of tokens before position p that the model
// saw when ScoreWindows scored it: p − Start of the window that scored it,
// 0 for position 0.
func ScoreContext(windows []ScoreWindow, p int) int {
	for _, w := range windows {
		if p >= w.From && p < w.End {
			return p - w.Start
		}
	}
	return 0
}

// scoreIDs scores ids[from:] under teacher forcing with the windows of
// ScoreWindows, calling emit with each scored position, the window that
// scored it and the logits predicting it, [vocab_size] (valid only during
// the call). Positions before from are not scored, and windows that score
// none of from.. are not run. skip, if not nil, says which windows to leave
// to the caller (the prefill pass scores the last window itself). The
// passes run in ws and kc, which is reset before each (and left holding the
// last window).
func (m *Model) scoreIDs(ws *workspace, kc *KVCache, ids []int, from int, skip func(ScoreWindow) bool, emit func(pos int, w ScoreWindow, logits []float32)) error {
	V := m.Config.VocabSize
	for _, w := range ScoreWindows(len(ids), m.Config.NPositions) {
		if w.End <= from || (skip != nil && skip(w)) {
			continue
		}
		kc.Reset()
		logits, err := m.forward(ws, kc, ids[w.Start:w.End], ForwardInfo{Kind: trace.Prefill}, true, nil)
		if err != nil {
			return fmt.Errorf("score window %d..%d: %w", w.Start, w.End, err)
		}
		for pos := max(w.From, from); pos < w.End; pos++ {
			q := pos - 1 - w.Start // the row predicting pos
			emit(pos, w, logits[q*V:(q+1)*V])
		}
	}
	return nil
}
