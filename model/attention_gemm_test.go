package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAttentionGemm checks the matrix-product attention (prefills) against
// a float64 evaluation of the definition, with and without earlier cache
// positions, on row counts that do and do not fill the row blocks: the
// probabilities (zero beyond each row's visible keys) and the output.
func TestAttentionGemm(t *testing.T) {
	t.Parallel()
	for _, s := range []struct{ T, past, nHead, dHead, capacity int }{
		{8, 0, 2, 16, 8}, {13, 5, 3, 8, 20}, {50, 0, 2, 64, 64}, {100, 30, 2, 32, 140}, {attentionBlock, 1, 1, 4, attentionBlock + 1},
	} {
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(uint64(s.T), uint64(s.past)))
			C, nkeys := s.nHead*s.dHead, s.past+s.T
			rnd := func(n int) []float32 {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				return x
			}
			q, kc, vc := rnd(s.T*C), rnd(s.nHead*s.capacity*s.dHead), rnd(s.nHead*s.capacity*s.dHead)
			out, att := rnd(s.T*C), rnd(s.nHead*s.T*nkeys)
			attention(out, att, q, kc, vc, s.T, s.past, s.nHead, s.dHead, s.capacity)
			for h := 0; h < s.nHead; h++ {
				for t2 := 0; t2 < s.T; t2++ {
					n := s.past + t2 + 1
					p := make([]float64, n)
					mx := math.Inf(-1)
					for j := range p {
						for i := 0; i < s.dHead; i++ {
							p[j] += float64(q[t2*C+h*s.dHead+i]) * float64(kc[(h*s.capacity+j)*s.dHead+i])
						}
						p[j] /= math.Sqrt(float64(s.dHead))
						mx = max(mx, p[j])
					}
					var sum float64
					for j := range p {
						p[j] = math.Exp(p[j] - mx)
						sum += p[j]
					}
					row := att[(h*s.T+t2)*nkeys : (h*s.T+t2+1)*nkeys]
					for j := range row {
						want := 0.0
						if j < n {
							p[j] /= sum
							want = p[j]
						}
						if math.Abs(float64(row[j])-want) > 1e-5 {
							t.Fatalf("att[%d][%d][%d] = %v, want %v", h, t2, j, row[j], want)
						}
					}
					for i := 0; i < s.dHead; i++ {
						var want float64
						for j := range p {
							want += p[j] * float64(vc[(h*s.capacity+j)*s.dHead+i])
						}
						if got := out[t2*C+h*s.dHead+i]; math.Abs(float64(got)-want) > 1e-4 {
							t.Fatalf("out[%d][%d] = %v, want %v", t2, h*s.dHead+i, got, want)
						}
					}
				}
			}
		})
	}
}
