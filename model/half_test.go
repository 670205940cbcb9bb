package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gptviz/gptviz/internal/gemv"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
	"github.com/gptviz/gptviz/model/trace"
)

// halfConfig is big enough for the 16-bit kernels' vector loops and their
// tails (n_embd 40 = 32 + 8, n_inner 160, vocab 301 = 4·75 + 1 rows).
const halfConfig = `{"model_type":"gpt2","vocab_size":301,"n_positions":16,"n_embd":40,"n_head":2,"n_layer":2,"activation_function":"gelu_new"}`

// halfTensors returns seeded random weights of halfConfig (normal, std
// 0.2; LayerNorm gains near 1) stored as dtype, with an untied lm_head
// when untied is set.
func halfTensors(t *testing.T, dtype safetensors.DType, untied bool) []safetensors.Tensor {
	c, err := arch.ParseConfig([]byte(halfConfig))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(16, 16))
	var w Weights
	ps := params(c, &w)
	if untied {
		ps = append(ps, param{name: "lm_head.weight", shape: []int{c.VocabSize, c.NEmbd}})
	}
	var ts []safetensors.Tensor
	for _, p := range ps {
		n := 1
		for _, d := range p.shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(rng.NormFloat64() * 0.2)
			if len(p.shape) == 1 && p.half == nil && (filepath.Ext(p.name) == ".weight") {
				data[i] += 1 // LayerNorm gains
			}
		}
		ts = append(ts, safetensors.Tensor{Name: p.name, DType: dtype, Shape: p.shape, Data: data})
	}
	return ts
}

// misalign rewrites dir/model.safetensors with one more space in its
// header, so that the data buffer starts at an odd offset and no 16-bit
// tensor can be shared with the file (Load copies them).
func misalign(t *testing.T, dir string) {
	editFile(t, dir, "model.safetensors", func(b []byte) []byte {
		n := binary.LittleEndian.Uint64(b)
		out := make([]byte, 0, len(b)+1)
		out = binary.LittleEndian.AppendUint64(out, n+1)
		out = append(out, b[8:8+n]...)
		out = append(out, ' ')
		return append(out, b[8+n:]...)
	})
}

// TestHalfMatchesWidened loads F16 and BF16 checkpoints, whose matrices stay
// in 16 bits, and runs prefill and decode steps through every recorded
// tensor (the logits, the lens's residuals, K/V, attention), on the
// assembly and the portable kernels, against the same model with its
// weights widened to float32 (Weights.Float32): the results agree within
// the reference tolerances (closeEnough), and on amd64 bit for bit, since
// widening is exact and the 16-bit kernels sum in the float32 kernels'
// order. The misaligned variant takes Load's copying path. It is not
// parallel: gemv.SetPortable switches the kernels of every product in the
// process, and a parallel test running beside it (TestRecordedSamplesSameLogits
// compares two passes bit for bit) would see the kernel change mid-run.
func TestHalfMatchesWidened(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dtype     safetensors.DType
		untied    bool
		misalign  bool
		wantShare bool
	}{
		{"F16", safetensors.F16, false, false, true},
		{"BF16 untied head", safetensors.BF16, true, false, true},
		{"F16 misaligned", safetensors.F16, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeCheckpoint(t, halfConfig, halfTensors(t, tc.dtype, tc.untied))
			if tc.misalign {
				misalign(t, dir)
			}
			m, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			w := &m.Weights
			if !w.WTEHalf.Stored() || !w.Blocks[1].FCWHalf.Stored() || w.Blocks[1].FCW != nil || w.LMHeadHalf.Stored() != tc.untied {
				t.Fatalf("matrices not kept in 16 bits (wte %v, fc %v, lm_head %v)", w.WTEHalf.Stored(), w.Blocks[1].FCWHalf.Stored(), w.LMHeadHalf.Stored())
			}
			if shared := len(m.files) > 0; shared != tc.wantShare {
				t.Errorf("file kept open (16-bit data shared) = %v, want %v", shared, tc.wantShare)
			}
			wide := &Model{Name: m.Name, Config: m.Config, Weights: w.Float32()}
			ids := []int{3, 300, 17, 256, 0, 42, 99, 150, 7}
			for _, portable := range []bool{false, true} {
				old := gemv.SetPortable(portable)
				got, want := halfRun(t, m, ids), halfRun(t, wide, ids)
				gemv.SetPortable(old)
				for name, wv := range want {
					closeEnough(t, fmt.Sprintf("portable=%v %s", portable, name), got[name], wv)
					if runtime.GOARCH != "amd64" {
						continue
					}
					for i := range wv {
						if math.Float32bits(got[name][i]) != math.Float32bits(wv[i]) {
							t.Errorf("portable=%v %s[%d] = %v from 16 bits, %v widened", portable, name, i, got[name][i], wv[i])
							break
						}
					}
				}
			}
		})
	}
}

// halfRun records a prefill of ids, one of its first 5, and decode steps
// over ids,
// every tensor keyed by pass and name.
func halfRun(t *testing.T, m *Model, ids []int) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for _, mode := range []string{"prefill", "short prefill", "decode"} {
		rec := newCapture(m.Config, len(ids))
		ws, kc := &workspace{}, NewKVCache(m.Config)
		switch mode {
		case "prefill": // T = 9: gemm packs the 16-bit blocks
			if _, err := m.forward(ws, kc, ids, ForwardInfo{Kind: trace.Prefill}, true, rec); err != nil {
				t.Fatal(err)
			}
		case "short prefill": // T = 5: gemm's unpacked path widens a strip
			if _, err := m.forward(ws, kc, ids[:5], ForwardInfo{Kind: trace.Prefill}, true, rec); err != nil {
				t.Fatal(err)
			}
		default:
			for p, id := range ids {
				info := ForwardInfo{Kind: trace.Decode, QueryStart: p, NewFrom: p}
				if _, err := m.forward(ws, kc, []int{id}, info, true, rec); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name, v := range rec.tensors {
			out[mode+"/"+name] = append([]float32(nil), v...)
		}
	}
	return out
}

// TestLoadHalfTruncated: an F16 checkpoint cut short, at any point of its
// data, is refused with a safetensors error naming the file, never read
// past its end.
func TestLoadHalfTruncated(t *testing.T) {
	t.Parallel()
	dir := writeCheckpoint(t, halfConfig, halfTensors(t, safetensors.F16, false))
	path := filepath.Join(dir, "model.safetensors")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int64{1, 2, 3, 1000, st.Size() / 2} {
		if err := os.Truncate(path, st.Size()-cut); err != nil {
			t.Fatal(err)
		}
		m, err := Load(dir)
		if err == nil {
			m.Close()
			t.Fatalf("cut %d bytes: Load succeeded", cut)
		}
		var se *safetensors.Error
		if !errors.As(err, &se) || se.File != path {
			t.Errorf("cut %d bytes: error %v, want a *safetensors.Error naming %s", cut, err, path)
		}
	}
}
