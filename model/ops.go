package model

import (
	"math"

	"github.com/gptviz/gptviz/internal/gemm"
	"github.com/gptviz/gptviz/internal/gemv"
	"github.com/gptviz/gptviz/internal/vexp"
)

// This file holds the numerical building blocks of the GPT-2 forward pass,
// one small function per operation, in the style of Karpathy's llm.c
// (train_gpt2.c). Every tensor is a row-major float32 slice; shapes are given
// in the comments with T = number of rows (query positions) being computed.

// parallelMin is the least amount of multiply-adds worth splitting across
// the pool's workers; below it handing out the parts costs more than it
// saves.
const parallelMin = 1 << 15

// parallelFor calls fn on disjoint ranges [lo, hi) covering [0, n), on the
// pool's workers (pool.go) and the calling goroutine when work (an
// estimate of multiply-adds) is large enough, otherwise once on the
// calling goroutine. fn must not itself call parallelFor or the pool: a
// worker waiting for parts that only workers can run would deadlock.
func parallelFor(n, work int, fn func(lo, hi int)) {
	if serial(n, work) {
		fn(0, n)
		return
	}
	decodePool.run(funcTask(fn), n, 1, work, new(poolWait))
}

// serial reports whether parallelFor runs n items of work multiply-adds
// as one part. Callers on the decode path check it before building fn: a
// closure handed to the pool escapes, and so allocates.
func serial(n, work int) bool { return n <= 1 || work < parallelMin }

// funcTask is a function as a rangeTask.
type funcTask func(lo, hi int)

func (f funcTask) runRange(lo, hi int) { f(lo, hi) }

// encoder adds token and position embeddings:
// out[t] = wte[ids[t]] + wpe[pos0+t], out [T, C].
func encoder(out []float32, ids []int, pos0 int, wte matrix, wpe []float32, C int) {
	for t, id := range ids {
		o := out[t*C : (t+1)*C]
		te := wte.row(id, C, o) // widened in place when wte is 16-bit
		pe := wpe[(pos0+t)*C : (pos0+t+1)*C]
		for i := range o {
			o[i] = te[i] + pe[i]
		}
	}
}

// layernorm normalises each row of in [T, C] to zero mean and unit variance
// and applies the gain g and bias b [C]:
// out = (x − mean) / sqrt(var + eps) · g + b, with the biased variance, as
// torch.nn.LayerNorm (Ba et al. 2016). Sums are accumulated in float64.
func layernorm(out, in, g, b []float32, T, C int, eps float64) {
	if serial(T, T*C*elementwiseCost) {
		layernormRows(out, in, g, b, 0, T, C, eps)
		return
	}
	parallelFor(T, T*C*elementwiseCost, func(lo, hi int) {
		layernormRows(out, in, g, b, lo, hi, C, eps)
	})
}

// elementwiseCost weighs a row-wise operation's elements against
// parallelFor's multiply-adds: a prefill's layer norms, GELUs and copies
// (a few hundred thousand elements each) are split across cores, a decode
// step's single rows (≤ 3,072 elements for GPT-2 124M) are not.
const elementwiseCost = 8

// layernormRows is layernorm for rows [lo, hi).
func layernormRows(out, in, g, b []float32, lo, hi, C int, eps float64) {
	for t := lo; t < hi; t++ {
		x := in[t*C : (t+1)*C]
		o := out[t*C : (t+1)*C]
		var sum float64
		for _, v := range x {
			sum += float64(v)
		}
		mean := sum / float64(C)
		var ss float64
		for _, v := range x {
			d := float64(v) - mean
			ss += d * d
		}
		rstd := 1 / math.Sqrt(ss/float64(C)+eps)
		for i, v := range x {
			o[i] = float32((float64(v)-mean)*rstd)*g[i] + b[i]
		}
	}
}

// matmul computes out = in @ w + b, in [T, C], w [C, OC] (Hugging Face
// Conv1D layout), b [OC] or nil, out [T, OC], with the shared gemm kernel.
// The output columns are split across cores, in strips of 64 (of 16 for
// a single row, a decode step).
func matmul(out, in, w, b []float32, T, C, OC int) {
	if T == 1 {
		setBias(out, b, 1, OC, 0, OC)
		parallelFor((OC+15)/16, C*OC, func(lo, hi int) {
			gemm.Cols(out, in, w, 1, C, OC, lo*16, min(hi*16, OC))
		})
		return
	}
	// Columns, not rows: each core then packs only its own part of w
	// (the large operand) and reads it once; both pack all of in. Each
	// sets its own columns to the bias first.
	parallelFor((OC+matmulStrip-1)/matmulStrip, T*C*OC, func(lo, hi int) {
		j0, j1 := lo*matmulStrip, min(hi*matmulStrip, OC)
		setBias(out, b, T, OC, j0, j1)
		gemm.MulCols(gemm.NN, out, in, w, T, C, OC, j0, j1)
	})
}

// setBias sets columns [j0, j1) of every row of out [T, OC] to b's, or to
// zero when b is nil.
func setBias(out, b []float32, T, OC, j0, j1 int) {
	for t := 0; t < T; t++ {
		o := out[t*OC+j0 : t*OC+j1]
		if b != nil {
			copy(o, b[j0:j1])
		} else {
			clear(o)
		}
	}
}

// matmulHalf is matmul with w in 16 bits: the columns are split across
// cores as matmul splits them, and gemm.MulColsHalf widens w's blocks as it
// packs them, so a prefill reads the 16-bit weights once and computes
// exactly what matmul computes on the widened w. T ≥ 2.
func matmulHalf(out, in []float32, w gemv.Half, b []float32, T, C, OC int) {
	parallelFor((OC+matmulStrip-1)/matmulStrip, T*C*OC, func(lo, hi int) {
		j0, j1 := lo*matmulStrip, min(hi*matmulStrip, OC)
		setBias(out, b, T, OC, j0, j1)
		gemm.MulColsHalf(out, in, w, T, C, OC, j0, j1)
	})
}

// matmulStrip is the column granularity of matmul's split across cores, a
// multiple of every gemm kernel's tile width so that no tile is cut.
const matmulStrip = 64

// dot returns Σ x[i]·y[i] for equal-length x and y, with four partial
// sums: gemv.Dot, the portable kernel the decode path's Go loops use.
func dot(x, y []float32) float32 { return gemv.Dot(x, y) }

// matmulTransB computes out = in @ wᵀ, in [T, C], w [OC, C], out [T, OC]:
// the tied output head, logits = h @ wteᵀ. Up to three rows take one dot
// product per output; more rows are computed as outᵀ = w @ inᵀ with the
// gemm kernel (inᵀ padded with zero columns to a multiple of 16, the
// kernel's width), splitting w's rows across cores.
func matmulTransB(out, in, w []float32, T, C, OC int) {
	if T < 4 {
		parallelFor(OC, T*C*OC, func(lo, hi int) {
			for v := lo; v < hi; v++ {
				wr := w[v*C : (v+1)*C]
				for t := 0; t < T; t++ {
					out[t*OC+v] = dot(in[t*C:(t+1)*C], wr)
				}
			}
		})
		return
	}
	Tp := (T + 15) &^ 15
	inT := make([]float32, C*Tp) // [C, Tp], columns T.. are zero
	for t := 0; t < T; t++ {
		for c, x := range in[t*C : (t+1)*C] {
			inT[c*Tp+t] = x
		}
	}
	outT := make([]float32, OC*Tp)
	parallelFor((OC+3)/4, T*C*OC, func(lo, hi int) {
		v0, v1 := lo*4, min(hi*4, OC)
		gemm.Gemm(outT[v0*Tp:v1*Tp], w[v0*C:v1*C], inT, v1-v0, C, Tp)
	})
	for v := 0; v < OC; v++ {
		for t, x := range outT[v*Tp : v*Tp+T] {
			out[t*OC+v] = x
		}
	}
}

// geluNew is GPT-2's activation, the tanh approximation of GELU
// (Hendrycks & Gimpel 2016; openai/gpt-2 model.py gelu):
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), in place. vexp.GELUTanh
// evaluates it as x/(1 + e^{−2u}) in float64 with an AVX2 kernel, within 1
// float32 ulp of the float64 tanh form (see internal/vexp/gelu.go).
func geluNew(x []float32) {
	if serial(len(x), len(x)*elementwiseCost) {
		vexp.GELUTanh(x, x)
		return
	}
	parallelFor((len(x)+63)/64, len(x)*elementwiseCost, func(lo, hi int) {
		y := x[lo*64 : min(hi*64, len(x))]
		vexp.GELUTanh(y, y)
	})
}

// geluExact is GELU in its exact erf form, 0.5·x·(1 + erf(x/√2)), used when
// config.json says activation_function "gelu".
func geluExact(x []float32) {
	if serial(len(x), len(x)*elementwiseCost) {
		geluExactRange(x)
		return
	}
	parallelFor(len(x), len(x)*elementwiseCost, func(lo, hi int) { geluExactRange(x[lo:hi]) })
}

// geluExactRange is geluExact on one core.
func geluExactRange(x []float32) {
	for i, v := range x {
		f := float64(v)
		x[i] = float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
	}
}

// residual adds in to x in place: x += in (the residual connection).
func residual(x, in []float32) {
	for i, v := range in[:len(x)] {
		x[i] += v
	}
}

// softmaxRow replaces x with softmax(x) = exp(x − max) / Σ exp(x − max).
func softmaxRow(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		x[i] = float32(e)
		sum += e
	}
	inv := 1 / sum
	for i := range x {
		x[i] = float32(float64(x[i]) * inv)
	}
}

// attention is causal multi-head self-attention over the KV cache
// (Vaswani et al. 2017, "Attention Is All You Need", eq. 1, with GPT-2's
// causal mask). For the T new query rows at cache positions past..past+T−1:
//
//	scores[h][t][j] = q[t]·k[j] / √d_head   for keys j ≤ past+t
//	att[h][t][:]    = softmax(scores[h][t][:past+t+1])  (zeros beyond)
//	out[t][h·d:(h+1)·d] = Σ_j att[h][t][j] · v[j]
//
// q is [T, C] (head h in columns h·d_head…); kc and vc are this layer's cache
// [n_head][capacity][d_head] already holding the new keys and values; att is
// [n_head][T][nkeys] with nkeys = past+T; out is [T, C].
func attention(out, att, q, kc, vc []float32, T, past, nHead, dHead, capacity int) {
	if T >= attentionGemmMin {
		attentionGemm(out, att, q, kc, vc, T, past, nHead, dHead, capacity)
		return
	}
	C := nHead * dHead
	nkeys := past + T
	scale := float32(1 / math.Sqrt(float64(dHead)))
	parallelFor(nHead*T, nHead*T*nkeys*dHead*2, func(lo, hi int) {
		for ht := lo; ht < hi; ht++ {
			h, t := ht/T, ht%T
			qh := q[t*C+h*dHead : t*C+(h+1)*dHead]
			row := att[(h*T+t)*nkeys : (h*T+t+1)*nkeys]
			kh := kc[h*capacity*dHead:]
			vh := vc[h*capacity*dHead:]
			n := past + t + 1 // keys this query may see
			for j := 0; j < n; j++ {
				row[j] = dot(qh, kh[j*dHead:(j+1)*dHead]) * scale
			}
			softmaxRow(row[:n])
			clear(row[n:])
			o := out[t*C+h*dHead : t*C+(h+1)*dHead]
			clear(o)
			for j := 0; j < n; j++ {
				gemm.Axpy(o, row[j], vh[j*dHead:(j+1)*dHead])
			}
		}
	})
}
