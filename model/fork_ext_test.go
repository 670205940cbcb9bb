package model_test

import (
	"math"
	"slices"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
)

// steps runs n decode steps and returns the tokens chosen and a copy of the
// logits after each step.
func steps(t *testing.T, r *model.Runner, n int) ([]int, [][]float32) {
	t.Helper()
	var ids []int
	var logits [][]float32
	for range n {
		res, err := r.Step()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Chosen)
		logits = append(logits, slices.Clone(r.LastLogits()))
	}
	return ids, logits
}

// TestForkEqualsFreshRun: a fork of a prefilled runner decodes exactly as
// a fresh run of the same prompt, settings and seed (bit-exact logits),
// also across the context window's end (the default model has 128
// positions; 20 + 120 steps evict and recompute); and stepping one fork
// changes neither the runner it came from nor its sibling.
func TestForkEqualsFreshRun(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	ids := m.Tokenizer.Encode("Light is reflected from the surface of the glass, and the rays")
	const n = 120
	base := model.NewRunner(m, nil, nil)
	base.Reserve(len(ids) + n)
	if err := base.Prefill(ids); err != nil {
		t.Fatal(err)
	}
	baseLogits := slices.Clone(base.LastLogits())
	for _, tc := range []struct {
		p    model.SamplingParams
		seed uint64
	}{
		{model.SamplingParams{Temperature: 0, TopP: 1}, 1},
		{model.SamplingParams{Temperature: 1, TopP: 1}, 2},
		{model.SamplingParams{Temperature: 0.7, TopK: 40, TopP: 0.9}, 3},
	} {
		sampler := func() *model.Sampler {
			s, err := model.NewSampler(tc.p, tc.seed)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		fresh := model.NewRunner(m, sampler(), nil)
		fresh.Reserve(len(ids) + n)
		if err := fresh.Prefill(ids); err != nil {
			t.Fatal(err)
		}
		wantIDs, wantLogits := steps(t, fresh, n)

		fork, err := base.Fork(sampler(), nil)
		if err != nil {
			t.Fatal(err)
		}
		sibling, _ := base.Fork(sampler(), nil)
		gotIDs, gotLogits := steps(t, fork, n)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Fatalf("%+v seed %d: fork tokens %v, fresh run %v", tc.p, tc.seed, gotIDs, wantIDs)
		}
		for k := range gotLogits {
			for i := range gotLogits[k] {
				if math.Float32bits(gotLogits[k][i]) != math.Float32bits(wantLogits[k][i]) {
					t.Fatalf("%+v seed %d: step %d logit %d: fork %v, fresh %v", tc.p, tc.seed, k+1, i, gotLogits[k][i], wantLogits[k][i])
				}
			}
		}
		if len(fork.Evictions()) == 0 {
			t.Errorf("the run never left the context window; the test misses the recompute path")
		}
		if sibIDs, _ := steps(t, sibling, n); !slices.Equal(sibIDs, wantIDs) {
			t.Fatalf("%+v seed %d: a sibling fork stepped after another gave %v, want %v", tc.p, tc.seed, sibIDs, wantIDs)
		}
		if !slices.Equal(base.Tokens(), ids) || !slices.Equal(base.LastLogits(), baseLogits) || base.Cache().Len != len(ids) {
			t.Fatalf("forks changed the runner they came from: %d tokens, cache %d", len(base.Tokens()), base.Cache().Len)
		}
	}
	if _, err := model.NewRunner(m, nil, nil).Fork(nil, nil); err == nil {
		t.Error("Fork before Prefill succeeded")
	}
}
