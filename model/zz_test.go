package model

import "testing"

func BenchmarkZZPrefillReuse(b *testing.B) {
	m := getBenchModel(b)
	ids := benchIDs(128, m.Config.VocabSize)
	s, _ := NewSampler(SamplingParams{TopP: 1}, 1)
	r := NewRunner(m, s, nil)
	for b.Loop() {
		r.cache.Len = 0
		r.tokens = r.tokens[:0]
		if err := r.Prefill(ids); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tokens/s")
}
