package model

// The sampler as it was before issue 15: a comparison sort of the whole
// vocabulary and every distribution computed eagerly. TestSampleMatchesFullSort
// checks that the O(V) sampler gives the same results (bit for bit with
// top-k on; within rounding with top-k off, see checkSameAsFullSort).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

type fullSortResult struct {
	// Logits are the logits sampled from, [vocab_size] (a view of the
	// caller's slice).
	Logits []float32
	// Order is every token id sorted by logit, highest first (ties by id).
	Order []int32
	// Probs is the raw distribution softmax(logits), [vocab_size].
	Probs []float64
	// Tempered is softmax(logits / Temperature), [vocab_size]; equal to
	// Probs at temperature 1, and one-hot at the argmax when greedy.
	Tempered []float64
	// KeptTopK and KeptTopP are how many tokens (a prefix of Order) survive
	// the top-k filter and then the top-p filter.
	KeptTopK, KeptTopP int
	// Chosen is the sampled token id; Greedy says it was the argmax.
	Chosen int
	Greedy bool
	// Entropy of Probs and of the final distribution, bits.
	Entropy, SampleEntropy float64
	// U is the draw's uniform scaled by the kept mass, and Cum the
	// rank-order cumulative kept masses it was compared with.
	U   float64
	Cum []float64
}

// Final returns the probability that the sampler used for id, after all
// filters and renormalisation: 0 for a removed token.
func (r *fullSortResult) Final(id int) float64 {
	if r.Greedy {
		if id == r.Chosen {
			return 1
		}
		return 0
	}
	var mass float64
	for _, t := range r.Order[:r.KeptTopP] {
		mass += r.Tempered[t]
	}
	if rank := r.rank(id); rank < r.KeptTopP && mass > 0 {
		return r.Tempered[id] / mass
	}
	return 0
}

// RemovedBy names the filter that removed id: "" when it was kept,
// otherwise "top-k" or "top-p" (or "greedy" when only the argmax remains).
func (r *fullSortResult) RemovedBy(id int) string {
	rank := r.rank(id)
	switch {
	case r.Greedy && id != r.Chosen:
		return "greedy"
	case rank >= r.KeptTopK:
		return "top-k"
	case rank >= r.KeptTopP:
		return "top-p"
	}
	return ""
}

// rank returns id's index in Order.
func (r *fullSortResult) rank(id int) int {
	for i, t := range r.Order {
		if int(t) == id {
			return i
		}
	}
	return len(r.Order)
}

// Sampler draws tokens with fixed SamplingParams from a seeded PCG
// generator (math/rand/v2), so the same seed and settings give the same
// tokens on every run.
type fullSortSampler struct {
	params SamplingParams
	rng    *rand.Rand
	res    fullSortResult
}

// NewSampler validates p and seeds the generator.
func newFullSortSampler(p SamplingParams, seed uint64) (*fullSortSampler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &fullSortSampler{params: p, rng: rand.New(rand.NewPCG(seed, 0x67707476697a))}, nil // "gptviz"
}

// Params returns the sampler's settings.

// Sample draws the next token from logits [vocab_size]. It fails on a
// non-finite logit. The result is valid until the next call.
func (s *fullSortSampler) Sample(logits []float32) (*fullSortResult, error) {
	V := len(logits)
	r := &s.res
	r.Logits = logits
	r.Order = resize(r.Order, V)
	r.Probs = resize(r.Probs, V)
	r.Tempered = resize(r.Tempered, V)
	for i, l := range logits {
		if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
			return nil, fmt.Errorf("sample: logit of token %d is %v", i, l)
		}
		r.Order[i] = int32(i)
	}
	slices.SortFunc(r.Order, func(a, b int32) int {
		switch la, lb := logits[a], logits[b]; {
		case la > lb:
			return -1
		case la < lb:
			return 1
		}
		return int(a - b)
	})
	r.Entropy = softmaxInto(r.Probs, logits, 1)

	p := s.params
	r.Greedy = p.Greedy()
	if r.Greedy {
		clear(r.Tempered)
		r.Tempered[r.Order[0]] = 1
		r.KeptTopK, r.KeptTopP = 1, 1
		r.Chosen = int(r.Order[0])
		r.SampleEntropy = 0
		return r, nil
	}
	softmaxInto(r.Tempered, logits, p.Temperature)

	// top-k keeps a prefix of Order.
	r.KeptTopK = V
	if p.TopK > 0 && p.TopK < V {
		r.KeptTopK = p.TopK
	}
	var mass float64
	for _, t := range r.Order[:r.KeptTopK] {
		mass += r.Tempered[t]
	}
	// top-p keeps the shortest prefix whose renormalised mass reaches P
	// (within topPTolerance); at least one token always survives.
	r.KeptTopP = r.KeptTopK
	if p.TopP < 1 {
		var cum float64
		for i, t := range r.Order[:r.KeptTopK] {
			cum += r.Tempered[t] / mass
			if cum >= p.TopP-topPTolerance {
				r.KeptTopP = i + 1
				break
			}
		}
	}
	kept := r.Order[:r.KeptTopP]
	mass = 0
	for _, t := range kept {
		mass += r.Tempered[t]
	}
	u := s.rng.Float64() * mass
	r.U = u
	r.Cum = r.Cum[:0]
	r.Chosen = int(kept[len(kept)-1])
	var cum float64
	for _, t := range kept {
		cum += r.Tempered[t]
		r.Cum = append(r.Cum, cum)
	}
	cum = 0
	for _, t := range kept {
		cum += r.Tempered[t]
		if u < cum {
			r.Chosen = int(t)
			break
		}
	}
	r.SampleEntropy = 0
	for _, t := range kept {
		if q := r.Tempered[t] / mass; q > 0 {
			r.SampleEntropy -= q * math.Log2(q)
		}
	}
	return r, nil
}

// softmaxTemp writes softmax(logits / temp) into out in float64, with the
// same operations as softmaxInto (so the same values), without the
// entropy, and returns the largest logit m and the normaliser
// Σ exp((l − m) / temp), summed in index order. temp must be > 0; logits
// are finite.
func softmaxTemp(out []float64, logits []float32, temp float64) (m, sum float64) {
	m = math.Inf(-1)
	for _, l := range logits {
		m = math.Max(m, float64(l))
	}
	for i, l := range logits {
		e := math.Exp((float64(l) - m) / temp)
		out[i] = e
		sum += e
	}
	for i := range out {
		out[i] /= sum
	}
	return m, sum
}

// entropyBits is −Σ p·log2 p over a distribution, summed in index order as
// softmaxInto does.
func entropyBits(p []float64) float64 {
	var h float64
	for _, q := range p {
		if q > 0 {
			h -= q * math.Log2(q)
		}
	}
	return h
}

// TestSoftmaxParMatchesSerial: the pool's softmax and entropy equal the
// serial loops, bit for bit.
func TestSoftmaxParMatchesSerial(t *testing.T) {
	t.Parallel()
	var par softmaxPar
	for name, logits := range equivLogits(50257, 4) {
		for _, temp := range []float64{1, 0.7, 1e-6} {
			want, got := make([]float64, len(logits)), make([]float64, len(logits))
			wm, ws := softmaxTemp(want, logits, temp)
			gm := maxLogit(logits)
			gs := par.softmax(got, logits, gm, temp)
			if wm != gm || ws != gs || par.entropy(got) != entropyBits(want) {
				t.Fatalf("%s T=%v: max %v sum %v, want %v %v", name, temp, gm, gs, wm, ws)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s T=%v: id %d: %v, want %v", name, temp, i, got[i], want[i])
				}
			}
		}
	}
}
