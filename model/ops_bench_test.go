package model

import "testing"

// BenchmarkMatmul768x3072 is one MLP up-projection of 128 rows at GPT-2
// small's width; GFLOP/s is reported.
func BenchmarkMatmul768x3072(b *testing.B) {
	T, C, OC := 128, 768, 3072
	in, w, bias, out := make([]float32, T*C), make([]float32, C*OC), make([]float32, OC), make([]float32, T*OC)
	for i := range in {
		in[i] = float32(i%7) * 0.1
	}
	for i := range w {
		w[i] = float32(i%5) * 0.01
	}
	for b.Loop() {
		matmul(out, in, w, bias, T, C, OC)
	}
	b.ReportMetric(2*float64(T*C*OC)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
