package model_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

func generatedIDs(tr *trace.Trace) []int {
	var ids []int
	for _, t := range tr.Tokens[tr.PromptLen:] {
		ids = append(ids, t.ID)
	}
	return ids
}

// TestCompare on the default model: every setting × seed gives a complete,
// valid Trace sharing the prefill; each run equals Run with the same
// settings and seed; the same seed gives the same tokens; different seeds
// at T = 1 differ; greedy ignores the seed; the divergence step of two runs
// is where their tokens first differ.
func TestCompare(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	const prompt, steps = "The rays of light", 24
	settings := []model.SamplingParams{
		{Temperature: 0, TopP: 1},
		{Temperature: 1, TopP: 1},
		{Temperature: 0.7, TopK: 40, TopP: 0.9},
	}
	seeds := []uint64{1, 2, 3}
	done := 0
	runs, err := model.Compare(context.Background(), m, model.CompareOptions{
		Prompt: prompt, Steps: steps, Settings: settings, Seeds: seeds,
		Trace:    model.TraceOptions{TopN: 5},
		Progress: func(d, total int) { done = d },
	})
	if err != nil {
		t.Fatal(err)
	}
	if done != steps*len(settings)*len(seeds) {
		t.Errorf("progress ended at %d", done)
	}
	if len(runs) != len(settings) {
		t.Fatalf("%d rows, want %d", len(runs), len(settings))
	}
	first := runs[0][0]
	for i, row := range runs {
		if len(row) != len(seeds) {
			t.Fatalf("setting %d: %d runs, want %d", i, len(row), len(seeds))
		}
		for j, tr := range row {
			if err := tr.Validate(); err != nil {
				t.Fatalf("setting %d seed %d: %v", i, seeds[j], err)
			}
			s := tr.Settings
			if s.Temperature != settings[i].Temperature || s.TopK != settings[i].TopK || s.TopP != settings[i].TopP || s.Seed != seeds[j] || s.Steps != steps {
				t.Errorf("setting %d seed %d: trace settings %+v", i, seeds[j], s)
			}
			if len(tr.Steps) != steps+1 || !reflect.DeepEqual(tr.Steps[0], first.Steps[0]) || !reflect.DeepEqual(tr.Scores, first.Scores) {
				t.Errorf("setting %d seed %d: the prefill is not the shared one", i, seeds[j])
			}
			for k, st := range tr.Steps[1:] {
				if st.Next == nil || st.Next.Logits == nil || len(st.Next.Logits.IDs) != model.DefaultTopLogits {
					t.Fatalf("setting %d seed %d step %d: no top logits", i, seeds[j], k+1)
				}
			}
		}
	}
	// Each run is the run Run makes with its setting and seed.
	for _, c := range [][2]int{{1, 0}, {1, 2}, {2, 1}} {
		i, j := c[0], c[1]
		tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: prompt, Steps: steps, Sampling: settings[i], Seed: seeds[j], Trace: model.TraceOptions{TopN: 5}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := generatedIDs(runs[i][j]), generatedIDs(tr); !slices.Equal(got, want) {
			t.Errorf("setting %d seed %d: compare gave %v, run %v", i, seeds[j], got, want)
		}
		for k := 1; k <= steps; k++ {
			if !reflect.DeepEqual(runs[i][j].Steps[k].Next.Logits, tr.Steps[k].Next.Logits) {
				t.Fatalf("setting %d seed %d step %d: logits differ from a separate run", i, seeds[j], k)
			}
		}
	}
	// Greedy: every seed the same; T = 1: seeds differ.
	for j := range seeds {
		if step, differ := trace.Divergence(runs[0][0], runs[0][j]); differ {
			t.Errorf("greedy seed %d diverges from seed %d at step %d", seeds[j], seeds[0], step)
		}
	}
	if _, differ := trace.Divergence(runs[1][0], runs[1][1]); !differ {
		t.Errorf("T = 1 with seeds %d and %d gave the same tokens", seeds[0], seeds[1])
	}
	// The same seed again: the same tokens.
	again, err := model.Compare(context.Background(), m, model.CompareOptions{Prompt: prompt, Steps: steps, Settings: settings[1:2], Seeds: seeds[1:2]})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(generatedIDs(again[0][0]), generatedIDs(runs[1][1])) {
		t.Errorf("seed %d at T = 1 gave different tokens on a second comparison", seeds[1])
	}
	// A constructed pair: a run and its copy with step 7's token changed.
	a := runs[1][0]
	b := *a
	b.Tokens = slices.Clone(a.Tokens)
	b.Tokens[a.PromptLen+6].ID = (b.Tokens[a.PromptLen+6].ID + 1) % m.Config.VocabSize
	if step, differ := trace.Divergence(a, &b); !differ || step != 7 {
		t.Errorf("constructed pair diverges at %d (%v), want step 7", step, differ)
	}
	// The divergence step of two real runs: the tokens agree before it and
	// differ at it.
	if step, differ := trace.Divergence(runs[0][0], runs[1][0]); differ {
		ga, gb := generatedIDs(runs[0][0]), generatedIDs(runs[1][0])
		if !slices.Equal(ga[:step-1], gb[:step-1]) || ga[step-1] == gb[step-1] {
			t.Errorf("greedy vs T = 1 diverge at step %d: %v vs %v", step, ga, gb)
		}
	}
}

func TestCompareErrors(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	ok := []model.SamplingParams{{Temperature: 1, TopP: 1}}
	for _, tc := range []struct {
		name string
		opts model.CompareOptions
	}{
		{"no settings", model.CompareOptions{Prompt: "a", Seeds: []uint64{1}}},
		{"no seeds", model.CompareOptions{Prompt: "a", Settings: ok}},
		{"negative steps", model.CompareOptions{Prompt: "a", Steps: -1, Settings: ok, Seeds: []uint64{1}}},
		{"invalid setting", model.CompareOptions{Prompt: "a", Settings: []model.SamplingParams{{Temperature: -1, TopP: 1}}, Seeds: []uint64{1}}},
		{"invalid UTF-8", model.CompareOptions{Prompt: "a\xff", Settings: ok, Seeds: []uint64{1}}},
	} {
		if _, err := model.Compare(context.Background(), m, tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := model.Compare(ctx, m, model.CompareOptions{Prompt: "a", Steps: 3, Settings: ok, Seeds: []uint64{1}}); err == nil {
		t.Error("cancelled: no error")
	}
}

// TestCompareNoAttention: NoAttention leaves attention out of every step
// (and the trace stays valid); NoLogitLens and an empty KVLayers leave out
// the lens and the cache contents.
func TestCompareNoAttention(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	runs, err := model.Compare(context.Background(), m, model.CompareOptions{
		Prompt: "Light", Steps: 3, Settings: []model.SamplingParams{{Temperature: 1, TopP: 1}}, Seeds: []uint64{1, 2},
		Trace: model.TraceOptions{NoAttention: true, NoLogitLens: true, KVLayers: []int{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range runs[0] {
		if err := tr.Validate(); err != nil {
			t.Fatal(err)
		}
		for k, st := range tr.Steps {
			if st.Attention != nil || st.LogitLens != nil {
				t.Errorf("step %d: attention or logit lens recorded", k)
			}
		}
		if tr.Cache != nil || tr.Checks.MaxRowSumError > 1e-5 {
			t.Errorf("cache %d layers, row sum error %v", len(tr.Cache), tr.Checks.MaxRowSumError)
		}
	}
}
