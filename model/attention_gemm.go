package model

import (
	"math"

	"github.com/gptviz/gptviz/internal/gemm"
)

// attentionGemmMin is the number of new query rows from which attention
// computes each head's scores and weighted values as matrix products (a
// prefill) instead of one dot product per query and key.
const attentionGemmMin = 8

// attentionBlock is the number of query rows per product: row block
// [t0, t1) needs only keys [0, past+t1), so blocks skip most of the
// causally masked upper triangle.
const attentionBlock = 48

// attentionGemm computes attention (same arguments, same result up to
// float32 rounding) with the gemm kernel: per head and block of query
// rows, scores = Q_h·K_hᵀ (gemm.NT, read in place from q's head columns
// and the cache), softmax per row over its visible keys, then
// out_h = att_h·V_h written into out's head columns.
func attentionGemm(out, att, q, kc, vc []float32, T, past, nHead, dHead, capacity int) {
	C := nHead * dHead
	nkeys := past + T
	scale := float32(1 / math.Sqrt(float64(dHead)))
	clear(out[:T*C])
	parallelFor(nHead, nHead*T*nkeys*dHead*2, func(lo, hi int) {
		for h := lo; h < hi; h++ {
			kh := kc[h*capacity*dHead : (h*capacity+nkeys)*dHead]
			vh := vc[h*capacity*dHead : (h*capacity+nkeys)*dHead]
			ah := att[h*T*nkeys : (h+1)*T*nkeys]
			clear(ah)
			for t0 := 0; t0 < T; t0 += attentionBlock {
				t1 := min(t0+attentionBlock, T)
				n1 := past + t1 // keys any row of the block sees
				blk := ah[t0*nkeys:]
				gemm.MulStrided(gemm.NT, t1-t0, dHead, n1, blk, nkeys, q[t0*C+h*dHead:], C, kh, dHead)
				for t := t0; t < t1; t++ {
					row := ah[t*nkeys : (t+1)*nkeys]
					n := past + t + 1
					for j := range row[:n] {
						row[j] *= scale
					}
					softmaxRow(row[:n])
					clear(row[n:n1])
				}
				gemm.MulStrided(gemm.NN, t1-t0, n1, dHead, out[t0*C+h*dHead:], C, blk, nkeys, vh, dHead)
			}
		}
	})
}
