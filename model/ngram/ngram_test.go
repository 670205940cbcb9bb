package ngram

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// zipfStream returns a token stream with some bigram structure.
func zipfStream(n, vocab int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 1))
	z := rand.NewZipf(r, 1.3, 2, uint64(vocab-1))
	s := make([]int, n)
	for i := range s {
		if i > 0 && r.IntN(2) == 0 {
			s[i] = (s[i-1]*7 + 3) % vocab // a deterministic successor half the time
		} else {
			s[i] = int(z.Uint64())
		}
	}
	return s
}

// TestNormalised checks that every model's probabilities are positive and
// sum to 1 over the vocabulary, for contexts seen and unseen in training.
func TestNormalised(t *testing.T) {
	t.Parallel()
	const V = 23
	train := zipfStream(3000, V, 1)
	ctxs := [][]int{{}, {4}, {train[10], train[11]}, {22, 22}, {0, 21}}
	var models []Model
	for order := 1; order <= 3; order++ {
		m, err := NewAddK(order, 0.1, V, train)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	for order := 2; order <= 3; order++ {
		m, err := NewKneserNey(order, V, train)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	for _, m := range models {
		for _, ctx := range ctxs {
			var s float64
			for w := 0; w < V; w++ {
				p := m.Prob(ctx, w)
				if !(p > 0) {
					t.Errorf("%s: P(%d | %v) = %v, want > 0", m.Name(), w, ctx, p)
				}
				s += p
			}
			if math.Abs(s-1) > 1e-9 {
				t.Errorf("%s: Σ_w P(w | %v) = %.12f, want 1", m.Name(), ctx, s)
			}
		}
	}
}

// TestAddKByHand pins add-k bigram probabilities on a tiny stream.
func TestAddKByHand(t *testing.T) {
	t.Parallel()
	// Stream 0 1 0 1 0 2: bigrams (0,1)×2, (1,0)×2, (0,2)×1.
	m, err := NewAddK(2, 1, 3, []int{0, 1, 0, 1, 0, 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ctx  []int
		w    int
		want float64
	}{
		{[]int{0}, 1, (2 + 1) / (3 + 3.0)},
		{[]int{0}, 0, (0 + 1) / (3 + 3.0)},
		{[]int{2}, 1, 1 / 3.0},        // unseen context: uniform
		{nil, 0, (3 + 1) / (6 + 3.0)}, // no context: add-k unigram
	} {
		if got := m.Prob(c.ctx, c.w); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("P(%d | %v) = %v, want %v", c.w, c.ctx, got, c.want)
		}
	}
}

// TestKneserNeyByHand pins an interpolated Kneser–Ney bigram probability
// worked out on paper.
func TestKneserNeyByHand(t *testing.T) {
	t.Parallel()
	// Stream 0 1 0 1 0 2 (V = 3). Bigram counts: (0,1)=2, (1,0)=2, (0,2)=1;
	// n1 = 1, n2 = 2, so D2 = 1/(1+4) = 0.2. Continuation counts N1+(•w):
	// w=0: 1 (after 1), w=1: 1 (after 0), w=2: 1 (after 0); all once, so
	// n1 = 3, n2 = 0 and D1 falls back to 0.75. P1(w) = (1−0.75)/3 +
	// 0.75·3/3·(1/3) = 1/3 for every w.
	m, err := NewKneserNey(2, 3, []int{0, 1, 0, 1, 0, 2})
	if err != nil {
		t.Fatal(err)
	}
	// P(1 | 0) = (2 − 0.2)/3 + 0.2·2/3·(1/3).
	want := 1.8/3 + 0.2*2/3/3
	if got := m.Prob([]int{0}, 1); math.Abs(got-want) > 1e-12 {
		t.Errorf("P(1 | 0) = %v, want %v", got, want)
	}
	if d := m.Discounts(); math.Abs(d[1]-0.2) > 1e-12 {
		t.Errorf("bigram discount %v, want 0.2", d[1])
	}
}

// TestOrdersHelp checks that on text with bigram structure the bigram and
// trigram models beat the unigram model on held-out text, and that
// Baselines reports all five with Best the lowest.
func TestOrdersHelp(t *testing.T) {
	t.Parallel()
	const V = 31
	train, val := zipfStream(20000, V, 2), zipfStream(3000, V, 3)
	rs, err := Baselines(V, train, val)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 5 {
		t.Fatalf("got %d results, want 5", len(rs))
	}
	uni := rs[0].CrossEntropy
	for _, r := range rs[1:] {
		if r.CrossEntropy >= uni-0.1 {
			t.Errorf("%s: %.4f nats, not clearly below the unigram's %.4f", r.Name, r.CrossEntropy, uni)
		}
	}
	b := Best(rs)
	for _, r := range rs {
		if r.CrossEntropy < b.CrossEntropy {
			t.Errorf("Best = %s (%.4f) but %s has %.4f", b.Name, b.CrossEntropy, r.Name, r.CrossEntropy)
		}
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		err  error
	}{
		{"order 0", func() error { _, err := NewAddK(0, 1, 5, []int{1}); return err }()},
		{"order 4", func() error { _, err := NewKneserNey(4, 5, []int{1}); return err }()},
		{"KN unigram", func() error { _, err := NewKneserNey(1, 5, []int{1}); return err }()},
		{"k = 0", func() error { _, err := NewAddK(2, 0, 5, []int{1}); return err }()},
		{"token ≥ vocab", func() error { _, err := NewAddK(2, 1, 5, []int{1, 5}); return err }()},
		{"negative token", func() error { _, err := NewKneserNey(2, 5, []int{-1}); return err }()},
	} {
		if !errors.Is(c.err, ErrInput) {
			t.Errorf("%s: error %v, want ErrInput", c.name, c.err)
		}
	}
	m, _ := NewAddK(1, 1, 5, []int{1, 2})
	if ce := CrossEntropy(m, []int{1}); !math.IsNaN(ce) {
		t.Errorf("CrossEntropy of a one-token stream = %v, want NaN", ce)
	}
}
