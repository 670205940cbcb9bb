// Package arch is a GPT-2 model's architecture as plain data: the Config read
// from a Hugging Face config.json, its validation, the sizes that follow from
// it (parameters, KV-cache bytes) and the file layout of a Hugging Face
// checkpoint folder. It imports only the standard library, so that the Trace
// contract, the hub client and the engine can share it.
package arch

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

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

// KVBytes is the size in bytes of a float32 KV cache holding positions
// tokens in every layer: 2 (keys and values) × n_layer × positions × n_embd
// × 4. Keys and values are each [n_layer][n_head][positions][d_head], and
// n_head × d_head = n_embd (Radford et al. 2019; Pope et al. 2022,
// "Efficiently Scaling Transformer Inference", §2).
func (c Config) KVBytes(positions int) int64 {
	return 2 * int64(c.NLayer) * int64(positions) * int64(c.NEmbd) * 4
}

// The activation functions a Config may name (Activation).
const (
	// ActGELUNew is GPT-2's GELU, tanh approximation:
	// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (openai/gpt-2 model.py).
	// ParseConfig also maps transformers' "gelu_pytorch_tanh", the same
	// formula, to it.
	ActGELUNew = "gelu_new"
	// ActGELU is exact GELU, 0.5·x·(1 + erf(x/√2)) (Hendrycks & Gimpel 2016).
	ActGELU = "gelu"
)

// Limits that Validate enforces, so that sizes multiply without overflow and
// a typo in config.json fails early instead of allocating terabytes.
const (
	MaxTensorElements = 1 << 31 // elements in any one weight tensor
	MaxLayers         = 1024    // n_layer
)

// ErrConfig is the kind of every *ConfigError, for errors.Is.
var ErrConfig = errors.New("config not supported")

// ConfigError is a config.json value this engine refuses: invalid, or one it
// cannot run faithfully. Field is the JSON name ("n_head", ...).
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("config field %s: %s", e.Field, e.Problem) }

// Unwrap returns ErrConfig.
func (e *ConfigError) Unwrap() error { return ErrConfig }

func configErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// ParseConfig reads a Hugging Face GPT-2 config.json (transformers'
// GPT2Config) and validates it with Config.Validate.
//
//   - n_embd, n_head, n_layer and vocab_size are required.
//   - n_positions is the context window; when it is absent n_ctx is used.
//     When both are present and differ, n_positions wins: transformers
//     builds the position table from n_positions and ignores n_ctx.
//   - n_inner missing or null means 4·n_embd; layer_norm_epsilon missing
//     means 1e-5; activation_function missing means "gelu_new";
//     bos_token_id / eos_token_id missing mean vocab_size-1 (GPT-2's
//     <|endoftext|> is its last id).
//   - model_type must be "gpt2"; a missing model_type is accepted only when
//     architectures names GPT2LMHeadModel or GPT2Model.
//   - Refused because this engine would compute something else:
//     scale_attn_by_inverse_layer_idx true, scale_attn_weights false,
//     add_cross_attention true, any activation but gelu_new, gelu and
//     gelu_pytorch_tanh. reorder_and_upcast_attn true is accepted: it only
//     computes the attention scores in float32 with the scaling moved before
//     the matmul, which in this all-float32 engine is the same computation.
//
// Every error is a *ConfigError naming the JSON field (errors.Is ErrConfig),
// including JSON of the wrong type; invalid JSON gives a *ConfigError with
// Field "(json)".
func ParseConfig(data []byte) (Config, error) {
	var raw struct {
		ModelType     *string  `json:"model_type"`
		Architectures []string `json:"architectures"`
		VocabSize     *int     `json:"vocab_size"`
		NPositions    *int     `json:"n_positions"`
		NCtx          *int     `json:"n_ctx"`
		NEmbd         *int     `json:"n_embd"`
		NLayer        *int     `json:"n_layer"`
		NHead         *int     `json:"n_head"`
		NInner        *int     `json:"n_inner"`
		Epsilon       *float64 `json:"layer_norm_epsilon"`
		Activation    *string  `json:"activation_function"`
		BOS           *int     `json:"bos_token_id"`
		EOS           *int     `json:"eos_token_id"`
		ScaleByLayer  *bool    `json:"scale_attn_by_inverse_layer_idx"`
		ScaleWeights  *bool    `json:"scale_attn_weights"`
		CrossAttn     *bool    `json:"add_cross_attention"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Config{}, configErr(te.Field, "JSON %s where %s was expected", te.Value, te.Type)
		}
		return Config{}, configErr("(json)", "%v", err)
	}
	var c Config
	switch {
	case raw.ModelType != nil:
		c.ModelType = *raw.ModelType
	case slices.Contains(raw.Architectures, "GPT2LMHeadModel") || slices.Contains(raw.Architectures, "GPT2Model"):
		c.ModelType = "gpt2"
	default:
		return Config{}, configErr("model_type", "missing, and architectures %q names no GPT-2 model", raw.Architectures)
	}
	for _, f := range []struct {
		name string
		src  *int
		dst  *int
	}{
		{"vocab_size", raw.VocabSize, &c.VocabSize},
		{"n_embd", raw.NEmbd, &c.NEmbd},
		{"n_layer", raw.NLayer, &c.NLayer},
		{"n_head", raw.NHead, &c.NHead},
	} {
		if f.src == nil {
			return Config{}, configErr(f.name, "missing")
		}
		*f.dst = *f.src
	}
	switch {
	case raw.NPositions != nil:
		c.NPositions = *raw.NPositions
	case raw.NCtx != nil:
		c.NPositions = *raw.NCtx
	default:
		return Config{}, configErr("n_positions", "missing (and no n_ctx)")
	}
	c.NInner = 4 * c.NEmbd
	if raw.NInner != nil {
		c.NInner = *raw.NInner
	}
	c.LayerNormEpsilon = 1e-5
	if raw.Epsilon != nil {
		c.LayerNormEpsilon = *raw.Epsilon
	}
	c.Activation = ActGELUNew
	if raw.Activation != nil {
		c.Activation = *raw.Activation
	}
	if c.Activation == "gelu_pytorch_tanh" {
		c.Activation = ActGELUNew
	}
	c.BOSTokenID, c.EOSTokenID = c.VocabSize-1, c.VocabSize-1
	if raw.BOS != nil {
		c.BOSTokenID = *raw.BOS
	}
	if raw.EOS != nil {
		c.EOSTokenID = *raw.EOS
	}
	switch {
	case raw.ScaleByLayer != nil && *raw.ScaleByLayer:
		return Config{}, configErr("scale_attn_by_inverse_layer_idx", "true is not supported (attention scores are scaled by 1/√d_head only)")
	case raw.ScaleWeights != nil && !*raw.ScaleWeights:
		return Config{}, configErr("scale_attn_weights", "false is not supported (attention scores are always scaled by 1/√d_head)")
	case raw.CrossAttn != nil && *raw.CrossAttn:
		return Config{}, configErr("add_cross_attention", "true is not supported (decoder-only GPT-2 has no cross-attention)")
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks that c describes a GPT-2 this engine can run: model_type
// "gpt2"; positive sizes; n_embd divisible by n_head; n_layer ≤ MaxLayers;
// every weight tensor (wte, wpe, c_attn, c_fc) at most MaxTensorElements;
// layer_norm_epsilon positive and finite; activation "gelu_new" or "gelu";
// bos/eos token ids in [0, vocab_size). The error is a *ConfigError naming
// the first field at fault.
func (c Config) Validate() error {
	if c.ModelType != "gpt2" {
		return configErr("model_type", "%q is not supported (want \"gpt2\")", c.ModelType)
	}
	sizes := []struct {
		name string
		v    int
	}{
		{"vocab_size", c.VocabSize}, {"n_positions", c.NPositions}, {"n_embd", c.NEmbd},
		{"n_layer", c.NLayer}, {"n_head", c.NHead}, {"n_inner", c.NInner},
	}
	for _, s := range sizes {
		if s.v <= 0 {
			return configErr(s.name, "%d is not positive", s.v)
		}
		if s.v > MaxTensorElements {
			return configErr(s.name, "%d is absurdly large", s.v)
		}
	}
	if c.NEmbd%c.NHead != 0 {
		return configErr("n_head", "n_embd %d is not divisible by n_head %d", c.NEmbd, c.NHead)
	}
	if c.NLayer > MaxLayers {
		return configErr("n_layer", "%d exceeds the limit %d", c.NLayer, MaxLayers)
	}
	// Each size is ≤ 2^31, so these products cannot overflow int64.
	for _, t := range []struct {
		field, tensor string
		rows, cols    int
	}{
		{"vocab_size", "wte", c.VocabSize, c.NEmbd},
		{"n_positions", "wpe", c.NPositions, c.NEmbd},
		{"n_embd", "c_attn", c.NEmbd, 3 * c.NEmbd},
		{"n_inner", "c_fc", c.NEmbd, c.NInner},
	} {
		if int64(t.rows)*int64(t.cols) > MaxTensorElements {
			return configErr(t.field, "%s would be [%d, %d], more than %d elements", t.tensor, t.rows, t.cols, MaxTensorElements)
		}
	}
	if !(c.LayerNormEpsilon > 0) || math.IsInf(c.LayerNormEpsilon, 0) {
		return configErr("layer_norm_epsilon", "%v is not a positive number", c.LayerNormEpsilon)
	}
	if c.Activation != ActGELUNew && c.Activation != ActGELU {
		return configErr("activation_function", "%q is not supported (want gelu_new, gelu_pytorch_tanh or gelu)", c.Activation)
	}
	if c.BOSTokenID < 0 || c.BOSTokenID >= c.VocabSize {
		return configErr("bos_token_id", "%d is outside [0, vocab_size %d)", c.BOSTokenID, c.VocabSize)
	}
	if c.EOSTokenID < 0 || c.EOSTokenID >= c.VocabSize {
		return configErr("eos_token_id", "%d is outside [0, vocab_size %d)", c.EOSTokenID, c.VocabSize)
	}
	return nil
}
