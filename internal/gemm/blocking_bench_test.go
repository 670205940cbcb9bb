package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkTune times a 128×768×1536 product (half of a prefill's MLP
// up-projection, one core's share) for several KC and MC block sizes of
// the two best kernels; it is how the blocking in gemm_amd64.go was chosen
// (see PERF.md).
func BenchmarkTune(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	m, k, n := 128, 768, 1536
	a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	for _, base := range kernels()[:2] {
		for _, kc := range []int{128, 192, 256, 384, 768} {
			for _, mc := range []int{base.mr * 4, base.mr * 11} {
				kn := *base
				kn.kc, kn.mc = kc, mc
				b.Run(fmt.Sprintf("%s/kc%d/mc%d", kn.name, kc, mc), func(b *testing.B) {
					cpuBench(b, float64(2*m*k*n), func() { mulWith(&kn, NN, c, a, bb, m, k, n, 0, n) })
				})
			}
		}
	}
}

// BenchmarkMicro times each micro-kernel alone on L1-resident panels
// (k = 256): the ceiling that packing and blocking approach.
func BenchmarkMicro(b *testing.B) {
	for _, kn := range kernels() {
		kc := 256
		a, bb, c := make([]float32, kn.mr*kc), make([]float32, kn.nr*kc), make([]float32, kn.mr*kn.nr)
		b.Run(kn.name, func(b *testing.B) {
			cpuBench(b, float64(2*kn.mr*kn.nr*kc*100), func() {
				for range 100 {
					kn.micro(kc, &a[0], &bb[0], &c[0], kn.nr)
				}
			})
		})
	}
}
