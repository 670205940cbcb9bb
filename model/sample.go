package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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
type SampleResult struct {
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
}

// Final returns the probability that the sampler used for id, after all
// filters and renormalisation: 0 for a removed token.
func (r *SampleResult) Final(id int) float64 {
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

// rank returns id's index in Order.
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
	return &Sampler{params: p, pcg: pcg, rng: rand.New(pcg)}, nil
}

// Clone returns a sampler with the same settings whose generator is at
// the same point of its sequence: it draws what s would draw next, and
// neither changes the other. A live session keeps one per step to undo it.
func (s *Sampler) Clone() *Sampler {
	pcg := *s.pcg
	return &Sampler{params: s.params, pcg: &pcg, rng: rand.New(&pcg)}
}

// Params returns the sampler's settings.
func (s *Sampler) Params() SamplingParams { return s.params }

// Sample draws the next token from logits [vocab_size]. It fails on a
// non-finite logit. The result is valid until the next call.
func (s *Sampler) Sample(logits []float32) (*SampleResult, error) {
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
	r.Chosen = int(kept[len(kept)-1])
	var cum float64
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

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
