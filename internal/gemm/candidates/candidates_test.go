package candidates

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gptviz/gptviz/internal/gemm"
	"github.com/viterin/vek/vek32"
)

// shapes are GPT-2 124M's prefill products at about 128 tokens (132: a
// multiple of the 6- and 4-row tiles) (c_attn, c_fc,
// mlp.c_proj) and the 1,024³ product of ../shared/bench.
var shapes = [][3]int{{132, 768, 2304}, {132, 768, 3072}, {132, 3072, 768}, {1020, 1024, 1024}}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

type candidate struct {
	name string
	mul  func(c, a, b, bp []float32, m, k, n int)
}

func candidatesHere() []candidate {
	cs := []candidate{
		{"gptviz-" + gemm.Kernel(), func(c, a, b, _ []float32, m, k, n int) { gemm.Gemm(c, a, b, m, k, n) }},
		{"vek", func(c, a, b, _ []float32, m, k, n int) { vek32.MatMul_Into(c, a, b, k) }},
	}
	if haveSIMD {
		cs = append(cs, candidate{"archsimd-6x16", simdMul}, candidate{"archsimd-4x16", simdMul4})
	}
	return cs
}

// TestCandidatesAgree checks every candidate's product against a float64
// reference, so that the benchmark compares products that are right.
func TestCandidatesAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m, k, n := 12, 40, 32 // 12 rows: both archsimd tiles
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	for _, cd := range candidatesHere() {
		c := make([]float32, m*n)
		cd.mul(c, a, b, make([]float32, k*16), m, k, n)
		for i := range m {
			for j := range n {
				var want float64
				for p := range k {
					want += float64(a[i*k+p]) * float64(b[p*n+j])
				}
				if d := math.Abs(float64(c[i*n+j]) - want); d > 1e-4*math.Max(1, math.Abs(want)) {
					t.Fatalf("%s: c[%d][%d] = %v, want %v", cd.name, i, j, c[i*n+j], want)
				}
			}
		}
	}
}

// BenchmarkCandidates reports GFLOP/s of one thread per candidate and
// shape (vek overwrites C, gemm and archsimd add to it: the same work).
func BenchmarkCandidates(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range shapes {
		m, k, n := s[0], s[1], s[2]
		a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		bp := make([]float32, k*16)
		for _, cd := range candidatesHere() {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, cd.name), func(b *testing.B) {
				for b.Loop() {
					cd.mul(c, a, bm, bp, m, k, n)
				}
				b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
