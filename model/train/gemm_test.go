package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestGemm checks the kernel (assembly tiles plus Go edges) against a
// float64 triple loop, on shapes with and without ragged edges.
func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ m, k, n int }{
		{4, 16, 16}, {8, 32, 48}, {5, 7, 17}, {1, 1, 1}, {13, 64, 35}, {64, 128, 384},
	} {
		a, b := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n)
		c := randSlice(r, s.m*s.n)
		want := make([]float64, len(c))
		for i := 0; i < s.m; i++ {
			for j := 0; j < s.n; j++ {
				acc := float64(c[i*s.n+j])
				for p := 0; p < s.k; p++ {
					acc += float64(a[i*s.k+p]) * float64(b[p*s.n+j])
				}
				want[i*s.n+j] = acc
			}
		}
		gemm(c, a, b, s.m, s.k, s.n)
		for i := range c {
			if d := math.Abs(float64(c[i]) - want[i]); d > 1e-4*math.Sqrt(float64(s.k))*(1+math.Abs(want[i])) {
				t.Fatalf("%dx%dx%d: c[%d] = %v, want %v", s.m, s.k, s.n, i, c[i], want[i])
			}
		}
	}
}

func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m, n := 19, 37
	src := randSlice(r, m*n)
	dst := make([]float32, m*n)
	transpose(dst, src, m, n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if dst[j*m+i] != src[i*n+j] {
				t.Fatalf("dst[%d,%d] = %v, want %v", j, i, dst[j*m+i], src[i*n+j])
			}
		}
	}
}

// BenchmarkGemm reports GFLOP/s of one Conv1D-sized product on one core.
func BenchmarkGemm(b *testing.B) {
	for _, s := range []struct {
		name    string
		m, k, n int
	}{{"1024x128x384", 1024, 128, 384}, {"1024x128x512", 1024, 128, 512}, {"1024x512x128", 1024, 512, 128}} {
		b.Run(s.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x, y, z := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
			for b.Loop() {
				gemm(z, x, y, s.m, s.k, s.n)
			}
			b.ReportMetric(float64(2*s.m*s.k*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
