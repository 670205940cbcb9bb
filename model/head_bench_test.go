package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkHeadRows times the tied output head over 12 and 128 rows
// (a recorded decode step's logit lens, a 128-token prefill's logits) on
// GPT-2 124M shapes: the blocked dot-product head beside matmulTransB;
// and "rows=11/fused", a recorded decode step's head pass (headWithRows:
// the step's row and its 11 lens rows in one pass over the head; the
// step's row among the lens rows, as the recorder's buffers allow, or
// "fused-apart" through the one-row kernel, as without room for it).
func BenchmarkHeadRows(b *testing.B) {
	C, V := 768, 50257
	rng := rand.New(rand.NewPCG(1, 1))
	w := randFloats(rng, V*C)
	for _, room := range []int{1, 0} {
		name := map[int]string{1: "rows=11/fused", 0: "rows=11/fused-apart"}[room]
		b.Run(name, func(b *testing.B) {
			in, x := randFloats(rng, C), randFloats(rng, (11+room)*C)[:11*C]
			out, xout := make([]float32, V), make([]float32, 11*V, (11+room)*V)
			var ws workspace
			b.ReportAllocs()
			for b.Loop() {
				ws.headWithRows(out, in, xout, x, matrix{f: w}, 11, C, V)
			}
		})
	}
	for _, rows := range []int{12, 128} {
		in := randFloats(rng, rows*C)
		out := make([]float32, rows*V)
		b.Run(fmt.Sprintf("rows=%d/transB", rows), func(b *testing.B) {
			for b.Loop() {
				matmulTransB(out, in, w, rows, C, V)
			}
		})
		b.Run(fmt.Sprintf("rows=%d/blocked", rows), func(b *testing.B) {
			var ws workspace
			b.ReportAllocs()
			for b.Loop() {
				ws.headRows(out, in, matrix{f: w}, rows, C, V)
			}
		})
	}
}
