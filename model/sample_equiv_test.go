package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// equivLogits returns test distributions of size V: wide and narrow
// normals, logits rounded to a coarse grid (many ties), and signed zeros.
func equivLogits(V int, seed uint64) map[string][]float32 {
	rng := rand.New(rand.NewPCG(seed, 11))
	out := map[string][]float32{}
	for _, scale := range []float64{0.1, 2, 8} {
		l := make([]float32, V)
		for i := range l {
			l[i] = float32(rng.NormFloat64() * scale)
		}
		out["normal"+string(rune('0'+int(scale)))] = l
	}
	tied := make([]float32, V)
	for i := range tied {
		tied[i] = float32(math.Round(rng.NormFloat64()*2)) / 2
	}
	out["tied"] = tied
	zeros := make([]float32, V)
	for i := range zeros {
		switch rng.IntN(3) {
		case 0:
			zeros[i] = float32(math.Copysign(0, -1))
		case 1:
			zeros[i] = -1
		}
	}
	out["zeros"] = zeros
	return out
}

// TestSampleMatchesFullSort draws several steps with each setting and seed
// from the O(V) sampler and from the full-sort sampler it replaced, and
// requires identical results: chosen ids, filter counts, every
// probability, the entropies and the ranking, bit for bit.
func TestSampleMatchesFullSort(t *testing.T) {
	t.Parallel()
	settings := []SamplingParams{
		{Temperature: 0, TopP: 1},
		{Temperature: 1, TopP: 1},
		{Temperature: 0.7, TopP: 1},
		{Temperature: 1, TopK: 40, TopP: 1},
		{Temperature: 0.8, TopK: 40, TopP: 0.95},
		{Temperature: 1.3, TopP: 0.9},
		{Temperature: 1, TopK: 1, TopP: 1},
		{Temperature: 1e-6, TopP: 1},
		{Temperature: 1, TopK: 5000, TopP: 0.5},
		{Temperature: 2, TopK: 300, TopP: 0.99},
	}
	sizes := []int{1, 7, 1000, 50257}
	if testing.Short() {
		sizes = sizes[:3]
	}
	for _, V := range sizes {
		for name, logits := range equivLogits(V, uint64(V)) {
			for _, p := range settings {
				for seed := uint64(0); seed < 3; seed++ {
					checkSameAsFullSort(t, name, p, seed, logits)
				}
			}
		}
	}
}

func checkSameAsFullSort(t *testing.T, name string, p SamplingParams, seed uint64, logits []float32) {
	t.Helper()
	V := len(logits)
	a, _ := NewSampler(p, seed)
	b, _ := newFullSortSampler(p, seed)
	for step := range 4 {
		ra, err := a.Sample(logits)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := b.Sample(logits)
		where := func() string { return name + " " + fmtParams(p) }
		if ra.Chosen != rb.Chosen || ra.KeptTopK != rb.KeptTopK || ra.KeptTopP != rb.KeptTopP || ra.Greedy != rb.Greedy {
			t.Fatalf("%s V=%d seed %d step %d: chose %d kept %d/%d, full sort chose %d kept %d/%d",
				where(), V, seed, step, ra.Chosen, ra.KeptTopK, ra.KeptTopP, rb.Chosen, rb.KeptTopK, rb.KeptTopP)
		}
		if ra.SampleEntropy != rb.SampleEntropy || ra.Entropy() != rb.Entropy {
			t.Fatalf("%s V=%d: entropies %v %v, want %v %v", where(), V, ra.Entropy(), ra.SampleEntropy, rb.Entropy, rb.SampleEntropy)
		}
		// The log-sum-exp a recorded step stores, as topLogits computed it
		// before reusing the sampler's normaliser.
		m := float64(rb.Logits[rb.Order[0]])
		var lse float64
		for _, l := range rb.Logits {
			lse += math.Exp(float64(l) - m)
		}
		if gm, gs := ra.softmaxSum(); gm+math.Log(gs) != m+math.Log(lse) {
			t.Fatalf("%s V=%d: log-sum-exp %v, want %v", where(), V, gm+math.Log(gs), m+math.Log(lse))
		}
		probs := ra.Probs()
		for i := range V {
			if probs[i] != rb.Probs[i] || ra.Tempered[i] != rb.Tempered[i] {
				t.Fatalf("%s V=%d: id %d probs %v/%v, want %v/%v", where(), V, i, probs[i], ra.Tempered[i], rb.Probs[i], rb.Tempered[i])
			}
		}
		for _, id := range rb.Order[:min(V, 50)] {
			if ra.Final(int(id)) != rb.Final(int(id)) || ra.RemovedBy(int(id)) != rb.RemovedBy(int(id)) {
				t.Fatalf("%s V=%d: id %d final %v %q, want %v %q", where(), V, id, ra.Final(int(id)), ra.RemovedBy(int(id)), rb.Final(int(id)), rb.RemovedBy(int(id)))
			}
		}
		// A short ranking first (heap selection), then the whole one.
		for _, n := range []int{1, 10, 256, V} {
			got := ra.Ranked(n)
			for i := range got {
				if got[i] != rb.Order[i] {
					t.Fatalf("%s V=%d: Ranked(%d)[%d] = %d, want %d", where(), V, n, i, got[i], rb.Order[i])
				}
			}
		}
	}
}

func fmtParams(p SamplingParams) string { return FormatSampling(p) }

// TestSoftmaxAtMatchesSoftmaxInto: the probability of one logit from
// softmaxSum's normaliser equals softmaxInto's, bit for bit.
func TestSoftmaxAtMatchesSoftmaxInto(t *testing.T) {
	t.Parallel()
	for name, logits := range equivLogits(5000, 9) {
		probs := make([]float64, len(logits))
		softmaxInto(probs, logits, 1)
		m, sum := softmaxSum(logits)
		for i, l := range logits {
			if got := softmaxAt(l, m, sum); got != probs[i] {
				t.Fatalf("%s: id %d: %v, want %v", name, i, got, probs[i])
			}
		}
	}
}

// TestSampleVocabSizeChanges: a greedy sampler over distributions of
// different sizes (shorter, then longer within the old capacity) keeps
// Tempered one-hot; a tempered one is checked for the same sizes.
func TestSampleVocabSizeChanges(t *testing.T) {
	t.Parallel()
	greedy, _ := NewSampler(SamplingParams{Temperature: 0, TopP: 1}, 1)
	tempered, _ := NewSampler(SamplingParams{Temperature: 1, TopP: 1}, 1)
	for _, s := range []*Sampler{greedy, tempered} {
		for _, V := range []int{100, 50, 100, 7, 100} {
			logits := equivLogits(V, uint64(V))["normal2"]
			r, err := s.Sample(logits)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Greedy {
				continue
			}
			var sum float64
			for _, p := range r.Tempered {
				sum += p
			}
			if len(r.Tempered) != V || sum != 1 || r.Tempered[r.Chosen] != 1 {
				t.Fatalf("V=%d: Tempered has %d entries summing to %v", V, len(r.Tempered), sum)
			}
		}
	}
}
