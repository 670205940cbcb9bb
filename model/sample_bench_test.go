package model

import (
	"math/rand/v2"
	"testing"
)

// benchLogits returns V normal logits (std 3), a GPT-2-like spread.
func benchLogits(V int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	l := make([]float32, V)
	for i := range l {
		l[i] = float32(rng.NormFloat64() * 3)
	}
	return l
}

// BenchmarkSample times one draw at V = 50,257 for greedy, temperature 1
// (top-k off: an O(V) radix ranking) and top-k 40 / top-p 0.95, each beside
// the full-sort sampler it replaced (sub-benchmark "fullsort"), so one run
// gives the ratio: go test ./model -run '^$' -bench 'Sample$' -benchtime 50x
func BenchmarkSample(b *testing.B) {
	l := benchLogits(50257, 1)
	for _, tc := range []struct {
		name string
		p    SamplingParams
	}{
		{"greedy", SamplingParams{Temperature: 0, TopP: 1}},
		{"t1", SamplingParams{Temperature: 1, TopP: 1}},
		{"k40p95", SamplingParams{Temperature: 0.8, TopK: 40, TopP: 0.95}},
	} {
		b.Run(tc.name+"/fullsort", func(b *testing.B) {
			s, _ := newFullSortSampler(tc.p, 1)
			for b.Loop() {
				if _, err := s.Sample(l); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/ov", func(b *testing.B) {
			s, _ := NewSampler(tc.p, 1)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sample(l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
