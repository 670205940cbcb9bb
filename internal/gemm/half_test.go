package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gptviz/gptviz/internal/gemv"
)

// TestMulColsHalf: a product with B in 16 bits equals, bit for bit, the
// product with B widened to float32, on the packed path and the direct
// one (m < 8), for column ranges with edges and every kernel.
func TestMulColsHalf(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	old := active
	defer func() { active = old }()
	for _, kn := range []*kernel{old, goKernel} {
		active = kn
		for _, bf := range []bool{false, true} {
			for _, s := range []struct{ m, k, n, j0, j1 int }{
				{1, 7, 33, 0, 33}, {3, 40, 100, 16, 77}, {8, 40, 100, 0, 100}, {9, 300, 70, 5, 70}, {17, 257, 1100, 64, 1100}, {70, 33, 129, 0, 64},
			} {
				t.Run(fmt.Sprintf("%s bf16=%v %+v", kn.name, bf, s), func(t *testing.T) {
					a := make([]float32, s.m*s.k)
					for i := range a {
						a[i] = float32(rng.NormFloat64())
					}
					b := gemv.Half{Bits: make([]uint16, s.k*s.n), BF16: bf}
					for i := range b.Bits {
						b.Bits[i] = uint16(rng.Uint32()) &^ 0x4000 // finite: clear the exponent's top bit
					}
					bw := make([]float32, len(b.Bits))
					gemv.Widen(bw, b)
					got, want := make([]float32, s.m*s.n), make([]float32, s.m*s.n)
					for i := range got {
						got[i] = float32(i % 7)
						want[i] = got[i]
					}
					MulColsHalf(got, a, b, s.m, s.k, s.n, s.j0, s.j1)
					MulCols(NN, want, a, bw, s.m, s.k, s.n, s.j0, s.j1)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("c[%d] = %v from 16 bits, %v widened", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}
