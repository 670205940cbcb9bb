package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPackBTransposed checks packB of a transposed B (the 8×8 transposing
// kernel for full 16-wide panels, the loop elsewhere) against the
// definition: panel[p·nr + j] = B(pc+p, jc+jr+j) = b[(jc+jr+j)·ldb + pc+p],
// zero past nb.
func TestPackBTransposed(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const nr = 16
	for _, kb := range []int{1, 7, 8, 13, 16, 37, 64} {
		for _, nb := range []int{5, 16, 32, 35} {
			for _, strip := range []bool{true, false} {
				t.Run(fmt.Sprintf("kb=%d/nb=%d/asm=%v", kb, nb, strip), func(t *testing.T) {
					defer func(old bool) { transposeAsm = old }(transposeAsm)
					transposeAsm = transposeAsm && strip
					pc, jc, ldb := 3, 2, kb+3+rng.IntN(5)
					b := make([]float32, (jc+nb)*ldb)
					for i := range b {
						b[i] = rng.Float32()
					}
					np := (nb + nr - 1) / nr
					dst := make([]float32, np*nr*kb)
					for i := range dst {
						dst[i] = -1
					}
					packB(dst, b, true, ldb, pc, kb, jc, nb, nr)
					for jr := 0; jr < np*nr; jr += nr {
						panel := dst[jr*kb:]
						for p := 0; p < kb; p++ {
							for j := 0; j < nr; j++ {
								want := float32(0)
								if jr+j < nb {
									want = b[(jc+jr+j)*ldb+pc+p]
								}
								if got := panel[p*nr+j]; got != want {
									t.Fatalf("panel %d, step %d, column %d: %v, want %v", jr/nr, p, j, got, want)
								}
							}
						}
					}
				})
			}
		}
	}
}
