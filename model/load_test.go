package model

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
)

// rawValue decodes element i of a tensor's stored bytes independently of
// package safetensors' converters.
func rawValue(t *testing.T, f *safetensors.File, name string, i int) float32 {
	t.Helper()
	info, _ := f.Info(name)
	b, err := f.Bytes(name)
	if err != nil {
		t.Fatal(err)
	}
	switch info.DType {
	case safetensors.F32:
		return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	case safetensors.F16:
		h := binary.LittleEndian.Uint16(b[2*i:])
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		exp, mant := int(h>>10&0x1f), float64(h&0x3ff)
		if exp == 0 {
			return float32(sign * math.Ldexp(mant, -24))
		}
		return float32(sign * math.Ldexp(1+mant/1024, exp-15))
	}
	t.Fatalf("dtype %s", info.DType)
	return 0
}

func TestLoadReference(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir, prefix   string
		layers        int
		wantTokenizer bool
	}{
		{"gpt2-tiny-random", "", 2, true},
		{"tiny-prefix-f16", "transformer.", 3, false},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := testref.Path(t, tc.dir)
			m, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Name != tc.dir || len(m.Weights.Blocks) != tc.layers || m.Weights.LMHead != nil || (m.Tokenizer != nil) != tc.wantTokenizer {
				t.Errorf("Name %q, %d blocks, LMHead nil %v, tokenizer %v", m.Name, len(m.Weights.Blocks), m.Weights.LMHead == nil, m.Tokenizer != nil)
			}
			if tc.wantTokenizer && m.Tokenizer.VocabSize() != m.Config.VocabSize {
				t.Errorf("tokenizer has %d ids, config %d", m.Tokenizer.VocabSize(), m.Config.VocabSize)
			}
			f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			c, last := m.Config, len(m.Weights.Blocks)-1
			wf := m.Weights.Float32()
			for _, s := range []struct {
				name string
				got  []float32
				i    int
			}{
				{"wte.weight", wf.WTE, 0},
				{"wte.weight", wf.WTE, c.VocabSize*c.NEmbd - 1},
				{"wpe.weight", wf.WPE, 5*c.NEmbd + 3},
				{"h.0.attn.c_attn.weight", wf.Blocks[0].AttnW, 2*c.NEmbd + 1},
				{fmt.Sprintf("h.%d.mlp.c_proj.weight", last), wf.Blocks[last].MLPProjW, c.NInner*c.NEmbd - 2},
				{fmt.Sprintf("h.%d.ln_2.weight", last), wf.Blocks[last].LN2G, 7},
				{"ln_f.bias", wf.LNFB, c.NEmbd - 1},
			} {
				if want := rawValue(t, f, tc.prefix+s.name, s.i); s.got[s.i] != want {
					t.Errorf("%s[%d] = %v, want %v", s.name, s.i, s.got[s.i], want)
				}
			}
			// LoadFS reads the same folder without memory mapping.
			mfs, err := LoadFS(os.DirFS(dir), "fs")
			if err != nil {
				t.Fatal(err)
			}
			wfs := mfs.Weights.Float32()
			if mfs.Name != "fs" || !bitsEqual(wfs.Blocks[last].FCW, wf.Blocks[last].FCW) || !bitsEqual(wfs.WTE, wf.WTE) {
				t.Errorf("LoadFS differs from Load")
			}
		})
	}
}

// tinyConfig is a small GPT-2 for generated checkpoints.
const tinyConfig = `{"model_type":"gpt2","vocab_size":10,"n_positions":3,"n_embd":4,"n_head":2,"n_layer":1,"activation_function":"gelu_new"}`

// tinyTensors returns seeded random weights for tinyConfig, named with
// prefix, in dtype.
func tinyTensors(prefix string, dtype safetensors.DType) []safetensors.Tensor {
	c, _ := arch.ParseConfig([]byte(tinyConfig))
	var w Weights
	rng := rand.New(rand.NewPCG(7, 7))
	var out []safetensors.Tensor
	for _, p := range params(c, &w) {
		n := 1
		for _, d := range p.shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		out = append(out, safetensors.Tensor{Name: prefix + p.name, DType: dtype, Shape: p.shape, Data: data})
	}
	return out
}

// writeCheckpoint writes config and tensors as a checkpoint folder in a new
// temporary directory and returns it.
func writeCheckpoint(t *testing.T, config string, tensors []safetensors.Tensor) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// editFile rewrites dir/name with edit applied to its bytes.
func editFile(t *testing.T, dir, name string, edit func([]byte) []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editHeader rewrites the JSON header of a safetensors file: edit gets the
// header text and returns a new one; the data buffer is kept.
func editHeader(edit func(string) string) func([]byte) []byte {
	return func(b []byte) []byte {
		n := binary.LittleEndian.Uint64(b)
		h := edit(string(b[8 : 8+n]))
		out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(out, h...), b[8+n:]...)
	}
}

// entry is a header entry as JSON text.
func entry(name, dtype, shape string, begin, end int) string {
	return fmt.Sprintf(`%q:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, name, dtype, shape, begin, end)
}

func TestLoadMalformed(t *testing.T) {
	t.Parallel()
	// The valid file's header starts `{"__metadata__":{"format":"pt"},"wte.weight":…`
	// and its data buffer is 4*len(params) floats long.
	tensors := tinyTensors("", safetensors.F32)
	dataLen := 0
	for _, tt := range tensors {
		dataLen += 4 * len(tt.Data)
	}
	const wte = `"wte.weight":{"dtype":"F32","shape":[10,4],"data_offsets":[0,160]}`
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, dir string)
		kind  error    // errors.Is target; nil to skip
		words []string // substrings the message must contain
	}{
		{"truncated file", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", func(b []byte) []byte { return b[:len(b)-10] })
		}, safetensors.ErrOffsets, []string{"model.safetensors", `"ln_f.bias"`, "truncated"}},
		{"file shorter than 8 bytes", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", func(b []byte) []byte { return b[:5] })
		}, safetensors.ErrHeader, []string{"model.safetensors", "5 bytes"}},
		{"header length huge", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", func(b []byte) []byte { binary.LittleEndian.PutUint64(b, math.MaxUint64); return b })
		}, safetensors.ErrHeaderLen, []string{"model.safetensors", "at byte 0", "exceeds"}},
		{"header length beyond file", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", func(b []byte) []byte { binary.LittleEndian.PutUint64(b, uint64(len(b))); return b })
		}, safetensors.ErrHeaderLen, []string{"model.safetensors", "runs past the end"}},
		{"invalid JSON", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string { return strings.Replace(h, `"shape"`, `"shape`, 1) }))
		}, safetensors.ErrHeader, []string{"model.safetensors", `"wte.weight"`, "at byte"}},
		{"invalid UTF-8", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string { return strings.Replace(h, `"pt"`, "\"p\xc3\"", 1) }))
		}, safetensors.ErrHeader, []string{"model.safetensors", "at byte 36", "UTF-8"}},
		{"duplicate tensor name", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string { return strings.Replace(h, wte, wte+","+wte, 1) }))
		}, safetensors.ErrDuplicate, []string{"model.safetensors", `"wte.weight"`}},
		{"unknown dtype", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string { return strings.Replace(h, `"F32"`, `"F31"`, 1) }))
		}, safetensors.ErrDType, []string{"model.safetensors", `"wte.weight"`, `"F31"`}},
		{"overlapping offsets", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string {
				return strings.Replace(h, `"data_offsets":[160,208]`, `"data_offsets":[156,204]`, 1)
			}))
		}, safetensors.ErrOffsets, []string{"model.safetensors", `"wpe.weight"`, "overlap"}},
		{"gap between tensors", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string {
				return strings.Replace(h, `"data_offsets":[0,160]`, `"data_offsets":[0,156]`, 1)
			}))
		}, safetensors.ErrSize, []string{"model.safetensors", `"wte.weight"`, "needs 160"}},
		{"gap at the start", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string {
				return strings.Replace(h, wte, `"wte.weight":{"dtype":"F32","shape":[39,4],"data_offsets":[4,160]}`, 1)
			}))
		}, safetensors.ErrOffsets, []string{"model.safetensors", `"wte.weight"`, "gap"}},
		{"trailing bytes", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", func(b []byte) []byte { return append(b, 0, 0, 0, 0) })
		}, safetensors.ErrOffsets, []string{"model.safetensors", "4 trailing bytes"}},
		{"wrong byte size for dtype", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string {
				return strings.Replace(h, `"dtype":"F32","shape":[10,4]`, `"dtype":"F16","shape":[10,4]`, 1)
			}))
		}, safetensors.ErrSize, []string{"model.safetensors", `"wte.weight"`, "needs 80"}},
		{"shape overflow", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string {
				return strings.Replace(h, `"shape":[10,4]`, `"shape":[4611686018427387904,4]`, 1)
			}))
		}, safetensors.ErrOverflow, []string{"model.safetensors", `"wte.weight"`}},
		{"missing tensor", func(t *testing.T, dir string) {
			safetensors.Write(filepath.Join(dir, "model.safetensors"), slices.DeleteFunc(slices.Clone(tensors), func(x safetensors.Tensor) bool { return x.Name == "h.0.mlp.c_fc.bias" }), nil)
		}, ErrMissingTensor, []string{`"h.0.mlp.c_fc.bias"`, "[16]", "model.safetensors"}},
		{"wrong shape", func(t *testing.T, dir string) {
			bad := slices.Clone(tensors)
			bad[2].Shape = []int{2, 2}
			safetensors.Write(filepath.Join(dir, "model.safetensors"), bad, nil)
		}, ErrTensorShape, []string{"model.safetensors", `"h.0.ln_1.weight"`, "found [2 2], want [4]"}},
		{"unexpected tensor", func(t *testing.T, dir string) {
			extra := append(slices.Clone(tensors), safetensors.Tensor{Name: "score.weight", DType: safetensors.F32, Shape: []int{1}, Data: []float32{1}})
			safetensors.Write(filepath.Join(dir, "model.safetensors"), extra, nil)
		}, ErrUnexpectedTensor, []string{`"score.weight"`}},
		{"mask buffer of a layer the model lacks", func(t *testing.T, dir string) {
			extra := append(slices.Clone(tensors), safetensors.Tensor{Name: "h.1.attn.bias", DType: safetensors.F32, Shape: []int{1}, Data: []float32{1}})
			safetensors.Write(filepath.Join(dir, "model.safetensors"), extra, nil)
		}, ErrUnexpectedTensor, []string{`"h.1.attn.bias"`}},
		{"tensor with and without prefix", func(t *testing.T, dir string) {
			extra := append(slices.Clone(tensors), safetensors.Tensor{Name: "transformer.wpe.weight", DType: safetensors.F32, Shape: []int{3, 4}, Data: make([]float32, 12)})
			safetensors.Write(filepath.Join(dir, "model.safetensors"), extra, nil)
		}, nil, []string{`"wpe.weight"`, `"transformer.wpe.weight"`, "stored twice"}},
		{"integer weights", func(t *testing.T, dir string) {
			editFile(t, dir, "model.safetensors", editHeader(func(h string) string {
				return strings.Replace(h, `"dtype":"F32","shape":[10,4]`, `"dtype":"I32","shape":[10,4]`, 1)
			}))
		}, safetensors.ErrConvert, []string{"model.safetensors", `"wte.weight"`, "I32"}},
		{"lm_head wrong shape", func(t *testing.T, dir string) {
			extra := append(slices.Clone(tensors), safetensors.Tensor{Name: "lm_head.weight", DType: safetensors.F32, Shape: []int{4, 10}, Data: make([]float32, 40)})
			safetensors.Write(filepath.Join(dir, "model.safetensors"), extra, nil)
		}, ErrTensorShape, []string{`"lm_head.weight"`, "found [4 10], want [10 4]"}},
		{"n_embd not divisible by n_head", func(t *testing.T, dir string) {
			editFile(t, dir, "config.json", func(b []byte) []byte { return []byte(strings.Replace(string(b), `"n_head":2`, `"n_head":3`, 1)) })
		}, arch.ErrConfig, []string{"config.json", "n_head"}},
		{"model_type bert", func(t *testing.T, dir string) {
			editFile(t, dir, "config.json", func(b []byte) []byte { return []byte(strings.Replace(string(b), `"gpt2"`, `"bert"`, 1)) })
		}, arch.ErrConfig, []string{"config.json", "model_type", "bert"}},
		{"scale_attn_by_inverse_layer_idx", func(t *testing.T, dir string) {
			editFile(t, dir, "config.json", func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `{`, `{"scale_attn_by_inverse_layer_idx":true,`, 1))
			})
		}, arch.ErrConfig, []string{"config.json", "scale_attn_by_inverse_layer_idx"}},
		{"negative n_layer", func(t *testing.T, dir string) {
			editFile(t, dir, "config.json", func(b []byte) []byte { return []byte(strings.Replace(string(b), `"n_layer":1`, `"n_layer":-1`, 1)) })
		}, arch.ErrConfig, []string{"config.json", "n_layer", "-1"}},
		{"missing config", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "config.json"))
		}, os.ErrNotExist, []string{"config.json"}},
		{"missing weights", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "model.safetensors"))
		}, os.ErrNotExist, []string{"model.safetensors"}},
		{"vocab.json without merges.txt", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{}`), 0o644)
		}, nil, []string{"merges.txt", "is missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeCheckpoint(t, tinyConfig, tensors)
			tc.edit(t, dir)
			m, err := Load(dir)
			if err == nil {
				m.Close()
				t.Fatal("Load succeeded")
			}
			t.Log(err)
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("error %v\nis not %v", err, tc.kind)
			}
			for _, w := range tc.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %v\ndoes not mention %s", err, w)
				}
			}
			if !strings.Contains(err.Error(), filepath.Base(dir)) {
				t.Errorf("error %v does not name the model folder", err)
			}
		})
	}
	if dataLen != 4*(40+12+4+4+48+12+16+4+4+4+64+16+64+4+4+4) {
		t.Errorf("tiny checkpoint data is %d bytes; the offsets in this table assume otherwise", dataLen)
	}
}

func TestLoadHeadAndDTypes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		dtype    safetensors.DType
		prefix   string
		head     func(wte []float32) []float32 // lm_head.weight data; nil: none
		wantHead bool
	}{
		{"F32 tied, no head", safetensors.F32, "", nil, false},
		{"F32 head equal to wte is tied", safetensors.F32, "transformer.", func(w []float32) []float32 { return slices.Clone(w) }, false},
		{"F32 untied head kept", safetensors.F32, "", func(w []float32) []float32 { h := slices.Clone(w); h[7] += 1; return h }, true},
		{"F16 rounded on write, exact on load", safetensors.F16, "transformer.", nil, false},
		{"BF16", safetensors.BF16, "", func(w []float32) []float32 { return slices.Clone(w) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tensors := tinyTensors(tc.prefix, tc.dtype)
			// Mask buffers are ignored.
			tensors = append(tensors, safetensors.Tensor{Name: tc.prefix + "h.0.attn.bias", DType: tc.dtype, Shape: []int{1, 1, 3, 3}, Data: make([]float32, 9)},
				safetensors.Tensor{Name: tc.prefix + "h.0.attn.masked_bias", DType: tc.dtype, Shape: []int{}, Data: []float32{-1e4}})
			if tc.head != nil {
				tensors = append(tensors, safetensors.Tensor{Name: "lm_head.weight", DType: tc.dtype, Shape: []int{10, 4}, Data: tc.head(tensors[0].Data)})
			}
			dir := writeCheckpoint(t, tinyConfig, tensors)
			m, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if got := m.Weights.LMHead != nil || m.Weights.LMHeadHalf.Stored(); got != tc.wantHead {
				t.Errorf("LMHead present = %v, want %v", got, tc.wantHead)
			}
			if half := tc.dtype != safetensors.F32; m.Weights.Blocks[0].MLPProjWHalf.Stored() != half || (m.Weights.Blocks[0].MLPProjW == nil) != half || m.Weights.WTEHalf.Stored() != half {
				t.Errorf("%s: matrices kept in 16 bits = %v, want %v", tc.dtype, m.Weights.Blocks[0].MLPProjWHalf.Stored(), half)
			}
			wf := m.Weights.Float32()
			round := func(x float32) float32 { return x }
			switch tc.dtype {
			case safetensors.F16:
				round = func(x float32) float32 { return float32(roundMantissa(float64(x), 11)) }
			case safetensors.BF16:
				round = func(x float32) float32 { return float32(roundMantissa(float64(x), 8)) }
			}
			in := tinyTensors("", safetensors.F32)
			for i, v := range in[len(in)-4].Data { // h.0.mlp.c_proj.weight
				if got := wf.Blocks[0].MLPProjW[i]; got != round(v) {
					t.Fatalf("MLPProjW[%d] = %v, want %v (%v rounded to %s)", i, got, round(v), v, tc.dtype)
				}
			}
			if tc.wantHead && wf.LMHead[7] != wf.WTE[7]+1 {
				t.Errorf("LMHead[7] = %v, want WTE[7]+1 = %v", wf.LMHead[7], wf.WTE[7]+1)
			}
			if err := m.Close(); err != nil || m.Weights.WTE != nil || m.Weights.WTEHalf.Stored() {
				t.Errorf("Close = %v, weights cleared %v", err, m.Weights.WTE == nil && !m.Weights.WTEHalf.Stored())
			}
		})
	}
}

// roundMantissa rounds x (normal, in range) to bits significant bits, ties to
// even: a float64 reference for F16 (11 bits) and BF16 (8 bits) rounding.
func roundMantissa(x float64, bits int) float64 {
	frac, exp := math.Frexp(x) // x = frac·2^exp, 0.5 ≤ |frac| < 1
	return math.Ldexp(math.RoundToEven(math.Ldexp(frac, bits)), exp-bits)
}

func TestLoadSharded(t *testing.T) {
	t.Parallel()
	tensors := tinyTensors("transformer.", safetensors.F32)
	single, err := Load(writeCheckpoint(t, tinyConfig, tensors))
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()

	// writeSharded splits tensors over two shards and writes an index with
	// the given weight map edits.
	writeSharded := func(t *testing.T, edit func(weightMap map[string]string)) string {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "config.json"), []byte(tinyConfig), 0o644)
		shards := map[string][]safetensors.Tensor{
			"model-00001-of-00002.safetensors": tensors[:7],
			"model-00002-of-00002.safetensors": tensors[7:],
		}
		weightMap := map[string]string{}
		for file, ts := range shards {
			if err := safetensors.Write(filepath.Join(dir, file), ts, nil); err != nil {
				t.Fatal(err)
			}
			for _, x := range ts {
				weightMap[x.Name] = file
			}
		}
		edit(weightMap)
		index, _ := json.Marshal(map[string]any{"metadata": map[string]int{"total_size": 1}, "weight_map": weightMap})
		os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), index, 0o644)
		return dir
	}
	t.Run("round trip", func(t *testing.T) {
		m, err := Load(writeSharded(t, func(map[string]string) {}))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if len(m.files) != 2 {
			t.Errorf("%d shard files kept open, want 2 (F32 weights share them)", len(m.files))
		}
		for l := range single.Weights.Blocks {
			a, b := single.Weights.Blocks[l], m.Weights.Blocks[l]
			if !bitsEqual(a.AttnW, b.AttnW) || !bitsEqual(a.MLPProjB, b.MLPProjB) || !bitsEqual(a.LN1G, b.LN1G) {
				t.Errorf("block %d differs from the single-file load", l)
			}
		}
		if !bitsEqual(single.Weights.WTE, m.Weights.WTE) || !bitsEqual(single.Weights.LNFB, m.Weights.LNFB) {
			t.Errorf("embeddings or ln_f differ from the single-file load")
		}
	})
	for _, tc := range []struct {
		name  string
		edit  func(map[string]string)
		words []string
	}{
		{"listed but missing from its shard", func(w map[string]string) { w["transformer.h.0.extra"] = "model-00001-of-00002.safetensors" },
			[]string{`"transformer.h.0.extra"`, "model-00001-of-00002.safetensors", "missing"}},
		{"in a shard but not listed", func(w map[string]string) { delete(w, "transformer.wpe.weight") },
			[]string{`"transformer.wpe.weight"`, "not listed"}},
		{"listed for the other shard", func(w map[string]string) { w["transformer.wpe.weight"] = "model-00002-of-00002.safetensors" },
			[]string{`"transformer.wpe.weight"`, "not listed for this shard"}},
		{"shard outside the folder", func(w map[string]string) { w["transformer.wpe.weight"] = "../model.safetensors" },
			[]string{`"../model.safetensors"`, "not a plain .safetensors file name"}},
		{"shard file absent", func(w map[string]string) { w["transformer.h.0.extra"] = "model-00003.safetensors" },
			[]string{"model-00003.safetensors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeSharded(t, tc.edit))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %v\ndoes not mention %s", err, w)
				}
			}
		})
	}
}
