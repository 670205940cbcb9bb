package arch

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
)

// configJSON returns a valid GPT-2 config.json with edits applied: a key
// mapped to nil is removed, any other value replaces or adds the key.
func configJSON(edits map[string]any) []byte {
	c := map[string]any{
		"architectures": []string{"GPT2LMHeadModel"}, "model_type": "gpt2",
		"activation_function": "gelu_new", "n_ctx": 64, "n_positions": 64,
		"n_embd": 32, "n_head": 4, "n_layer": 2, "vocab_size": 100,
		"layer_norm_epsilon": 1e-5, "bos_token_id": 99, "eos_token_id": 99,
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseConfigReference(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir  string
		want Config
	}{
		{"gpt2-tiny-random", Config{ModelType: "gpt2", VocabSize: 50257, NPositions: 64, NEmbd: 32, NLayer: 2, NHead: 4, NInner: 128,
			LayerNormEpsilon: 1e-5, Activation: "gelu_new", BOSTokenID: 50256, EOSTokenID: 50256}},
		{"tiny-prefix-f16", Config{ModelType: "gpt2", VocabSize: 1000, NPositions: 32, NEmbd: 48, NLayer: 3, NHead: 3, NInner: 192,
			LayerNormEpsilon: 1e-5, Activation: "gelu_new", BOSTokenID: 999, EOSTokenID: 999}},
	} {
		data, err := os.ReadFile(testref.Path(t, tc.dir, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseConfig(data)
		if err != nil || got != tc.want {
			t.Errorf("%s: ParseConfig = %+v, %v\nwant %+v", tc.dir, got, err, tc.want)
		}
	}
}

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edits map[string]any
		check func(Config) bool
	}{
		{"n_inner null is 4·n_embd", map[string]any{"n_inner": json.RawMessage("null")}, func(c Config) bool { return c.NInner == 128 }},
		{"n_inner given", map[string]any{"n_inner": 40}, func(c Config) bool { return c.NInner == 40 }},
		{"n_ctx when n_positions absent", map[string]any{"n_positions": nil, "n_ctx": 16}, func(c Config) bool { return c.NPositions == 16 }},
		{"n_positions wins over n_ctx", map[string]any{"n_positions": 48, "n_ctx": 16}, func(c Config) bool { return c.NPositions == 48 }},
		{"epsilon default", map[string]any{"layer_norm_epsilon": nil}, func(c Config) bool { return c.LayerNormEpsilon == 1e-5 }},
		{"activation default", map[string]any{"activation_function": nil}, func(c Config) bool { return c.Activation == ActGELUNew }},
		{"gelu_pytorch_tanh is gelu_new", map[string]any{"activation_function": "gelu_pytorch_tanh"}, func(c Config) bool { return c.Activation == ActGELUNew }},
		{"exact gelu", map[string]any{"activation_function": "gelu"}, func(c Config) bool { return c.Activation == ActGELU }},
		{"model_type from architectures", map[string]any{"model_type": nil}, func(c Config) bool { return c.ModelType == "gpt2" }},
		{"eos default is the last id", map[string]any{"bos_token_id": nil, "eos_token_id": nil}, func(c Config) bool { return c.EOSTokenID == 99 && c.BOSTokenID == 99 }},
		{"reorder_and_upcast_attn accepted", map[string]any{"reorder_and_upcast_attn": true}, func(c Config) bool { return true }},
		{"scale_attn_by_inverse_layer_idx false accepted", map[string]any{"scale_attn_by_inverse_layer_idx": false}, func(c Config) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig(configJSON(tc.edits))
			if err != nil || !tc.check(c) {
				t.Errorf("ParseConfig = %+v, %v", c, err)
			}
		})
	}
}

func TestParseConfigRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		data  []byte
		field string // the field the error must name
	}{
		{"invalid JSON", []byte(`{"n_embd": 32,`), "(json)"},
		{"not an object", []byte(`[]`), "(json)"},
		{"model_type bert", configJSON(map[string]any{"model_type": "bert"}), "model_type"},
		{"no model_type, other architecture", configJSON(map[string]any{"model_type": nil, "architectures": []string{"BertModel"}}), "model_type"},
		{"n_embd not divisible by n_head", configJSON(map[string]any{"n_head": 5}), "n_head"},
		{"negative n_layer", configJSON(map[string]any{"n_layer": -1}), "n_layer"},
		{"zero n_head", configJSON(map[string]any{"n_head": 0}), "n_head"},
		{"missing n_embd", configJSON(map[string]any{"n_embd": nil}), "n_embd"},
		{"missing vocab_size", configJSON(map[string]any{"vocab_size": nil}), "vocab_size"},
		{"missing n_positions and n_ctx", configJSON(map[string]any{"n_positions": nil, "n_ctx": nil}), "n_positions"},
		{"n_embd a string", configJSON(map[string]any{"n_embd": "32"}), "n_embd"},
		{"n_layer fractional", configJSON(map[string]any{"n_layer": 2.5}), "n_layer"},
		{"vocab_size beyond int64", []byte(strings.Replace(string(configJSON(nil)), `"vocab_size":100`, `"vocab_size":1e30`, 1)), "vocab_size"},
		{"vocab_size × n_embd too large", configJSON(map[string]any{"vocab_size": 1 << 30, "n_embd": 64, "n_head": 4}), "vocab_size"},
		{"n_embd huge", configJSON(map[string]any{"n_embd": 1 << 40}), "n_embd"},
		{"n_layer huge", configJSON(map[string]any{"n_layer": 100000}), "n_layer"},
		{"n_inner zero", configJSON(map[string]any{"n_inner": 0}), "n_inner"},
		{"epsilon zero", configJSON(map[string]any{"layer_norm_epsilon": 0}), "layer_norm_epsilon"},
		{"activation relu", configJSON(map[string]any{"activation_function": "relu"}), "activation_function"},
		{"scale_attn_by_inverse_layer_idx", configJSON(map[string]any{"scale_attn_by_inverse_layer_idx": true}), "scale_attn_by_inverse_layer_idx"},
		{"scale_attn_weights false", configJSON(map[string]any{"scale_attn_weights": false}), "scale_attn_weights"},
		{"add_cross_attention", configJSON(map[string]any{"add_cross_attention": true}), "add_cross_attention"},
		{"eos out of range", configJSON(map[string]any{"eos_token_id": 100}), "eos_token_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(tc.data)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("ParseConfig error = %v, want a *ConfigError naming %s", err, tc.field)
			}
		})
	}
}

// FuzzParseConfig: arbitrary bytes never panic, and an accepted config
// always passes Validate and has sizes whose tensors fit the limits.
func FuzzParseConfig(f *testing.F) {
	f.Add(configJSON(nil))
	f.Add(configJSON(map[string]any{"n_inner": json.RawMessage("null"), "n_positions": nil}))
	f.Add(configJSON(map[string]any{"n_head": 5}))
	f.Add(configJSON(map[string]any{"model_type": nil, "activation_function": "gelu"}))
	f.Add([]byte(`{"n_embd": 1e30}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
		if c.NumParams() <= 0 || c.DHead()*c.NHead != c.NEmbd {
			t.Fatalf("accepted config %+v has inconsistent sizes", c)
		}
	})
}
