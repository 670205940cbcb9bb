package gemm

import (
	"fmt"
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

// TestCols checks the kernels (assembly tiles plus Go edges) against a
// float64 triple loop, on shapes with and without ragged edges, single rows
// (decode steps) and column ranges, and that columns outside the range are
// left alone.
func TestCols(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ m, k, n, j0, j1 int }{
		{4, 16, 16, 0, 16}, {8, 32, 48, 0, 48}, {5, 7, 17, 0, 17}, {1, 1, 1, 0, 1},
		{13, 64, 35, 0, 35}, {64, 128, 384, 0, 384}, {1, 768, 2304, 0, 2304},
		{1, 33, 100, 16, 80}, {3, 5, 40, 7, 39}, {6, 9, 64, 32, 64}, {2, 4, 8, 3, 3},
	} {
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			a, b := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n)
			c := randSlice(r, s.m*s.n)
			orig := append([]float32(nil), c...)
			Cols(c, a, b, s.m, s.k, s.n, s.j0, s.j1)
			for i := 0; i < s.m; i++ {
				for j := 0; j < s.n; j++ {
					got := c[i*s.n+j]
					if j < s.j0 || j >= s.j1 {
						if got != orig[i*s.n+j] {
							t.Fatalf("c[%d,%d] outside the columns changed", i, j)
						}
						continue
					}
					want := float64(orig[i*s.n+j])
					for p := 0; p < s.k; p++ {
						want += float64(a[i*s.k+p]) * float64(b[p*s.n+j])
					}
					if d := math.Abs(float64(got) - want); d > 1e-4*math.Sqrt(float64(s.k))*(1+math.Abs(want)) {
						t.Fatalf("c[%d,%d] = %v, want %v", i, j, got, want)
					}
				}
			}
		})
	}
}

func TestTranspose(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	m, n := 19, 37
	src := randSlice(r, m*n)
	dst := make([]float32, m*n)
	Transpose(dst, src, m, n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if dst[j*m+i] != src[i*n+j] {
				t.Fatalf("dst[%d,%d] = %v, want %v", j, i, dst[j*m+i], src[i*n+j])
			}
		}
	}
}

// BenchmarkGemm reports GFLOP/s of GPT-2-small-sized products on one
// core: 128 rows (a prefill) and 1 row (a decode step).
func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range []struct{ m, k, n int }{{128, 768, 3072}, {1, 768, 3072}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n), func(b *testing.B) {
			a, bb, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
			for b.Loop() {
				Gemm(c, a, bb, s.m, s.k, s.n)
			}
			b.ReportMetric(float64(2*s.m*s.k*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
