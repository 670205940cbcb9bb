package train

import (
	"math"
	"math/rand/v2"

	"github.com/gptviz/gptviz/internal/gemm"
	"github.com/gptviz/gptviz/internal/vexp"
)

// This file holds one function per operation of GPT-2, forward and backward
// side by side, in the style of Karpathy's llm.c train_gpt2.c. Shapes use
// N = batch×T rows, C = n_embd, V = vocab_size, NH = n_head, hs = d_head.
// Every backward function accumulates (+=) into its gradient outputs.

// embeddingForward writes out[b,t,:] = wte[tok[b,t],:] + wpe[t,:].
// tok is [B,T], wte [V,C], wpe [n_positions,C], out [B,T,C].
func embeddingForward(out []float32, tok []int, wte, wpe []float32, B, T, C int) {
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			o := out[(b*T+t)*C : (b*T+t+1)*C]
			we := wte[tok[b*T+t]*C : (tok[b*T+t]+1)*C]
			pe := wpe[t*C : (t+1)*C]
			for i := range o {
				o[i] = we[i] + pe[i]
			}
		}
	}
}

// embeddingBackward adds dout[b,t,:] to dwte[tok[b,t],:] and dwpe[t,:].
func embeddingBackward(dwte, dwpe, dout []float32, tok []int, B, T, C int) {
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			d := dout[(b*T+t)*C : (b*T+t+1)*C]
			we := dwte[tok[b*T+t]*C : (tok[b*T+t]+1)*C]
			pe := dwpe[t*C : (t+1)*C]
			for i, g := range d {
				we[i] += g
				pe[i] += g
			}
		}
	}
}

// layerNormForward normalises each row of inp [N,C] to zero mean and unit
// variance, then scales by w and shifts by b ([C] each):
// out = (x-μ)/sqrt(σ²+ε)·w + b, with the biased variance (Ba, Kiros &
// Hinton 2016; as torch.nn.LayerNorm). It saves μ and 1/sqrt(σ²+ε) per row
// in mean and rstd ([N]) for the backward pass.
func layerNormForward(out, mean, rstd, inp, w, b []float32, N, C int, eps float32) {
	for i := 0; i < N; i++ {
		x := inp[i*C : (i+1)*C]
		var m float32
		for _, v := range x {
			m += v
		}
		m /= float32(C)
		var s float32
		for _, v := range x {
			d := v - m
			s += d * d
		}
		s /= float32(C)
		r := float32(1 / math.Sqrt(float64(s+eps)))
		lnApply(out[i*C:(i+1)*C], x, w, b, m, r)
		mean[i], rstd[i] = m, r
	}
}

// layerNormBackward accumulates the gradients of layerNormForward into dinp
// [N,C], dw and db [C].
func layerNormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int) {
	for i := 0; i < N; i++ {
		x := inp[i*C : (i+1)*C]
		d := dout[i*C : (i+1)*C]
		dx := dinp[i*C : (i+1)*C]
		m, r := mean[i], rstd[i]
		// dnorm = d·w; dx = r·(dnorm − mean(dnorm) − x̂·mean(dnorm·x̂)).
		var dnormMean, dnormNormMean float32
		for j := range x {
			xh := (x[j] - m) * r
			dn := w[j] * d[j]
			dnormMean += dn
			dnormNormMean += dn * xh
		}
		dnormMean /= float32(C)
		dnormNormMean /= float32(C)
		lnBackRow(dx, dw, db, x, d, w, m, r, dnormMean, dnormNormMean)
	}
}

// matmulForward computes out[N,O] = inp[N,I] @ w[I,O] + b[O]: Hugging Face's
// Conv1D layout, y = x·W + b. b may be nil.
func matmulForward(out, inp, w, b []float32, N, I, O int) {
	for i := 0; i < N; i++ {
		o := out[i*O : (i+1)*O]
		if b != nil {
			copy(o, b)
		} else {
			clear(o)
		}
	}
	gemm.Gemm(out, inp, w, N, I, O)
}

// matmulBackward accumulates dinp[N,I] += dout @ wᵀ, dw[I,O] += inpᵀ @ dout
// and db[O] += Σ_rows dout (db may be nil). The transposed operands are
// read in place by the gemm kernel's packing (gemm.NT, gemm.TN).
func matmulBackward(dinp, dw, db, dout, inp, w []float32, N, I, O int) {
	gemm.Mul(gemm.NT, dinp, dout, w, N, O, I)
	gemm.Mul(gemm.TN, dw, inp, dout, I, N, O)
	if db != nil {
		for i := 0; i < N; i++ { // the rows in order: each column's sum as before
			addTo(db[:O], dout[i*O:(i+1)*O])
		}
	}
}

// attentionForward is GPT-2's causal multi-head self-attention without its
// projections. qkv is [B,T,3C] (queries, keys, values side by side, head h
// at columns h·hs…), out is [B,T,C] and att [B,NH,T,T] receives the
// attention probabilities softmax(q·kᵀ/√hs) with zeros above the diagonal
// (Vaswani et al. 2017, §3.2.1). The products read and write each head's
// columns in place (gemm.MulStrided).
func attentionForward(out, att, qkv []float32, B, T, C, NH int) {
	hs := C / NH
	scale := float32(1 / math.Sqrt(float64(hs)))
	for b := 0; b < B; b++ {
		x := qkv[b*T*3*C:]
		for h := 0; h < NH; h++ {
			q, k, v := x[h*hs:], x[C+h*hs:], x[2*C+h*hs:]
			o := out[b*T*C+h*hs:]
			p := att[(b*NH+h)*T*T : (b*NH+h+1)*T*T]
			clear(p)
			gemm.MulStrided(gemm.NT, T, hs, T, p, T, q, 3*C, k, 3*C)
			for t := 0; t < T; t++ {
				softmaxCausalRow(p[t*T:(t+1)*T], t, scale)
				clear(o[t*C : t*C+hs])
			}
			gemm.MulStrided(gemm.NN, T, T, hs, o, C, p, T, v, 3*C)
		}
	}
}

// softmaxCausalRow turns the scores row[0..t] (times scale) into
// probabilities and zeroes row[t+1:].
func softmaxCausalRow(row []float32, t int, scale float32) {
	vis := row[:t+1]
	scaleBy(vis, scale)
	mx := float32(math.Inf(-1))
	for _, v := range vis {
		mx = max(mx, v)
	}
	scaleBy(vis, 1/expShiftSum(vis, mx))
	clear(row[t+1:])
}

// attentionBackward accumulates into dqkv [B,T,3C] the gradient of
// attentionForward given dout [B,T,C] and the saved probabilities att.
// With S the scaled scores, P = softmax(S), O = P·V:
// dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(P∘dP)), dQ = dS·K/√hs,
// dK = dSᵀ·Q/√hs. The products read each head's columns in place.
func attentionBackward(dqkv, dout, qkv, att []float32, B, T, C, NH int, s *scratch) {
	hs := C / NH
	scale := float32(1 / math.Sqrt(float64(hs)))
	dp := s.get(4, T*T)
	dq := s.get(5, T*hs)
	dk := s.get(6, T*hs)
	dv := s.get(7, T*hs)
	for b := 0; b < B; b++ {
		x := qkv[b*T*3*C:]
		for h := 0; h < NH; h++ {
			q, k, v := x[h*hs:], x[C+h*hs:], x[2*C+h*hs:]
			do := dout[b*T*C+h*hs:]
			p := att[(b*NH+h)*T*T : (b*NH+h+1)*T*T]
			// dV = Pᵀ·dO
			clear(dv)
			gemm.MulStrided(gemm.TN, T, T, hs, dv, hs, p, T, do, C)
			// dP = dO·Vᵀ
			clear(dp)
			gemm.MulStrided(gemm.NT, T, hs, T, dp, T, do, C, v, 3*C)
			// dS (scaled back to the raw q·k scores)
			for t := 0; t < T; t++ {
				pr, dr := p[t*T:(t+1)*T], dp[t*T:(t+1)*T]
				var dot float32
				for i := 0; i <= t; i++ {
					dot += pr[i] * dr[i]
				}
				softBack(dr[:t+1], pr, dot, scale)
				clear(dr[t+1:])
			}
			clear(dq)
			gemm.MulStrided(gemm.NN, T, T, hs, dq, hs, dp, T, k, 3*C)
			clear(dk)
			gemm.MulStrided(gemm.TN, T, T, hs, dk, hs, dp, T, q, 3*C)
			for t := 0; t < T; t++ {
				row := dqkv[(b*T+t)*3*C:]
				addTo(row[h*hs:(h+1)*hs], dq[t*hs:(t+1)*hs])
				addTo(row[C+h*hs:C+(h+1)*hs], dk[t*hs:(t+1)*hs])
				addTo(row[2*C+h*hs:2*C+(h+1)*hs], dv[t*hs:(t+1)*hs])
			}
		}
	}
}

// addTo adds src to dst element-wise (sumTo: eight at a time with AVX2,
// the plain loop's sums bit for bit).
func addTo(dst, src []float32) {
	sumTo(dst, dst, src)
}

// geluForward applies gelu_new, GPT-2's tanh approximation of GELU
// (Hendrycks & Gimpel 2016): out = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
// It saves the tanh values in th for the backward pass. All slices are [N].
// vexp.GELUTanhSave computes both (an AVX2 kernel in float64 lanes: out
// within 1 float32 ulp, th within 3e-8; see internal/vexp/gelu.go).
func geluForward(out, th, inp []float32) {
	vexp.GELUTanhSave(out, th, inp)
}

// geluBackward accumulates dinp += dout · d gelu_new/dx, using the tanh
// values th saved by geluForward: vexp.GELUTanhGrad, in float32, eight
// lanes at a time with AVX2, each lane bit for bit this package's loop
// before it (the one that trained the embedded default model).
func geluBackward(dinp, dout, inp, th []float32) {
	vexp.GELUTanhGrad(dinp, dout, inp, th)
}

// residualForward writes out = a + b ([N] each).
func residualForward(out, a, b []float32) {
	sumTo(out[:len(a)], a, b)
}

// residualBackward accumulates da += dout and db += dout.
func residualBackward(da, db, dout []float32) {
	addTo(da, dout)
	addTo(db, dout)
}

// crossEntropyForward turns logits [N,V] into probabilities in place
// (softmax) and returns Σ −ln p(target) over the N rows, in nats. Rows whose
// target is negative are skipped (and get zero gradient).
func crossEntropyForward(logits []float32, targets []int, N, V int) float64 {
	var loss float64
	for i := 0; i < N; i++ {
		row := logits[i*V : (i+1)*V]
		mx := float32(math.Inf(-1))
		for _, v := range row {
			mx = max(mx, v)
		}
		scaleBy(row, 1/expShiftSum(row, mx))
		if targets[i] >= 0 {
			loss -= math.Log(float64(row[targets[i]]) + 1e-30)
		}
	}
	return loss
}

// crossEntropyBackward overwrites probs [N,V] with the gradient of
// scale·Σ −ln p(target) with respect to the logits: scale·(p − onehot).
func crossEntropyBackward(probs []float32, targets []int, N, V int, scale float32) {
	for i := 0; i < N; i++ {
		row := probs[i*V : (i+1)*V]
		if targets[i] < 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= scale
		}
		row[targets[i]] -= scale
	}
}

// dropoutForward zeroes each element of x [N] with probability p and scales
// the others by 1/(1−p) (inverted dropout, Srivastava et al. 2014), in
// place, recording the factors (0 or 1/(1−p)) in mask. Draws come from r,
// 16 bits per element, one r.Uint64() per four elements in order; bits is
// the caller's buffer for them (grown as needed, so a step allocates
// nothing once it has run).
func dropoutForward(x, mask []float32, p float32, r *rand.PCG, bits *[]uint64) {
	keep := 1 / (1 - p)
	thr := uint32(float64(p) * 65536)
	n := (len(x) + 3) / 4
	if cap(*bits) < n {
		*bits = make([]uint64, n)
	}
	b := (*bits)[:n]
	for i := range b {
		b[i] = r.Uint64()
	}
	dropMask(x, mask, b, keep, thr)
}

// dropoutBackward writes dx = dout ∘ mask.
func dropoutBackward(dx, dout, mask []float32) {
	mulTo(dx, dout, mask)
}
