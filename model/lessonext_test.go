package model_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

// lessonRun is a short greedy run of the default model.
func lessonRun(t *testing.T, prompt string, steps int) (*model.Model, *trace.Trace) {
	t.Helper()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: prompt, Steps: steps, Sampling: model.SamplingParams{TopP: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return m, tr
}

// TestInspect: the direct logit attribution's parts (embeddings, every
// head, every attention bias, every MLP, the final LayerNorm bias) add up
// to the logit; the attributed token is the run's greedy choice; and the
// drilled head's numbers recompute: softmax(q·k/√d) are its probabilities
// and Σ p·v its output.
func TestInspect(t *testing.T) {
	t.Parallel()
	m, tr := lessonRun(t, "The Rays of Light are refracted", 1)
	at := &model.DrillAt{Layer: 1, Head: 2, Query: tr.PromptLen - 2}
	if err := model.Inspect(m, tr, at); err != nil {
		t.Fatal(err)
	}
	a := tr.Attribution
	if nx := tr.Steps[1].Next; nx == nil || a.Token != nx.Top[0].ID {
		t.Errorf("attributed token %d is not the prefill's most likely next token", a.Token)
	}
	if d := math.Abs(a.Sum() - float64(a.Logit)); d > 1e-3*math.Max(1, math.Abs(float64(a.Logit))) {
		t.Errorf("parts sum to %.6f, logit %.6f", a.Sum(), a.Logit)
	}
	d := tr.Drill
	if d.Query != at.Query || d.Masked != 1 || len(d.Keys) != at.Query+1 {
		t.Fatalf("drill: query %d masked %d keys %d", d.Query, d.Masked, len(d.Keys))
	}
	mx := math.Inf(-1)
	for _, x := range d.Dots {
		mx = math.Max(mx, float64(x*d.Scale))
	}
	var z float64
	for _, x := range d.Dots {
		z += math.Exp(float64(x*d.Scale) - mx)
	}
	out := make([]float64, len(d.Q))
	for j, x := range d.Dots {
		p := math.Exp(float64(x*d.Scale)-mx) / z
		if math.Abs(p-float64(d.Probs[j])) > 1e-5 {
			t.Errorf("key %d: softmax %.6f, recorded %.6f", j, p, d.Probs[j])
		}
		for i := range out {
			out[i] += float64(d.Probs[j]) * float64(d.Values[j][i])
		}
	}
	for i := range out {
		if math.Abs(out[i]-float64(d.Output[i])) > 1e-4 {
			t.Errorf("output[%d]: Σ p·v = %.6f, engine %.6f", i, out[i], d.Output[i])
		}
	}
	if err := tr.Validate(); err != nil {
		t.Error(err)
	}
	if err := model.Inspect(m, tr, &model.DrillAt{Layer: 99}); err == nil {
		t.Error("a drill outside the model: no error")
	}
}

// TestMeasureCache: cached and uncached decoding give the same tokens and
// logits (to float32 rounding), and the uncached steps cost more FLOPs.
func TestMeasureCache(t *testing.T) {
	t.Parallel()
	m, tr := lessonRun(t, "The Rays of Light", 0)
	if err := model.MeasureCache(context.Background(), m, tr, 8); err != nil {
		t.Fatal(err)
	}
	cc := tr.CacheCost
	if len(cc.Steps) != 8 || !cc.SameTokens || cc.MaxLogitDiff > 1e-3 {
		t.Errorf("%d steps, same tokens %v, max |Δlogit| %g", len(cc.Steps), cc.SameTokens, cc.MaxLogitDiff)
	}
	for i, s := range cc.Steps {
		if s.Context != tr.PromptLen+i+1 || s.UncachedFLOPs <= s.CachedFLOPs {
			t.Errorf("step %d: context %d, FLOPs %d cached / %d uncached", i, s.Context, s.CachedFLOPs, s.UncachedFLOPs)
		}
	}
	if err := tr.Validate(); err != nil {
		t.Error(err)
	}
}

// TestBaselines: the n-gram models trained on the default model's own
// corpus score every prompt token after the first (finite bits), and
// every validation score is a finite, positive number of bits.
func TestBaselines(t *testing.T) {
	t.Parallel()
	m, tr := lessonRun(t, "The Rays of Light are refracted by the Prism", 0)
	if err := model.Baselines(m, tr, true); err != nil {
		t.Fatal(err)
	}
	b := tr.Baselines
	if !b.OwnCorpus || len(b.Models) != 2 || b.TrainTokens < 10000 {
		t.Fatalf("baselines: %+v", b)
	}
	for _, nm := range b.Models {
		if nm.Surprisal[0] != 0 || !(nm.ValBits > 0) || math.IsInf(nm.ValBits, 0) {
			t.Errorf("%s: surprisal[0] %g, validation %g bits", nm.Name, nm.Surprisal[0], nm.ValBits)
		}
		for i, s := range nm.Surprisal[1:] {
			if !(s >= 0) || math.IsInf(s, 0) {
				t.Errorf("%s: token %d: %g bits", nm.Name, i+1, s)
			}
		}
	}
	if err := tr.Validate(); err != nil {
		t.Error(err)
	}
}

// TestBaselinesPromptIn: Baselines says which split of the corpus holds
// the prompt verbatim (white space aside), so that lesson 4 can say
// whether the models were trained on the sentence they are compared on.
func TestBaselinesPromptIn(t *testing.T) {
	t.Parallel()
	_, val, err := corpus.Mix(model.BaselineCorpusSeed)
	if err != nil {
		t.Fatal(err)
	}
	train, err := corpus.MixBaselineTrain(model.BaselineCorpusSeed)
	if err != nil {
		t.Fatal(err)
	}
	// A run of words from the validation split that the training split
	// does not hold.
	words := strings.Fields(val)
	held := ""
	for i := 0; i+8 < len(words) && held == ""; i += 97 {
		if c := strings.Join(words[i:i+8], " "); !strings.Contains(strings.Join(strings.Fields(train), " "), c) {
			held = c
		}
	}
	if held == "" {
		t.Fatal("no validation passage absent from the training split")
	}
	for _, tc := range []struct{ prompt, want string }{
		{"In the beginning God created the heaven and the earth.", trace.PromptInTrain},
		{"In the beginning God created\nthe   heaven", trace.PromptInTrain}, // white space aside
		{held, trace.PromptInValidation},
		{"When the Rays of Light fall upon the Prism, they are refracted", trace.PromptInNeither},
	} {
		m, tr := lessonRun(t, tc.prompt, 0)
		if err := model.Baselines(m, tr, true); err != nil {
			t.Fatal(err)
		}
		if got := tr.Baselines.PromptIn; got != tc.want {
			t.Errorf("%.40q: prompt_in %q, want %q", tc.prompt, got, tc.want)
		}
		if err := tr.Validate(); err != nil {
			t.Error(err)
		}
	}
	m, tr := lessonRun(t, "The light", 0)
	if err := model.Baselines(m, tr, true); err != nil {
		t.Fatal(err)
	}
	tr.Baselines.PromptIn = "somewhere"
	if err := tr.Validate(); err == nil || !strings.Contains(err.Error(), "prompt_in") {
		t.Errorf("Validate of prompt_in \"somewhere\": %v", err)
	}
}
