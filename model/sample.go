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
	// argmax, and every token kept by top-k when top-k is on and not
	// greedy (with top-k off nothing more is ranked). Ranked extends it.
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
	tempered1 bool          // Tempered was computed at temperature 1
	max, sum  float64       // softmax(logits)'s max and normaliser (softmaxSum)
	massK     float64       // Σ Tempered over the top-k survivors (rank order, or by bucket when top-k is off)
	keptMass  float64       // Σ Tempered over the top-p survivors (the same order)
	cut       int           // cutNone or cutKey: how the top-p survivors are known when top-k is off
	cutK      uint32        // the rankKey of the last top-p survivor (cutKey)
	cutID     int32         // the last top-p survivor's id (cutKey)
	hm        [2048]float64 // tempered mass per bucket of the rank key's top 11 bits (top-k off)
	hc        [2048]int32   // ids per bucket
	order     []int32       // ranking scratch, [vocab_size]; Order is a prefix
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
	if r.keptTopP(id) && r.keptMass > 0 {
		return r.Tempered[id] / r.keptMass
	}
	return 0
}

// keptTopP reports whether id survives top-k and top-p (not greedy).
func (r *SampleResult) keptTopP(id int) bool {
	if r.KeptTopK == len(r.Logits) { // top-k off: the cut, if any, by key
		if r.cut == cutNone {
			return true
		}
		k := rankKey(r.Logits[id])
		return k < r.cutK || k == r.cutK && int32(id) <= r.cutID
	}
	return r.rank(id) < r.KeptTopP
}

// RemovedBy names the filter that removed id: "" when it was kept,
// otherwise "top-k" or "top-p" (or "greedy" when only the argmax remains).
func (r *SampleResult) RemovedBy(id int) string {
	switch {
	case r.Greedy:
		if id != r.Chosen {
			return "greedy"
		}
	case r.KeptTopK < len(r.Logits) && r.rank(id) >= r.KeptTopK:
		return "top-k"
	case !r.keptTopP(id):
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
// top-k (O(V); top-p and the draw then sum in rank order over it) or,
// with top-k off, a bucketed selection (O(V), no ranking) of the top-p
// cut and the draw, whose sums differ from rank-order ones by rounding.
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
			return nil, fmt.Errorf("sample: logit of token %d is %v: the model's output is not a number (weights or activations not finite)", i, l)
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
		r.keptMass, r.massK = 1, 1
		r.cut = cutNone
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
	r.cut = cutNone
	if r.KeptTopK == V {
		s.sampleUnranked(r, p.TopP, m, sum, p.Temperature)
		return r, nil
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
	r.massK = mass
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
	r.q = tm
	r.SampleEntropy = r.keptEntropy(mass)
	return r, nil
}

// keptEntropy returns −Σ q·log2 q over r.q, q = r.q[i] / mass (r.q holds
// the kept tokens' tempered masses and is overwritten): the quotients and
// logarithms four at a time (internal/vexp, the same values as / and
// math.Log2), the sum serial in r.q's order.
func (r *SampleResult) keptEntropy(mass float64) float64 {
	r.lg = resize(r.lg, len(r.q))
	vexp.Div(r.q, mass)
	vexp.Log2(r.lg, r.q)
	var h float64 // a local, kept in a register (r.SampleEntropy is memory)
	lg := r.lg[:len(r.q)]
	for i, q := range r.q {
		if q > 0 {
			h -= q * lg[i]
		}
	}
	return h
}

// Bucketed selection (top-k off). The ranking by logit is the ascending
// order of (rankKey, id); a rank prefix's mass is found without ranking
// the vocabulary: the tempered masses are summed per bucket of the key's
// top 11 bits (one pass over V), the buckets walked in rank order to the
// one where the prefix mass reaches the target, then that bucket's
// members alone are split on the next 11 bits, then the last 10, and the
// ids of one key are walked in id order. Sums run bucket by bucket (each
// bucket's members in index order), not token by token in rank order, so
// a prefix mass differs from the rank-order sum by rounding only.
const (
	cutNone = iota // every token kept (top-p off)
	cutKey         // kept: rankKey < cutK, or == cutK with id ≤ cutID
)

// sampleUnranked finishes Sample when top-k is off: the top-p cut and the
// draw by bucketed selection, the sample entropy in index order (m is
// the largest logit, sum the softmax's normaliser).
func (s *Sampler) sampleUnranked(r *SampleResult, topP, m, sum, temp float64) {
	V := len(r.Logits)
	T := r.Tempered[:V]
	r.keys = resize(r.keys, V)
	r.ids = resize(r.ids, V)
	keys := r.keys[:V]
	clear(r.hm[:])
	clear(r.hc[:])
	for i, l := range r.Logits {
		k := rankKey(l)
		keys[i] = k
		r.hm[k>>21] += T[i]
		r.hc[k>>21]++
	}
	var mass float64
	for _, m := range r.hm {
		mass += m
	}
	r.massK = mass
	r.KeptTopP = V
	if topP < 1 {
		n, last, _ := r.prefixReaching((topP-topPTolerance)*mass, false)
		if n < V {
			r.KeptTopP = n
			r.cut, r.cutK, r.cutID = cutKey, keys[last], last
		}
	}
	// One pass over the kept tokens: their mass, serially in index order
	// (on logits given in rank order, as the page's playground holds
	// them, the same sum, bit for bit, as the rank-order one; adding 0
	// for a removed token is exact), and Σ Tempered·(l − m) for the
	// entropy on four accumulators.
	var kmass float64
	var a [4]float64
	logits := r.Logits[:V]
	if r.cut == cutNone {
		i := 0
		for ; i+4 <= V; i += 4 {
			t0, t1, t2, t3 := T[i], T[i+1], T[i+2], T[i+3]
			kmass += t0
			kmass += t1
			kmass += t2
			kmass += t3
			a[0] += t0 * (float64(logits[i]) - m)
			a[1] += t1 * (float64(logits[i+1]) - m)
			a[2] += t2 * (float64(logits[i+2]) - m)
			a[3] += t3 * (float64(logits[i+3]) - m)
		}
		for ; i < V; i++ {
			kmass += T[i]
			a[0] += T[i] * (float64(logits[i]) - m)
		}
		r.massK = kmass
	} else {
		ck, cid := r.cutK, r.cutID
		for i, k := range keys {
			t := T[i] * float64(b2i(k < ck || k == ck && int32(i) <= cid))
			kmass += t
			a[i&3] += t * (float64(logits[i]) - m)
		}
	}
	r.keptMass = kmass
	u := s.rng.Float64() * kmass
	n, last, _ := r.prefixReaching(u, true)
	if n > r.KeptTopP { // rounding: u within a few ulp of the kept mass
		last = r.cutID
	}
	r.Chosen = int(last)
	// The sample entropy in bits without a logarithm per token: with
	// x = (l − m) / temp, Tempered = exp(x) / sum and q = Tempered / kmass,
	// −Σ q·ln q = ln(sum·kmass) − Σ q·x over the kept tokens (q = 0 terms
	// vanish on both sides); it differs from the per-token logarithms by
	// rounding only (exp's last bit in each x).
	sx := (a[0] + a[1]) + (a[2] + a[3])
	h := math.Log(sum*kmass) - sx/(temp*kmass)
	r.SampleEntropy = max(0, h/math.Ln2)
}

// prefixReaching returns the shortest prefix of the ranking whose
// tempered mass reaches target (≥ target, or > target when strict): its
// length n, its last id and its mass, summed bucket by bucket. When no
// prefix reaches it (target within rounding of the whole mass) the whole
// vocabulary is the prefix. It needs r.keys, r.hm and r.hc from
// sampleUnranked and overwrites r.ids.
func (r *SampleResult) prefixReaching(target float64, strict bool) (n int, last int32, cum float64) {
	reach := func(x float64) bool {
		if strict {
			return x > target
		}
		return x >= target
	}
	keys, T := r.keys, r.Tempered
	// Level 1: the buckets of the whole vocabulary.
	b, nb := -1, 0
	for d := range r.hm {
		if r.hc[d] == 0 {
			continue
		}
		b = d
		if reach(cum + r.hm[d]) {
			nb = 1
			break
		}
		cum += r.hm[d]
		n += int(r.hc[d])
	}
	if nb == 0 { // none reached: the last non-empty bucket, whole
		cum -= r.hm[b]
		n -= int(r.hc[b])
	}
	// Its members, in id order.
	// Branch-free: a bucket holds a random subset of the ids, which a
	// branch predictor cannot follow.
	ids := r.ids[:len(keys)]
	j := 0
	for i, k := range keys {
		ids[j] = int32(i)
		j += b2i(int(k>>21) == b)
	}
	ids = ids[:j]
	// Levels 2 and 3: split the members on the next bits.
	for _, lv := range [2]struct{ shift, mask uint32 }{{10, 2047}, {0, 1023}} {
		var hm [2048]float64
		var hc [2048]int32
		for _, id := range ids {
			d := keys[id] >> lv.shift & lv.mask
			hm[d] += T[id]
			hc[d]++
		}
		sb := -1
		found := false
		for d := range hm[:lv.mask+1] {
			if hc[d] == 0 {
				continue
			}
			sb = d
			if reach(cum + hm[d]) {
				found = true
				break
			}
			cum += hm[d]
			n += int(hc[d])
		}
		if !found {
			cum -= hm[sb]
			n -= int(hc[sb])
		}
		j := 0
		for _, id := range ids {
			ids[j] = id
			j += b2i(int(keys[id]>>lv.shift&lv.mask) == sb)
		}
		ids = ids[:j]
	}
	// One key: the ids rank in id order.
	for _, id := range ids {
		cum += T[id]
		n++
		if reach(cum) {
			return n, id, cum
		}
	}
	return n, ids[len(ids)-1], cum
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

// b2i is 1 for true and 0 for false (a SETcc, no branch).
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}
