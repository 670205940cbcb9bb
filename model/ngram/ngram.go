// Package ngram implements the n-gram language models the trained
// transformer is compared with: add-k smoothed unigram, bigram and trigram
// models and interpolated Kneser–Ney bigram and trigram models (Chen &
// Goodman 1998, "An Empirical Study of Smoothing Techniques for Language
// Modeling", §2.7 and §3). They are the "Markov chains" of the lessons: their
// memory is one or two tokens, where the transformer's is its whole context.
//
// Every model is trained on a token stream and scored with CrossEntropy on
// another: the mean −ln P(w_i | w_{i−n+1} … w_{i−1}) over every token after
// the first, in nats/token, with contexts cut short at the start of the
// stream.
package ngram

import (
	"errors"
	"fmt"
	"math"
)

// Model is an n-gram language model over token ids 0…vocab_size−1.
type Model interface {
	// Prob is P(w | ctx), where ctx holds the preceding tokens (the model
	// uses at most its last Order()−1). It is positive for every w in the
	// vocabulary, and the probabilities over w sum to 1.
	Prob(ctx []int, w int) float64
	// Order is n: 1 for a unigram, 2 for a bigram, 3 for a trigram model.
	Order() int
	// Name describes the model and its smoothing, e.g. "Kneser–Ney trigram".
	Name() string
}

// ErrInput reports an unusable order, vocabulary size or token id.
var ErrInput = errors.New("ngram: bad input")

// counts holds n-gram counts keyed by the packed context and word.
type counts struct {
	vocab int
	ng    [4]map[uint64]float64 // ng[n]: count of n-grams (n = 1…3), keyed by pack
	ctx   [4]map[uint64]float64 // ctx[n]: count of (n−1)-gram contexts followed by anything
	types [4]map[uint64]float64 // types[n]: number of distinct words after each (n−1)-gram context
}

func pack(vocab int, ids ...int) uint64 {
	var k uint64 = 1 // a leading 1 keeps (0) and (0,0) apart
	for _, id := range ids {
		k = k*uint64(vocab) + uint64(id)
	}
	return k
}

func check(order, vocab int, train []int) error {
	if order < 1 || order > 3 {
		return fmt.Errorf("%w: order %d, want 1, 2 or 3", ErrInput, order)
	}
	if vocab < 1 || vocab > 1<<20 {
		return fmt.Errorf("%w: vocabulary size %d", ErrInput, vocab)
	}
	for i, id := range train {
		if id < 0 || id >= vocab {
			return fmt.Errorf("%w: token %d at position %d outside the vocabulary (%d)", ErrInput, id, i, vocab)
		}
	}
	return nil
}

// count builds counts of every n-gram up to order in train.
func count(order, vocab int, train []int) *counts {
	c := &counts{vocab: vocab}
	for n := 1; n <= order; n++ {
		c.ng[n], c.ctx[n], c.types[n] = map[uint64]float64{}, map[uint64]float64{}, map[uint64]float64{}
		for i := n - 1; i < len(train); i++ {
			g := train[i-n+1 : i+1]
			k := pack(vocab, g...)
			if c.ng[n][k] == 0 {
				c.types[n][pack(vocab, g[:n-1]...)]++
			}
			c.ng[n][k]++
			c.ctx[n][pack(vocab, g[:n-1]...)]++
		}
	}
	return c
}

// AddK is an n-gram model with add-k (Lidstone) smoothing:
// P(w | h) = (c(h w) + k) / (c(h) + k·V).
type AddK struct {
	order int
	k     float64
	c     *counts
}

// NewAddK trains an add-k model of the given order (1–3) with k > 0 on the
// token stream train. It returns ErrInput for a bad order, k, vocabulary
// size or token id.
func NewAddK(order int, k float64, vocab int, train []int) (*AddK, error) {
	if err := check(order, vocab, train); err != nil {
		return nil, err
	}
	if !(k > 0) {
		return nil, fmt.Errorf("%w: add-k smoothing needs k > 0, got %g", ErrInput, k)
	}
	return &AddK{order: order, k: k, c: count(order, vocab, train)}, nil
}

// Order is n.
func (m *AddK) Order() int { return m.order }

// Name is "add-k bigram (k=0.05)" and the like.
func (m *AddK) Name() string {
	return fmt.Sprintf("add-k %s (k=%g)", orderName(m.order), m.k)
}

// Prob is (c(h w) + k) / (c(h) + k·V) with h the last n−1 tokens of ctx
// (fewer at the start of a stream).
func (m *AddK) Prob(ctx []int, w int) float64 {
	n := min(m.order, len(ctx)+1)
	h := ctx[len(ctx)-(n-1):]
	g := append(append([]int(nil), h...), w)
	num := m.c.ng[n][pack(m.c.vocab, g...)] + m.k
	den := m.c.ctx[n][pack(m.c.vocab, h...)] + m.k*float64(m.c.vocab)
	return num / den
}

// KneserNey is an interpolated Kneser–Ney model of order 2 or 3 with one
// absolute discount per order, D = n₁/(n₁+2n₂) (n_r: the number of n-grams
// seen r times). The highest order uses counts, the lower orders
// continuation counts (the number of distinct words a token follows), and
// the unigram level is interpolated with the uniform distribution, so every
// token has a positive probability.
type KneserNey struct {
	order int
	vocab int
	d     [4]float64
	top   *counts               // raw counts at every order
	cont  [4]map[uint64]float64 // cont[n][h w]: distinct words preceding the n-gram (h w), n < order
	contH [4]map[uint64]float64 // contH[n][h]: Σ_w cont[n][h w]
	contT [4]map[uint64]float64 // contT[n][h]: distinct w with cont[n][h w] > 0
}

// NewKneserNey trains an interpolated Kneser–Ney model of order 2 or 3 on
// train. It returns ErrInput for a bad order, vocabulary size or token id,
// or a training stream too short to estimate the discounts.
func NewKneserNey(order, vocab int, train []int) (*KneserNey, error) {
	if err := check(order, vocab, train); err != nil {
		return nil, err
	}
	if order < 2 {
		return nil, fmt.Errorf("%w: Kneser–Ney needs order 2 or 3, got %d", ErrInput, order)
	}
	m := &KneserNey{order: order, vocab: vocab, top: count(order, vocab, train)}
	// Continuation counts for the lower orders: N1+(• h w).
	for n := 1; n < order; n++ {
		m.cont[n], m.contH[n], m.contT[n] = map[uint64]float64{}, map[uint64]float64{}, map[uint64]float64{}
		for k := range m.top.ng[n+1] {
			// k packs (x, h…, w); drop x to get (h…, w).
			g := unpack(vocab, k, n+1)
			hw := g[1:]
			key := pack(vocab, hw...)
			if m.cont[n][key] == 0 {
				m.contT[n][pack(vocab, hw[:n-1]...)]++
			}
			m.cont[n][key]++
			m.contH[n][pack(vocab, hw[:n-1]...)]++
		}
	}
	for n := 1; n <= order; n++ {
		var n1, n2 float64
		src := m.top.ng[n]
		if n < order {
			src = m.cont[n]
		}
		for _, v := range src {
			switch v {
			case 1:
				n1++
			case 2:
				n2++
			}
		}
		if n1 == 0 || n2 == 0 {
			m.d[n] = 0.75
		} else {
			m.d[n] = n1 / (n1 + 2*n2)
		}
	}
	return m, nil
}

func unpack(vocab int, k uint64, n int) []int {
	g := make([]int, n)
	for i := n - 1; i >= 0; i-- {
		g[i] = int(k % uint64(vocab))
		k /= uint64(vocab)
	}
	return g
}

// Order is n.
func (m *KneserNey) Order() int { return m.order }

// Name is "Kneser–Ney bigram" or "Kneser–Ney trigram".
func (m *KneserNey) Name() string { return "Kneser–Ney " + orderName(m.order) }

// Discounts returns the absolute discount of each order, index n−1.
func (m *KneserNey) Discounts() []float64 { return append([]float64(nil), m.d[1:m.order+1]...) }

// Prob is the interpolated Kneser–Ney estimate
// P(w | h) = max(c(h w) − D, 0)/c(h) + D·N₁₊(h •)/c(h) · P_lower(w | h′),
// with h′ = h without its first token, continuation counts below the top
// order and the uniform distribution below the unigram level.
func (m *KneserNey) Prob(ctx []int, w int) float64 {
	n := min(m.order, len(ctx)+1)
	return m.prob(ctx[len(ctx)-(n-1):], w, n)
}

// prob is P(w | h) at order n = len(h)+1.
func (m *KneserNey) prob(h []int, w, n int) float64 {
	V := float64(m.vocab)
	if n == 0 {
		return 1 / V
	}
	var num, den, types float64
	hk := pack(m.vocab, h...)
	g := append(append([]int(nil), h...), w)
	if n == m.order {
		num, den, types = m.top.ng[n][pack(m.vocab, g...)], m.top.ctx[n][hk], m.top.types[n][hk]
	} else {
		num, den, types = m.cont[n][pack(m.vocab, g...)], m.contH[n][hk], m.contT[n][hk]
	}
	var lower float64
	if n > 1 {
		lower = m.prob(h[1:], w, n-1)
	} else {
		lower = 1 / V
	}
	if den == 0 {
		return lower
	}
	d := m.d[n]
	return math.Max(num-d, 0)/den + d*types/den*lower
}

func orderName(n int) string {
	switch n {
	case 1:
		return "unigram"
	case 2:
		return "bigram"
	}
	return "trigram"
}

// CrossEntropy returns the mean −ln P(w_i | context) of m over stream[1:]
// (nats/token), each token's context being the tokens before it in the
// stream (at most Order()−1 of them). It returns NaN for fewer than two
// tokens.
func CrossEntropy(m Model, stream []int) float64 {
	if len(stream) < 2 {
		return math.NaN()
	}
	var s float64
	for i := 1; i < len(stream); i++ {
		lo := max(0, i-(m.Order()-1))
		s -= math.Log(m.Prob(stream[lo:i], stream[i]))
	}
	return s / float64(len(stream)-1)
}

// Result is one baseline's score.
type Result struct {
	Name         string  // e.g. "Kneser–Ney trigram"
	Order        int     // n
	K            float64 // add-k's k (0 for Kneser–Ney)
	CrossEntropy float64 // nats/token on the validation stream
}

// AddKGrid are the values of k that Baselines tries for each add-k model.
var AddKGrid = []float64{1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001}

// Baselines trains every baseline on train and scores it on val: add-k
// unigram, bigram and trigram models, each with the k of AddKGrid that
// scores best on val (which favours the baselines), and Kneser–Ney bigram
// and trigram models. Results come in that order; Best picks the lowest.
func Baselines(vocab int, train, val []int) ([]Result, error) {
	var out []Result
	for order := 1; order <= 3; order++ {
		best := Result{CrossEntropy: math.Inf(1)}
		for _, k := range AddKGrid {
			m, err := NewAddK(order, k, vocab, train)
			if err != nil {
				return nil, err
			}
			if ce := CrossEntropy(m, val); ce < best.CrossEntropy {
				best = Result{Name: "add-k " + orderName(order), Order: order, K: k, CrossEntropy: ce}
			}
		}
		out = append(out, best)
	}
	for order := 2; order <= 3; order++ {
		m, err := NewKneserNey(order, vocab, train)
		if err != nil {
			return nil, err
		}
		out = append(out, Result{Name: m.Name(), Order: order, CrossEntropy: CrossEntropy(m, val)})
	}
	return out, nil
}

// Best returns the result with the lowest cross-entropy.
func Best(rs []Result) Result {
	b := Result{CrossEntropy: math.Inf(1)}
	for _, r := range rs {
		if r.CrossEntropy < b.CrossEntropy {
			b = r
		}
	}
	return b
}
