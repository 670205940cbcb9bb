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
// probability, the entropies and the ranking, bit for bit with top-k on;
// with top-k off the same survivors, ranking and tempered
// probabilities, the final probabilities and sample entropy within 2e-12
// relative (masses summed by bucket, not in rank order), and the same
// draw except when the uniform lands within that rounding of a boundary.
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
		// With top-k off the O(V) sampler sums masses bucket by bucket
		// (bucketed selection, sample.go), not token by token in rank
		// order, so its sums differ from the full sort's by rounding: the
		// same survivors, final probabilities and sample entropy within
		// sumTol (relative), and the same draw unless the uniform lands
		// within rounding of a boundary between two tokens. With top-k on
		// both sum in rank order: bit for bit.
		exact := p.Greedy() || p.TopK > 0 && p.TopK < V
		if ra.KeptTopK != rb.KeptTopK || ra.KeptTopP != rb.KeptTopP || ra.Greedy != rb.Greedy {
			t.Fatalf("%s V=%d seed %d step %d: kept %d/%d, full sort kept %d/%d",
				where(), V, seed, step, ra.KeptTopK, ra.KeptTopP, rb.KeptTopK, rb.KeptTopP)
		}
		if ra.Chosen != rb.Chosen && (exact || !nearBoundary(rb, ra.Chosen)) {
			t.Fatalf("%s V=%d seed %d step %d: chose %d, full sort chose %d (u %v)",
				where(), V, seed, step, ra.Chosen, rb.Chosen, rb.U)
		}
		if ra.Entropy() != rb.Entropy || !close(ra.SampleEntropy, rb.SampleEntropy, exact) {
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
			if !close(ra.Final(int(id)), rb.Final(int(id)), exact) || ra.RemovedBy(int(id)) != rb.RemovedBy(int(id)) {
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

// sumTol is how far (relative) a sum of the kept masses in another order
// may be from the rank-order sum in these tests.
const sumTol = 2e-12

// close reports whether a equals b (exact), or is within sumTol of it.
func close(a, b float64, exact bool) bool {
	if exact {
		return a == b
	}
	return math.Abs(a-b) <= sumTol*math.Max(math.Abs(b), 1e-300)
}

// nearBoundary reports whether the full-sort draw's uniform lies within
// rounding (sumTol of the kept mass) of the cumulative mass at a rank
// where the choice changes from rb.Chosen to id or the other way.
func nearBoundary(rb *fullSortResult, id int) bool {
	ra := rb.rank(id)
	rc := rb.rank(rb.Chosen)
	lo, hi := min(ra, rc), max(ra, rc)
	if hi >= len(rb.Cum) {
		return false
	}
	tol := sumTol * rb.Cum[len(rb.Cum)-1]
	// Every boundary between the two ranks must be within tol of U: the
	// tokens between them hold (almost) no mass.
	for i := lo; i < hi; i++ {
		if math.Abs(rb.Cum[i]-rb.U) > tol {
			return false
		}
	}
	return true
}

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
