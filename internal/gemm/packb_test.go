package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPackB checks packB (the assembly for full 16-wide panels:
// packT8's 8×8 transposes, packN16's moves; the loops elsewhere) against
// the definition: panel[p·nr + j] = B(pc+p, jc+jr+j), zero past nb, for a
// transposed B, b[(jc+jr+j)·ldb + pc+p], and a plain one, b[(pc+p)·ldb +
// jc+jr+j].
func TestPackB(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const nr = 16
	for _, kb := range []int{1, 7, 8, 13, 16, 37, 64} {
		for _, nb := range []int{5, 16, 32, 35} {
			for _, c := range []struct{ trans, asm bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
				trans, strip := c.trans, c.asm
				t.Run(fmt.Sprintf("kb=%d/nb=%d/trans=%v/asm=%v", kb, nb, trans, strip), func(t *testing.T) {
					defer func(old bool) { packAsm = old }(packAsm)
					packAsm = packAsm && strip
					pc, jc := 3, 2
					rows, ldb := jc+nb, pc+kb+rng.IntN(5) // stored B, transposed
					if !trans {
						rows, ldb = pc+kb, jc+nb+rng.IntN(5)
					}
					b := make([]float32, rows*ldb)
					for i := range b {
						b[i] = rng.Float32()
					}
					np := (nb + nr - 1) / nr
					dst := make([]float32, np*nr*kb)
					for i := range dst {
						dst[i] = -1
					}
					packB(dst, b, trans, ldb, pc, kb, jc, nb, nr)
					for jr := 0; jr < np*nr; jr += nr {
						panel := dst[jr*kb:]
						for p := 0; p < kb; p++ {
							for j := 0; j < nr; j++ {
								want := float32(0)
								if jr+j < nb && trans {
									want = b[(jc+jr+j)*ldb+pc+p]
								} else if jr+j < nb {
									want = b[(pc+p)*ldb+jc+jr+j]
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
