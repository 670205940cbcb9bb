package model

// Block holds the parameters of one transformer block (pre-LayerNorm, as in
// GPT-2). Matrices use Hugging Face's Conv1D layout [in, out], row-major, so
// y = x @ W + b.
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
}

// Weights holds every parameter of a GPT-2 model as float32.
//
// LMHead is nil when the output head is tied to WTE (GPT-2's default); the
// logits are then h @ WTEᵀ.
type Weights struct {
	WTE    []float32 // wte.weight, token embeddings, [vocab_size, n_embd]
	WPE    []float32 // wpe.weight, position embeddings, [n_positions, n_embd]
	Blocks []Block   // h.0 … h.{n_layer-1}
	LNFG   []float32 // ln_f.weight, [n_embd]
	LNFB   []float32 // ln_f.bias, [n_embd]
	LMHead []float32 // lm_head.weight, [vocab_size, n_embd], nil when tied to WTE
}

// Head returns the output projection [vocab_size, n_embd]: LMHead when the
// checkpoint has an untied head, otherwise WTE.
func (w *Weights) Head() []float32 {
	if w.LMHead != nil {
		return w.LMHead
	}
	return w.WTE
}
