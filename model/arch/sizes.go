package arch

// GPT2Sizes are the four GPT-2 models OpenAI released (Radford et al.
// 2019, table 2; the Hugging Face configs gpt2, gpt2-medium, gpt2-large,
// gpt2-xl), smallest first, each with its hub name in ModelType's place
// left "gpt2": use GPT2SizeNames for the names.
var GPT2Sizes = []Config{
	gpt2Size(12, 768, 12),
	gpt2Size(24, 1024, 16),
	gpt2Size(36, 1280, 20),
	gpt2Size(48, 1600, 25),
}

// GPT2SizeNames are the hub names of GPT2Sizes, in the same order.
var GPT2SizeNames = []string{"gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"}

func gpt2Size(layers, embd, heads int) Config {
	return Config{ModelType: "gpt2", VocabSize: 50257, NPositions: 1024, NEmbd: embd, NLayer: layers, NHead: heads,
		NInner: 4 * embd, LayerNormEpsilon: 1e-5, Activation: ActGELUNew, BOSTokenID: 50256, EOSTokenID: 50256}
}

// KVBytesPerToken is what one token adds to a float32 KV cache: KVBytes(1)
// = 2 × n_layer × n_embd × 4 bytes.
func (c Config) KVBytesPerToken() int64 { return c.KVBytes(1) }

// ForwardFLOPs counts the floating-point operations (a multiply-add is 2)
// of the matrix products of one forward pass over rows new positions after
// past cached ones, with logits for the last row only (what generation
// needs): per layer the q, k, v projection (2·rows·C·3C), the scores q·k
// and the weighted sum of values over the causal keys
// (2·2·C·Σ_t (past+t+1)), the attention projection (2·rows·C·C) and the
// MLP (2·2·rows·C·n_inner); then the unembedding (2·C·vocab). LayerNorms,
// softmax and GELU are left out: they are O(rows·C), small beside these.
// A decode step with the cache is ForwardFLOPs(1, n−1); without it,
// ForwardFLOPs(n, 0). Kaplan et al. 2020 (§2.1) give the same count as
// ≈ 2·N_params + 2·n_layer·context·C per token.
func (c Config) ForwardFLOPs(rows, past int) int64 {
	C, R, P := int64(c.NEmbd), int64(rows), int64(past)
	keys := R*P + R*(R+1)/2 // Σ over the rows of the keys each sees
	perLayer := 2*R*C*3*C + 2*2*C*keys + 2*R*C*C + 2*2*R*C*int64(c.NInner)
	return int64(c.NLayer)*perLayer + 2*C*int64(c.VocabSize)
}
