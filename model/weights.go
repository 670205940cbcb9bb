package model

import "github.com/gptviz/gptviz/internal/gemv"

// Block holds the parameters of one transformer block (pre-LayerNorm, as in
// GPT-2). Matrices use Hugging Face's Conv1D layout [in, out], row-major, so
// y = x @ W + b.
//
// A checkpoint that stores its weights as F16 or BF16 keeps the four
// matrices in 16 bits (the *Half fields, sharing the checkpoint's memory
// when it is mapped) and their float32 fields are nil; the kernels widen
// them as they read them. Vectors (LayerNorm, biases) are always float32.
type Block struct {
	LN1G, LN1B []float32 // ln_1 weight and bias, [n_embd]
	AttnW      []float32 // attn.c_attn.weight, [n_embd, 3*n_embd]: q, k, v slices
	AttnB      []float32 // attn.c_attn.bias, [3*n_embd]
	AttnProjW  []float32 // attn.c_proj.weight, [n_embd, n_embd]
	AttnProjB  []float32 // attn.c_proj.bias, [n_embd]
	LN2G, LN2B []float32 // ln_2 weight and bias, [n_embd]
	FCW        []float32 // mlp.c_fc.weight, [n_embd, n_inner]
	FCB        []float32 // mlp.c_fc.bias, [n_inner]
	MLPProjW   []float32 // mlp.c_proj.weight, [n_inner, n_embd]
	MLPProjB   []float32 // mlp.c_proj.bias, [n_embd]

	// AttnW, AttnProjW, FCW and MLPProjW in 16 bits, same shapes, when the
	// checkpoint stores them so; unset (Bits nil) for float32 weights.
	AttnWHalf, AttnProjWHalf, FCWHalf, MLPProjWHalf gemv.Half
}

// Weights holds every parameter of a GPT-2 model.
//
// LMHead is nil when the output head is tied to WTE (GPT-2's default); the
// logits are then h @ WTEᵀ. WTE and LMHead, like the blocks' matrices, are
// kept in 16 bits (WTEHalf, LMHeadHalf; the float32 field nil) when the
// checkpoint stores them as F16 or BF16; WPE and the vectors are float32.
type Weights struct {
	WTE    []float32 // wte.weight, token embeddings, [vocab_size, n_embd]
	WPE    []float32 // wpe.weight, position embeddings, [n_positions, n_embd]
	Blocks []Block   // h.0 … h.{n_layer-1}
	LNFG   []float32 // ln_f.weight, [n_embd]
	LNFB   []float32 // ln_f.bias, [n_embd]
	LMHead []float32 // lm_head.weight, [vocab_size, n_embd], nil when tied to WTE

	WTEHalf, LMHeadHalf gemv.Half // WTE and LMHead in 16 bits, when stored so
}

// Head returns the output projection [vocab_size, n_embd] as float32:
// LMHead when the checkpoint has an untied head, otherwise WTE. It is nil
// when the head is kept in 16 bits (see Float32).
func (w *Weights) Head() []float32 {
	if w.LMHead != nil || w.LMHeadHalf.Stored() {
		return w.LMHead
	}
	return w.WTE
}

// Float32 returns the weights with every 16-bit matrix widened into new
// float32 memory (exactly) and the float32 slices shared with w: what a
// caller that needs plain floats (a trainer, a comparison) uses. Weights
// with nothing in 16 bits come back as they are.
func (w *Weights) Float32() Weights {
	wide := func(f []float32, h gemv.Half) ([]float32, gemv.Half) {
		if !h.Stored() {
			return f, h
		}
		out := make([]float32, h.Len())
		gemv.Widen(out, h)
		return out, gemv.Half{}
	}
	out := *w
	out.WTE, out.WTEHalf = wide(w.WTE, w.WTEHalf)
	out.LMHead, out.LMHeadHalf = wide(w.LMHead, w.LMHeadHalf)
	out.Blocks = make([]Block, len(w.Blocks))
	for l, b := range w.Blocks {
		b.AttnW, b.AttnWHalf = wide(b.AttnW, b.AttnWHalf)
		b.AttnProjW, b.AttnProjWHalf = wide(b.AttnProjW, b.AttnProjWHalf)
		b.FCW, b.FCWHalf = wide(b.FCW, b.FCWHalf)
		b.MLPProjW, b.MLPProjWHalf = wide(b.MLPProjW, b.MLPProjWHalf)
		out.Blocks[l] = b
	}
	return out
}

// matrix is a weight matrix in float32 (f) or in 16 bits (h, when
// h.Stored()): what the products of forward take.
type matrix struct {
	f []float32
	h gemv.Half
}

func (m matrix) half() bool { return m.h.Stored() }

// from returns the elements from index i on.
func (m matrix) from(i int) matrix {
	if m.half() {
		return matrix{h: m.h.From(i)}
	}
	return matrix{f: m.f[i:]}
}

// row returns row i of a matrix with rows of n elements as float32: shared
// when stored so, else widened into buf (len ≥ n).
func (m matrix) row(i, n int, buf []float32) []float32 {
	if !m.half() {
		return m.f[i*n : (i+1)*n]
	}
	gemv.Widen(buf[:n], m.h.From(i*n))
	return buf[:n]
}

// The matrices of a block and of the model, whichever way they are stored.
func (b *Block) attnW() matrix     { return matrix{b.AttnW, b.AttnWHalf} }
func (b *Block) attnProjW() matrix { return matrix{b.AttnProjW, b.AttnProjWHalf} }
func (b *Block) fcW() matrix       { return matrix{b.FCW, b.FCWHalf} }
func (b *Block) mlpProjW() matrix  { return matrix{b.MLPProjW, b.MLPProjWHalf} }
func (w *Weights) wte() matrix     { return matrix{w.WTE, w.WTEHalf} }

// head is the output projection, LMHead when untied, else WTE.
func (w *Weights) head() matrix {
	if w.LMHead != nil || w.LMHeadHalf.Stored() {
		return matrix{w.LMHead, w.LMHeadHalf}
	}
	return w.wte()
}
