package main

import (
	"math"
	"testing"

	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/defaultmodel"
)

// TestStridedLoss checks stridedLoss against token-by-token scoring, each
// token from a forward pass of its own over the context its window gives it:
// with stride 1 min(i, n_positions) tokens, with stride n_positions the
// tokens since its window began (modelLoss), and strides between.
func TestStridedLoss(t *testing.T) {
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	_, val, err := corpus.Opticks(1)
	if err != nil {
		t.Fatal(err)
	}
	T := m.Config.NPositions
	ids := m.Tokenizer.Encode(val)[:2*T+40]
	// tokenLoss is −ln P(ids[i] | ids[from:i]), from a forward pass of its own.
	memo := map[[2]int]float64{}
	tokenLoss := func(from, i int) float64 {
		if l, ok := memo[[2]int{from, i}]; ok {
			return l
		}
		logits, err := m.Logits(ids[from:i])
		if err != nil {
			t.Fatal(err)
		}
		V := m.Config.VocabSize
		row := logits[(i-from-1)*V:]
		l := logSumExp(row[:V]) - float64(row[ids[i]])
		memo[[2]int{from, i}] = l
		return l
	}
	// want is the mean loss when token i is scored by the first window
	// (begin k·stride, k ≥ 0) whose n_positions inputs reach ids[i-1].
	want := func(stride int) float64 {
		var sum float64
		for i := 1; i < len(ids); i++ {
			k := max(0, (i-T+stride-1)/stride)
			sum += tokenLoss(k*stride, i)
		}
		return sum / float64(len(ids)-1)
	}
	for _, stride := range []int{1, 48, T / 2, T} {
		got, err := stridedLoss(m, ids, stride)
		if err != nil {
			t.Fatal(err)
		}
		if w := want(stride); math.Abs(got-w) > 1e-4 {
			t.Errorf("stride %d: %.6f nats/token, token by token %.6f", stride, got, w)
		}
	}
	windows, _ := stridedLoss(m, ids, T)
	if got, err := modelLoss(m, ids); err != nil || got != windows {
		t.Errorf("modelLoss = %.6f, %v; want stride %d's %.6f", got, err, T, windows)
	}
	for _, bad := range []int{0, T + 1} {
		if _, err := stridedLoss(m, ids, bad); err == nil {
			t.Errorf("stride %d: no error", bad)
		}
	}
	if _, err := stridedLoss(m, ids[:1], 1); err == nil {
		t.Error("one token: no error")
	}
}
