package model

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
)

// TestScoreWindows: the window plan of a hand-checked small case (a
// context window of 8, stride 4), and for many lengths: every token after
// the first scored exactly once, in a window of at most n_positions tokens,
// with at least min(position, n_positions − stride) tokens of context.
func TestScoreWindows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		want []ScoreWindow
	}{
		{0, nil},
		{1, nil},
		{2, []ScoreWindow{{0, 1, 2}}},
		{8, []ScoreWindow{{0, 1, 8}}},
		{9, []ScoreWindow{{0, 1, 8}, {1, 8, 9}}},
		{18, []ScoreWindow{{0, 1, 8}, {4, 8, 12}, {8, 12, 16}, {10, 16, 18}}},
		{20, []ScoreWindow{{0, 1, 8}, {4, 8, 12}, {8, 12, 16}, {12, 16, 20}}},
	} {
		if got := ScoreWindows(tc.n, 8); !slices.Equal(got, tc.want) {
			t.Errorf("ScoreWindows(%d, 8) = %v, want %v", tc.n, got, tc.want)
		}
	}
	// Hand-checked contexts for 20 tokens: 1..7 see everything before them,
	// 8..19 see 4..7 tokens.
	w := ScoreWindows(20, 8)
	wantCtx := []int{0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7}
	for p, want := range wantCtx {
		if got := ScoreContext(w, p); got != want {
			t.Errorf("ScoreContext(20 tokens, %d) = %d, want %d", p, got, want)
		}
	}
	if w := ScoreWindows(5, 1); w != nil {
		t.Errorf("ScoreWindows(5, 1) = %v, want none: one position leaves no context", w)
	}
	for _, np := range []int{2, 3, 7, 8, 128} {
		stride := ScoreStride(np)
		for n := 0; n < 5*np+3; n++ {
			scored := make([]int, n)
			for _, w := range ScoreWindows(n, np) {
				if w.End-w.Start > np || w.Start < 0 || w.From <= w.Start && w.From > 0 && w.Start > 0 || w.End > n {
					t.Fatalf("n_positions %d, %d tokens: window %+v", np, n, w)
				}
				for p := w.From; p < w.End; p++ {
					scored[p]++
					ctx := p - w.Start
					if ctx < min(p, np-stride) || ctx > np-1 || ctx < 1 {
						t.Fatalf("n_positions %d, %d tokens: position %d has context %d", np, n, p, ctx)
					}
				}
			}
			for p := 1; p < n; p++ {
				if scored[p] != 1 {
					t.Fatalf("n_positions %d, %d tokens: position %d scored %d times", np, n, p, scored[p])
				}
			}
		}
	}
}

// longPrompt returns a prompt of exactly n tokens on m.
func longPrompt(t *testing.T, m *Model, n int) (string, []int) {
	t.Helper()
	words := strings.Fields("the light of the sun falls on the water and the colours of the rainbow appear in the glass")
	var b strings.Builder
	for i := 0; ; i++ {
		b.WriteString(words[i%len(words)])
		b.WriteByte(' ')
		ids := m.Tokenizer.Encode(b.String())
		switch {
		case len(ids) == n:
			return b.String(), ids
		case len(ids) > n:
			// Trim to n tokens and check that the text says them.
			text := string(m.Tokenizer.Decode(ids[:n]))
			if got := m.Tokenizer.Encode(text); len(got) == n {
				return text, got
			}
			t.Fatalf("no prompt of exactly %d tokens", n)
		}
	}
}

// TestRunLongPromptScoredWhole: a prompt of 2.5 windows on the embedded
// default model (128 positions, stride 64) is scored whole: only the first
// token has no context; positions 1..127 see everything before them and
// positions 128..319 see 64 + position mod 64 tokens, as the windows
// [0,128) [64,192) [128,256) [192,320) say. Each score equals P(w_p) from a
// fresh forward pass over exactly the Context tokens before p: the sliding
// window gives the same scores as a full window of that context.
func TestRunLongPromptScoredWhole(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	n := m.Config.NPositions
	if n != 128 {
		t.Fatalf("the default model has %d positions; the test's numbers assume 128", n)
	}
	prompt, ids := longPrompt(t, m, 320)
	tr, err := Run(context.Background(), m, RunOptions{Prompt: prompt, Steps: 2, Sampling: SamplingParams{TopP: 1}, Trace: TraceOptions{TopN: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(tr.Scores) != 320 {
		t.Fatalf("%d scores, want 320", len(tr.Scores))
	}
	for p, s := range tr.Scores {
		want := p
		if p >= 128 {
			want = 64 + p%64
		}
		if s.Context != want || s.NoContext != (p == 0) || (p > 0 && (s.Prob <= 0 || len(s.Top) != 3)) {
			t.Fatalf("score %d: %+v, want context %d", p, s, want)
		}
	}
	if st := tr.Steps[0]; st.WindowStart != 320-128 {
		t.Errorf("prefill window starts at %d, want 192", st.WindowStart)
	}
	var prefillEvictions int
	for _, e := range tr.Evictions {
		if e.Step == 0 {
			prefillEvictions++
		}
	}
	if prefillEvictions != 192 {
		t.Errorf("%d tokens evicted before the first step, want 192", prefillEvictions)
	}
	if i := slices.IndexFunc(tr.Notes, func(n trace.Note) bool { return n.Code == trace.NotePromptWindows }); i < 0 ||
		!slices.Equal(tr.Notes[i].Args, []int{320, 128, 4, 64}) {
		t.Errorf("notes %+v, want prompt-windows 320, 128, 4, 64", tr.Notes)
	}
	// Independent check: the model reading exactly the Context tokens
	// before p gives the recorded probability.
	probs := make([]float64, m.Config.VocabSize)
	V := m.Config.VocabSize
	for _, p := range []int{1, 2, 63, 64, 127, 128, 129, 191, 192, 200, 255, 256, 257, 300, 319} {
		s := tr.Scores[p]
		logits, err := m.Logits(ids[p-s.Context : p])
		if err != nil {
			t.Fatal(err)
		}
		softmaxInto(probs, logits[(s.Context-1)*V:], 1)
		if d := math.Abs(probs[ids[p]] - s.Prob); d > 1e-5*math.Max(1, s.Prob) {
			t.Errorf("position %d (context %d): Run scored %g, a fresh pass over its context %g", p, s.Context, s.Prob, probs[ids[p]])
		}
	}
	// Model.Score uses the same windows.
	scores, err := m.Score(ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scores {
		got := tr.Scores[s.Position]
		if got.Context != s.Context || math.Abs(got.Prob-s.Prob) > 1e-6 {
			t.Fatalf("position %d: Run %g (context %d), Score %g (context %d)", s.Position, got.Prob, got.Context, s.Prob, s.Context)
		}
	}
}

// TestScoreFitsEqualsFullWindow: where the prompt fits, the windowed
// Score is the full-window forward pass, token by token.
func TestScoreFitsEqualsFullWindow(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	_, ids := longPrompt(t, m, m.Config.NPositions)
	scores, err := m.Score(ids)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := m.Logits(ids)
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config.VocabSize
	probs := make([]float64, V)
	if len(scores) != len(ids)-1 {
		t.Fatalf("%d scores for %d tokens", len(scores), len(ids))
	}
	for _, s := range scores {
		softmaxInto(probs, logits[(s.Position-1)*V:s.Position*V], 1)
		if probs[s.ID] != s.Prob || s.Context != s.Position {
			t.Fatalf("position %d: Score %g (context %d), full window %g", s.Position, s.Prob, s.Context, probs[s.ID])
		}
	}
}

// TestPlanOverflow: hand-computed costs on gpt2's window (1,024) for a
// 1,024-token prompt and 64 steps, and the run that fits.
func TestPlanOverflow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		prompt, steps int
		o             Overflow
		want          OverflowCost
	}{
		{1024, 64, OverflowSlide, OverflowCost{Evicted: 64, Recomputes: 64, Positions: 64 * 1024}},
		{1024, 64, OverflowBlock, OverflowCost{Evicted: 256, Recomputes: 1, Positions: 769}},
		{1024, 64, "", OverflowCost{Evicted: 256, Recomputes: 1, Positions: 769}},
		{1000, 24, OverflowSlide, OverflowCost{}},
		{1000, 25, OverflowSlide, OverflowCost{Evicted: 1, Recomputes: 1, Positions: 1024}},
		{5000, 1, OverflowBlock, OverflowCost{Evicted: 256, Recomputes: 1, Positions: 769}},
		// 1 recompute of 769, then 255 cached steps fill the window, then another.
		{1024, 257, OverflowBlock, OverflowCost{Evicted: 512, Recomputes: 2, Positions: 2 * 769}},
	} {
		if got := PlanOverflow(1024, tc.prompt, tc.steps, tc.o); got != tc.want {
			t.Errorf("PlanOverflow(1024, %d, %d, %q) = %+v, want %+v", tc.prompt, tc.steps, tc.o, got, tc.want)
		}
	}
}

// TestBlockEvictionCachedEqualsRecompute: after a block eviction the
// runner's logits, and those of every cached step after it, equal a fresh
// forward pass over the same window; the evictions are the oldest block,
// recorded at the step that evicted them.
func TestBlockEvictionCachedEqualsRecompute(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	n := m.Config.NPositions
	block := EvictBlock(n)
	_, ids := longPrompt(t, m, n-3)
	s, err := NewSampler(SamplingParams{Temperature: 1, TopP: 1}, 5)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(m, s, nil)
	if err := r.SetOverflow(OverflowBlock); err != nil {
		t.Fatal(err)
	}
	if err := r.Prefill(ids); err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= 3+block+2; step++ {
		if _, err := r.Step(); err != nil {
			t.Fatal(err)
		}
		d, err := r.RecomputeDiff()
		if err != nil {
			t.Fatal(err)
		}
		if d > 1e-4 {
			t.Fatalf("step %d (window from %d): cached logits differ from a recompute by %g", step, r.WindowStart(), d)
		}
		wantStart := 0
		switch {
		case step > 3+block:
			wantStart = 2 * block
		case step > 3:
			wantStart = block
		}
		if r.WindowStart() != wantStart || len(r.Evictions()) != wantStart || r.Cache().Len != len(r.Tokens())-wantStart {
			t.Fatalf("step %d: window starts at %d, %d evictions, cache %d; want start %d", step, r.WindowStart(), len(r.Evictions()), r.Cache().Len, wantStart)
		}
	}
	for i, e := range r.Evictions() {
		wantStep := 4
		if i >= block {
			wantStep = 4 + block
		}
		if e.Position != i || e.ID != r.Tokens()[i] || e.Step != wantStep {
			t.Errorf("eviction %d: %+v, want position %d at step %d", i, e, i, wantStep)
		}
	}
	if err := r.SetOverflow("sideways"); err == nil {
		t.Error(`SetOverflow("sideways") accepted`)
	}
}

// TestRunOverflowPolicies: both policies on the embedded model, with the
// window overflowing during the steps: the policy is recorded, the
// evictions, recomputes and positions are those PlanOverflow predicts, the
// note says what happened, and the cache still equals a recompute.
func TestRunOverflowPolicies(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	n := m.Config.NPositions
	prompt, ids := longPrompt(t, m, n-5)
	const steps = 45 // the window fills at step 6, and block evicts twice
	for _, o := range []Overflow{OverflowSlide, OverflowBlock} {
		tr, err := Run(context.Background(), m, RunOptions{Prompt: prompt, Steps: steps, Overflow: o, Seed: 2,
			Sampling: SamplingParams{Temperature: 1, TopP: 1}, Trace: TraceOptions{TopN: 2, NoLogitLens: true}})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		plan := PlanOverflow(n, len(ids), steps, o)
		var got OverflowCost
		for _, st := range tr.Steps {
			if st.Kind == trace.Recompute {
				got.Recomputes++
				got.Positions += int64(st.QueryStart + st.NQuery - st.WindowStart)
			}
		}
		got.Evicted = len(tr.Evictions)
		if tr.Settings.Overflow != string(o) || got != plan || plan.Recomputes == 0 {
			t.Errorf("%s: settings %q, ran %+v, PlanOverflow says %+v", o, tr.Settings.Overflow, got, plan)
		}
		if o == OverflowBlock && plan.Recomputes != 2 {
			t.Errorf("block: %d recomputes, the test wants 2", plan.Recomputes)
		}
		code := map[Overflow]string{OverflowSlide: trace.NoteEvicted, OverflowBlock: trace.NoteEvictedBlock}[o]
		if i := slices.IndexFunc(tr.Notes, func(n trace.Note) bool { return n.Code == code }); i < 0 || tr.Notes[i].Args[0] != plan.Evicted {
			t.Errorf("%s: notes %+v, want %s with %d evictions", o, tr.Notes, code, plan.Evicted)
		}
		if d := tr.Checks.CacheVsRecompute; d < 0 || d > 1e-4 {
			t.Errorf("%s: cache vs recompute %g", o, d)
		}
	}
	_, err := Run(context.Background(), m, RunOptions{Prompt: "x", Overflow: "drop", Sampling: SamplingParams{TopP: 1}})
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != "overflow" {
		t.Errorf(`Overflow "drop": %v, want a *ParamError naming overflow`, err)
	}
}

// TestRunContinuation: log2 P(continuation | prompt) is the sum of the
// per-token log-probabilities that Model.Score gives over prompt +
// continuation, also when they exceed the context window; the generated
// steps are there beside it.
func TestRunContinuation(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	long, _ := longPrompt(t, m, m.Config.NPositions-10)
	for _, tc := range []struct{ prompt, cont string }{
		{"The light of the sun", " falls on the water"},
		{"", "The light"}, // after <|endoftext|>
		{long, " and the colours of the rainbow appear in the glass of the water"}, // past the window
	} {
		tr, err := Run(context.Background(), m, RunOptions{Prompt: tc.prompt, Continuation: tc.cont, Steps: 3, Sampling: SamplingParams{TopP: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Validate(); err != nil {
			t.Fatal(err)
		}
		ct := tr.Continuation
		cont := m.Tokenizer.Encode(tc.cont)
		if ct == nil || ct.Text != tc.cont || len(ct.Tokens) != len(cont) || len(tr.Tokens) != tr.PromptLen+3 {
			t.Fatalf("%q: continuation %+v, %d tokens", tc.cont, ct, len(tr.Tokens))
		}
		all := append(idsOf(tr.Tokens[:tr.PromptLen]), cont...)
		scores, err := m.Score(all)
		if err != nil {
			t.Fatal(err)
		}
		var want float64
		for _, s := range scores[tr.PromptLen-1:] {
			want += math.Log2(s.Prob)
		}
		if math.Abs(ct.Log2Prob-want) > 1e-6*math.Max(1, -want) || math.Abs(ct.BitsPerToken+want/float64(len(cont))) > 1e-6*math.Max(1, -want) {
			t.Errorf("%q: log2 P = %g (%g bits/token), Score's sum %g", tc.cont, ct.Log2Prob, ct.BitsPerToken, want)
		}
		if tc.prompt == long && len(all) > m.Config.NPositions && ct.Scores[len(cont)-1].Context >= len(all)-1 {
			t.Errorf("past the window: the last token saw %d tokens", ct.Scores[len(cont)-1].Context)
		}
	}
	_, err := Run(context.Background(), m, RunOptions{Prompt: "x", Continuation: "bad\xff", Sampling: SamplingParams{TopP: 1}})
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != "continuation" || !strings.Contains(err.Error(), "offset 3") {
		t.Errorf("invalid UTF-8 continuation: %v, want a *ParamError naming continuation", err)
	}
}

// TestNumParamsUntiedHead: the parameter count includes an untied lm_head
// (vocab_size × n_embd more), in the Model and in the Trace.
func TestNumParamsUntiedHead(t *testing.T) {
	t.Parallel()
	base := defaultModel(t)
	c := base.Config
	if base.NumParams() != c.NumParams() {
		t.Fatalf("tied head: %d parameters, want %d", base.NumParams(), c.NumParams())
	}
	m := *base
	m.Weights.LMHead = append([]float32(nil), base.Weights.Float32().WTE...)
	want := c.NumParams() + c.VocabSize*c.NEmbd
	if m.NumParams() != want {
		t.Errorf("untied head: %d parameters, want %d", m.NumParams(), want)
	}
	tr, err := Run(context.Background(), &m, RunOptions{Prompt: "The light", Sampling: SamplingParams{TopP: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Model.NumParams != want {
		t.Errorf("trace: %d parameters, want %d", tr.Model.NumParams, want)
	}
}
