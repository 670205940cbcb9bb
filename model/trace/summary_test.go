package trace_test

import (
	"math"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
)

// generated builds a trace with prompt ids and one decode step per
// generated id, whose chosen token had probability probs[i].
func generated(prompt, gen []int, probs []float64) *trace.Trace {
	tr := &trace.Trace{PromptLen: len(prompt), Steps: []trace.Step{{Kind: trace.Prefill}}}
	for _, id := range prompt {
		tr.Tokens = append(tr.Tokens, trace.Token{ID: id, Prompt: true})
	}
	for i, id := range gen {
		tr.Tokens = append(tr.Tokens, trace.Token{ID: id})
		tr.Steps = append(tr.Steps, trace.Step{Index: i + 1, Kind: trace.Decode, Next: &trace.Prediction{Chosen: trace.Candidate{ID: id, Prob: probs[i]}}})
	}
	return tr
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	rep := func(p float64, n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = p
		}
		return out
	}
	for _, tc := range []struct {
		name string
		tr   *trace.Trace
		want trace.Summary
	}{
		{"nothing generated", generated([]int{5}, nil, nil), trace.Summary{Perplexity: 1}},
		{"certain tokens", generated([]int{5}, []int{1, 2, 3}, rep(1, 3)),
			trace.Summary{Generated: 3, MeanLogProb: 0, Perplexity: 1, Distinct1: 1, Distinct2: 1}},
		// 1 2 3 1 2 3 1 2: 3 distinct of 8 ids, 3 of 7 bigrams, and of the
		// five 4-grams 1231 2312 3123 1231 2312 two repeat.
		{"a loop", generated([]int{9, 9}, []int{1, 2, 3, 1, 2, 3, 1, 2}, rep(0.5, 8)),
			trace.Summary{Generated: 8, MeanLogProb: math.Log(0.5), Perplexity: 2, Distinct1: 3.0 / 8, Distinct2: 3.0 / 7, Repetition: 2.0 / 5}},
		{"the same token", generated([]int{1}, []int{7, 7, 7, 7, 7}, []float64{0.25, 0.25, 1, 1, 0.0625}),
			trace.Summary{Generated: 5, MeanLogProb: math.Log(0.25*0.25*0.0625) / 5, Perplexity: math.Pow(2, 8.0/5), Distinct1: 1.0 / 5, Distinct2: 1.0 / 4, Repetition: 1.0 / 2}},
		{"one 4-gram cannot repeat", generated([]int{1}, []int{7, 7, 7, 7}, rep(1, 4)),
			trace.Summary{Generated: 4, Perplexity: 1, Distinct1: 1.0 / 4, Distinct2: 1.0 / 3}},
	} {
		got := trace.Summarize(tc.tr)
		near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }
		if got.Generated != tc.want.Generated || !near(got.MeanLogProb, tc.want.MeanLogProb) || !near(got.Perplexity, tc.want.Perplexity) ||
			!near(got.Distinct1, tc.want.Distinct1) || !near(got.Distinct2, tc.want.Distinct2) || !near(got.Repetition, tc.want.Repetition) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// A probability that underflowed to 0 stays finite, perplexity too.
	s := trace.Summarize(generated([]int{1}, []int{2}, []float64{0}))
	if math.IsInf(s.MeanLogProb, 0) || math.IsInf(s.Perplexity, 0) || s.MeanLogProb > -744 {
		t.Errorf("probability 0: %+v", s)
	}
}

func TestDivergence(t *testing.T) {
	t.Parallel()
	p := []float64{1, 1, 1, 1, 1}
	for _, tc := range []struct {
		name   string
		a, b   *trace.Trace
		step   int
		differ bool
	}{
		{"identical", generated([]int{1, 2}, []int{3, 4, 5}, p), generated([]int{1, 2}, []int{3, 4, 5}, p), 0, false},
		{"at the first step", generated([]int{1, 2}, []int{3, 4, 5}, p), generated([]int{1, 2}, []int{9, 4, 5}, p), 1, true},
		{"at step 3", generated([]int{1, 2}, []int{3, 4, 5, 6}, p), generated([]int{1, 2}, []int{3, 4, 6, 6}, p), 3, true},
		{"one is longer", generated([]int{1}, []int{3, 4}, p), generated([]int{1}, []int{3, 4, 5}, p), 0, false},
		{"prompts differ", generated([]int{1, 2}, []int{3}, p), generated([]int{1, 7}, []int{3}, p), 0, true},
		{"prompt lengths differ", generated([]int{1}, []int{2, 3}, p), generated([]int{1, 2}, []int{3}, p), 0, true},
	} {
		step, differ := trace.Divergence(tc.a, tc.b)
		if step != tc.step || differ != tc.differ {
			t.Errorf("%s: step %d, differ %v; want %d, %v", tc.name, step, differ, tc.step, tc.differ)
		}
		if s2, d2 := trace.Divergence(tc.b, tc.a); s2 != step || d2 != differ {
			t.Errorf("%s: not symmetric", tc.name)
		}
	}
}
