package model

// Config is the architecture of a GPT-2-family model, read from a Hugging
// Face config.json (see ParseConfig). Field names follow the field's standard
// terms; JSON names follow transformers' GPT2Config.
type Config struct {
	ModelType        string  `json:"model_type"`          // must be "gpt2"
	VocabSize        int     `json:"vocab_size"`          // number of token ids
	NPositions       int     `json:"n_positions"`         // context window, tokens
	NEmbd            int     `json:"n_embd"`              // width of the residual stream
	NLayer           int     `json:"n_layer"`             // transformer blocks
	NHead            int     `json:"n_head"`              // attention heads per block
	NInner           int     `json:"n_inner"`             // MLP hidden width; 4*n_embd when absent
	LayerNormEpsilon float64 `json:"layer_norm_epsilon"`  // LayerNorm ε
	Activation       string  `json:"activation_function"` // "gelu_new" (tanh approximation) or "gelu" (erf)
	BOSTokenID       int     `json:"bos_token_id"`        // usually <|endoftext|>
	EOSTokenID       int     `json:"eos_token_id"`        // usually <|endoftext|>
}

// DHead is the width of one attention head, n_embd / n_head.
func (c Config) DHead() int { return c.NEmbd / c.NHead }

// NumParams is the number of parameters of the model with a tied head
// (wte, wpe, the blocks and ln_f), as Hugging Face's num_parameters() counts.
func (c Config) NumParams() int {
	e, in := c.NEmbd, c.NInner
	block := 2*e + // ln_1
		e*3*e + 3*e + // c_attn
		e*e + e + // attn c_proj
		2*e + // ln_2
		e*in + in + // c_fc
		in*e + e // mlp c_proj
	return c.VocabSize*e + c.NPositions*e + c.NLayer*block + 2*e
}
