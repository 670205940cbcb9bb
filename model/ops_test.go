package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randFloats(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// TestMatmulPaths checks matmul (row blocks, single rows) and matmulTransB
// (dot products below 16 rows, transposed gemm above) against float64
// loops, on sizes with ragged edges.
func TestMatmulPaths(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range []struct{ T, C, OC int }{{1, 32, 96}, {1, 48, 1000}, {3, 20, 50}, {5, 33, 70}, {12, 8, 40}, {16, 32, 50}, {37, 64, 1000}} {
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			in, w, b := randFloats(r, s.T*s.C), randFloats(r, s.C*s.OC), randFloats(r, s.OC)
			out := make([]float32, s.T*s.OC)
			matmul(out, in, w, b, s.T, s.C, s.OC)
			wT := make([]float32, s.OC*s.C) // [OC, C]
			for c := 0; c < s.C; c++ {
				for o := 0; o < s.OC; o++ {
					wT[o*s.C+c] = w[c*s.OC+o]
				}
			}
			outT := make([]float32, s.T*s.OC)
			matmulTransB(outT, in, wT, s.T, s.C, s.OC)
			for i := 0; i < s.T; i++ {
				for o := 0; o < s.OC; o++ {
					var want float64
					for c := 0; c < s.C; c++ {
						want += float64(in[i*s.C+c]) * float64(w[c*s.OC+o])
					}
					tol := 1e-4 * math.Sqrt(float64(s.C)) * (1 + math.Abs(want))
					if d := math.Abs(float64(outT[i*s.OC+o]) - want); d > tol {
						t.Fatalf("matmulTransB[%d,%d] = %v, want %v", i, o, outT[i*s.OC+o], want)
					}
					want += float64(b[o])
					if d := math.Abs(float64(out[i*s.OC+o]) - want); d > tol {
						t.Fatalf("matmul[%d,%d] = %v, want %v", i, o, out[i*s.OC+o], want)
					}
				}
			}
		})
	}
}
