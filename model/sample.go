package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gptviz/gptviz/internal/vexp"
)

// SamplingParams choose how the next token is drawn from P(w_i | w_<i).
// The filters apply in the order temperature → top-k → top-p, as in Hugging
// Face transformers' LogitsProcessor list for generate().
type SamplingParams struct {
	// Temperature divides the logits before the softmax. 0 means greedy
	// (argmax). It must be ≥ 0; a tiny positive value approaches greedy.
	Temperature float64
	// TopK keeps only the K most probable tokens (Fan et al. 2018); 0 is off.
	TopK int
	// TopP keeps the smallest set of most probable tokens whose probability
	// mass reaches P, nucleus sampling (Holtzman et al. 2019); 1 is off.
	// Masses are compared with P up to float64 rounding (1e-9).
	TopP float64
}

// ParamError reports a run setting outside its valid range. Param is the
// setting's name as the library and the Trace's JSON spell it ("steps",
// "temperature", "top_k", "top_p"); a command line maps it to its own flag
// names. Match it with errors.As.
type ParamError struct {
	Param   string // "steps", "temperature", "top_k" or "top_p"
	Value   any    // the value given
	Problem string // what a valid value is, e.g. "must be in (0, 1] (1 means off)"
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("%s %v: %s", e.Param, e.Value, e.Problem)
}

// Validate reports the first setting that makes no sense as a *ParamError
// naming it (temperature, top_k or top_p).
func (p SamplingParams) Validate() error {
	switch {
	case math.IsNaN(p.Temperature) || math.IsInf(p.Temperature, 0) || p.Temperature < 0:
		return &ParamError{"temperature", p.Temperature, "must be a finite number ≥ 0 (0 means greedy)"}
	case p.TopK < 0:
		return &ParamError{"top_k", p.TopK, "must be ≥ 0 (0 means off)"}
	case math.IsNaN(p.TopP) || p.TopP <= 0 || p.TopP > 1:
		return &ParamError{"top_p", p.TopP, "must be in (0, 1] (1 means off)"}
	}
	return nil
}

// Greedy reports whether the settings pick the argmax.
func (p SamplingParams) Greedy() bool { return p.Temperature == 0 }

// SampleResult records what the sampler did with one distribution. Its
// slices belong to the Sampler and are overwritten by the next Sample.
//
// A step computes only what the choice needs: the argmax for greedy, the
// tempered distribution and the ranking of the kept tokens otherwise. The
// raw distribution (Probs, Entropy) and longer rankings (Ranked) are
// computed on first use, from the Sampler's own copy of the logits, and
// give the same values, bit for bit, as computing them eagerly.
type SampleResult struct {
	// Logits are the logits sampled from, [vocab_size] (the Sampler's copy,
	// valid until the next Sample).
	Logits []float32
	// Order is the first Sorted token ids ranked by logit, highest first
	// (ties by id): a prefix of the full ranking. It holds at least the
	// argmax, and every token kept by top-k when not greedy (all of them
	// when top-k is off). Ranked extends it.
	Order []int32
	// Tempered is softmax(logits / Temperature), [vocab_size]; equal to the
	// raw distribution at temperature 1, and one-hot at the argmax when
	// greedy.
	Tempered []float64
	// KeptTopK and KeptTopP are how many tokens (a prefix of Order) survive
	// the top-k filter and then the top-p filter.
	KeptTopK, KeptTopP int
	// Chosen is the sampled token id; Greedy says it was the argmax.
	Chosen int
	Greedy bool
	// SampleEntropy is the entropy of the final distribution, bits.
	SampleEntropy float64

	probs     []float64 // softmax(logits), computed by Probs
	entropy   float64
	probsOK   bool
	tempered1 bool    // Tempered was computed at temperature 1
	max, sum  float64 // softmax(logits)'s max and normaliser (softmaxSum)
	keptMass  float64 // Σ Tempered over Order[:KeptTopP], in rank order
	order     []int32 // ranking scratch, [vocab_size]; Order is a prefix
	keys, tmp []uint32
	ids       []int32
	par       softmaxPar // softmax and entropy on the pool
	hot       int        // the one index of Tempered that is non-zero, or −1
	q, lg     []float64  // the kept tokens' masses, then final probabilities, and their log2
}

// Sorted is how many ranked ids Order holds.
func (r *SampleResult) Sorted() int { return len(r.Order) }

// Ranked returns the n highest-ranked token ids (by logit, highest first,
// ties by id; n is capped at vocab_size), extending Order when needed: a
// small n costs one selection pass over the vocabulary, a large one an
// O(V) radix sort, never a comparison sort of the whole vocabulary.
func (r *SampleResult) Ranked(n int) []int32 {
	n = min(n, len(r.Logits))
	if n > len(r.Order) {
		r.rankTo(n)
	}
	return r.Order[:n]
}

// Probs returns the raw distribution softmax(logits), [vocab_size],
// computed on first use (float64, as the eager sampler did).
func (r *SampleResult) Probs() []float64 {
	if !r.probsOK {
		r.probs = resize(r.probs, len(r.Logits))
		if !r.Greedy && r.temp1() {
			// softmax(l / 1) is softmax(l), operation for operation.
			copy(r.probs, r.Tempered)
		} else {
			r.max = maxLogit(r.Logits)
			r.sum = r.par.softmax(r.probs, r.Logits, r.max, 1)
		}
		r.entropy = r.par.entropy(r.probs)
		r.probsOK = true
	}
	return r.probs
}

// softmaxSum returns the largest logit m and Σ exp(l − m) in index order:
// the normaliser of Probs, computed with it.
func (r *SampleResult) softmaxSum() (m, sum float64) {
	r.Probs()
	return r.max, r.sum
}

// Entropy returns the entropy of the raw distribution, bits.
func (r *SampleResult) Entropy() float64 {
	r.Probs()
	return r.entropy
}

// temp1 reports whether Tempered was computed at temperature 1.
func (r *SampleResult) temp1() bool { return r.tempered1 }

// Final returns the probability that the sampler used for id, after all
// filters and renormalisation: 0 for a removed token.
func (r *SampleResult) Final(id int) float64 {
	if r.Greedy {
		if id == r.Chosen {
			return 1
		}
		return 0
	}
	if rank := r.rank(id); rank < r.KeptTopP && r.keptMass > 0 {
		return r.Tempered[id] / r.keptMass
	}
	return 0
}

// RemovedBy names the filter that removed id: "" when it was kept,
// otherwise "top-k" or "top-p" (or "greedy" when only the argmax remains).
func (r *SampleResult) RemovedBy(id int) string {
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

// rank returns id's index in Order, or len(Order) (at least KeptTopK when
// not greedy) when it is ranked lower.
func (r *SampleResult) rank(id int) int {
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
type Sampler struct {
	params SamplingParams
	pcg    *rand.PCG
	rng    *rand.Rand
	res    SampleResult
}

// NewSampler validates p and seeds the generator.
func NewSampler(p SamplingParams, seed uint64) (*Sampler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	pcg := rand.NewPCG(seed, 0x67707476697a) // "gptviz"
	return &Sampler{params: p, pcg: pcg, rng: rand.New(pcg), res: SampleResult{hot: -1}}, nil
}

// Clone returns a sampler with the same settings whose generator is at
// the same point of its sequence: it draws what s would draw next, and
// neither changes the other. A live session keeps one per step to undo it.
func (s *Sampler) Clone() *Sampler {
	pcg := *s.pcg
	return &Sampler{params: s.params, pcg: &pcg, rng: rand.New(&pcg), res: SampleResult{hot: -1}}
}

// Params returns the sampler's settings.
func (s *Sampler) Params() SamplingParams { return s.params }

// Sample draws the next token from logits [vocab_size]. It fails on a
// non-finite logit. The result is valid until the next call.
//
// Cost at V = vocab_size: greedy is one pass (copy, check, argmax) and
// allocates nothing after the first call; otherwise V float64
// exponentials for the tempered distribution, plus a selection of the
// top-k (O(V)) or, with top-k off, an O(V) radix sort of the vocabulary,
// because top-p and the draw sum the masses in rank order.
func (s *Sampler) Sample(logits []float32) (*SampleResult, error) {
	V := len(logits)
	r := &s.res
	r.Logits = resize(r.Logits, V)
	copy(r.Logits, logits)
	logits = r.Logits
	r.probsOK = false
	best := 0
	var bestL float32
	if V > 0 {
		bestL = logits[0]
	}
	for i, l := range logits {
		if math.Float32bits(l)&0x7f800000 == 0x7f800000 { // NaN or ±Inf
			return nil, fmt.Errorf("sample: logit of token %d is %v", i, l)
		}
		if l > bestL {
			best, bestL = i, l
		}
	}
	r.order = resize(r.order, V)
	r.order[0] = int32(best)
	r.Order = r.order[:min(1, V)]
	if len(r.Tempered) != V {
		r.hot = -1 // a new length: clear it all before the next one-hot
	}
	r.Tempered = resize(r.Tempered, V)

	p := s.params
	r.Greedy = p.Greedy()
	r.tempered1 = false
	if r.Greedy {
		if r.hot < 0 {
			clear(r.Tempered)
		} else {
			r.Tempered[r.hot] = 0
		}
		r.Tempered[best] = 1
		r.hot = best
		r.KeptTopK, r.KeptTopP = 1, 1
		r.Chosen = best
		r.SampleEntropy = 0
		r.keptMass = 1
		return r, nil
	}
	r.hot = -1
	m := float64(logits[best])
	sum := r.par.softmax(r.Tempered, logits, m, p.Temperature)
	r.tempered1 = p.Temperature == 1
	if r.tempered1 {
		r.max, r.sum = m, sum
	}

	// top-k keeps a prefix of the ranking.
	r.KeptTopK = V
	if p.TopK > 0 && p.TopK < V {
		r.KeptTopK = p.TopK
	}
	order := r.Ranked(r.KeptTopK)
	// The kept masses in rank order, gathered once: every sum below runs
	// over them in this order.
	tm := resize(r.q, len(order))
	r.q = tm
	for i, t := range order {
		tm[i] = r.Tempered[t]
	}
	var mass float64
	for _, e := range tm {
		mass += e
	}
	// top-p keeps the shortest prefix whose renormalised mass reaches P
	// (within topPTolerance); at least one token always survives.
	r.KeptTopP = r.KeptTopK
	if p.TopP < 1 {
		var cum float64
		for i, e := range tm {
			cum += e / mass
			if cum >= p.TopP-topPTolerance {
				r.KeptTopP = i + 1
				break
			}
		}
	}
	kept := order[:r.KeptTopP]
	tm = tm[:len(kept)]
	if len(kept) < len(order) {
		mass = 0
		for _, e := range tm {
			mass += e
		}
	} // else: the same sum, in the same order, as above
	r.keptMass = mass
	u := s.rng.Float64() * mass
	r.Chosen = int(kept[len(kept)-1])
	var cum float64
	for i, e := range tm {
		cum += e
		if u < cum {
			r.Chosen = int(kept[i])
			break
		}
	}
	// −Σ q·log2 q over the kept tokens in rank order, q = Tempered / mass:
	// the quotients and logarithms four at a time (internal/vexp, the
	// same values as / and math.Log2), the sum serial.
	r.q = tm
	r.lg = resize(r.lg, len(kept))
	vexp.Div(r.q, mass)
	vexp.Log2(r.lg, r.q)
	var h float64 // a local, kept in a register (r.SampleEntropy is memory)
	lg := r.lg[:len(r.q)]
	for i, q := range r.q {
		if q > 0 {
			h -= q * lg[i]
		}
	}
	r.SampleEntropy = h
	return r, nil
}

// rankTo makes Order the n highest-ranked ids (n ≤ vocab_size): a bounded
// heap for n up to V/16, else a radix sort of every id.
func (r *SampleResult) rankTo(n int) {
	V := len(r.Logits)
	if n*16 > V {
		r.keys = resize(r.keys, V)
		r.tmp = resize(r.tmp, V)
		r.ids = resize(r.ids, V)
		radixRank(r.order, r.Logits, r.keys, r.tmp, r.ids)
		r.Order = r.order[:V]
		return
	}
	r.Order = topIDs(r.order[:n], r.Logits)
}

// topPTolerance is how far below P a cumulative mass may fall and still
// count as reaching it: the rounding error of a float64 running sum over a
// vocabulary (each addition errs by up to 2^−53 of the sum; 50,257 of
// them by under 6e-12), so that k tokens holding exactly P in real numbers
// are kept without a (k+1)-th. Any real difference in P is far larger.
// A page that recomputes the sampler must compare the same way.
const topPTolerance = 1e-9

// softmaxInto writes softmax(logits / temp) into out in float64 and returns
// its entropy in bits. temp must be > 0; logits are finite.
func softmaxInto(out []float64, logits []float32, temp float64) float64 {
	m := math.Inf(-1)
	for _, l := range logits {
		m = math.Max(m, float64(l))
	}
	var sum float64
	for i, l := range logits {
		e := math.Exp((float64(l) - m) / temp)
		out[i] = e
		sum += e
	}
	var h float64
	for i := range out {
		out[i] /= sum
		if out[i] > 0 {
			h -= out[i] * math.Log2(out[i])
		}
	}
	return h
}

// softmaxSum returns the largest of logits, m, and Σ exp(l − m) summed in
// index order: softmaxAt(l, m, sum) is then the probability that
// softmaxInto(·, logits, 1) gives a logit l, bit for bit, without filling
// a vocabulary-sized slice.
func softmaxSum(logits []float32) (m, sum float64) {
	m = maxLogit(logits)
	return m, vexp.SumExpShifted(logits, m, 1)
}

// softmaxAt is softmax's value for logit l given softmaxSum's m and sum.
func softmaxAt(l float32, m, sum float64) float64 {
	return math.Exp((float64(l)-m)/1) / sum
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
