//go:build linux

package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
	"github.com/gptviz/gptviz/model/trace"
)

// The measurements of model/PERF.md's "16-bit weights" section, run by
// hand (each skipped unless its variable is set; see PERF.md for the
// commands):
//
//	GPTVIZ_WRITE=DIR GPTVIZ_WRITE_SHAPE=xl|gpt2 GPTVIZ_WRITE_DTYPE=F16|BF16|F32 [GPTVIZ_WRITE_SHARDS=N]
//	    TestWriteShaped: a checkpoint of GPT-2 XL's (1.56 B parameters) or
//	    124M's shapes with seeded random weights (normal, std 0.02), in N
//	    shards (default 1) with model.safetensors.index.json.
//	GPTVIZ_MEASURE=DIR [GPTVIZ_MEASURE_PROMPT=16 GPTVIZ_MEASURE_STEPS=8 GPTVIZ_MEASURE_ROUNDS=1]
//	    TestMeasureCheckpoint: Load's time and resident memory, then a greedy
//	    prefill and decode steps (unrecorded, recorded, recorded without the
//	    lens) with a synthetic tokenizer, in tokens per second and CPU
//	    milliseconds per token; with GPTVIZ_MEASURE_WIDEN set, the weights are widened to
//	    float32 after Load (what Load did before). Run under /usr/bin/time -v for the process's peak RSS.
//	GPTVIZ_COMPARE=DIR
//	    TestCompareWidened: the logits of a greedy prefill and decode steps
//	    of the checkpoint as loaded (16 bits kept) against the same weights
//	    widened to float32 (Weights.Float32): max |Δ logit|.

var shapes = map[string]string{
	"xl":   `{"model_type":"gpt2","vocab_size":50257,"n_positions":1024,"n_ctx":1024,"n_embd":1600,"n_head":25,"n_layer":48}`,
	"gpt2": `{"model_type":"gpt2","vocab_size":50257,"n_positions":1024,"n_ctx":1024,"n_embd":768,"n_head":12,"n_layer":12}`,
}

func TestWriteShaped(t *testing.T) {
	dir := os.Getenv("GPTVIZ_WRITE")
	if dir == "" {
		t.Skip("GPTVIZ_WRITE not set")
	}
	config, ok := shapes[os.Getenv("GPTVIZ_WRITE_SHAPE")]
	if !ok {
		t.Fatalf("GPTVIZ_WRITE_SHAPE %q: want xl or gpt2", os.Getenv("GPTVIZ_WRITE_SHAPE"))
	}
	dtype := safetensors.DType(os.Getenv("GPTVIZ_WRITE_DTYPE"))
	shards := 1
	if s := os.Getenv("GPTVIZ_WRITE_SHARDS"); s != "" {
		shards, _ = strconv.Atoi(s)
	}
	c, err := arch.ParseConfig([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var w Weights
	ps := params(c, &w)
	rng := rand.New(rand.NewPCG(1600, 48))
	weightMap := map[string]string{}
	per := (len(ps) + shards - 1) / shards
	for s := 0; s < shards; s++ {
		file := "model.safetensors"
		if shards > 1 {
			file = fmt.Sprintf("model-%05d-of-%05d.safetensors", s+1, shards)
		}
		var ts []safetensors.Tensor
		for _, p := range ps[s*per : min((s+1)*per, len(ps))] {
			n := 1
			for _, d := range p.shape {
				n *= d
			}
			data := make([]float32, n)
			gain := len(p.shape) == 1 && filepath.Ext(p.name) == ".weight"
			for i := range data {
				if gain {
					data[i] = 1
				} else {
					data[i] = float32(rng.NormFloat64() * 0.02)
				}
			}
			ts = append(ts, safetensors.Tensor{Name: p.name, DType: dtype, Shape: p.shape, Data: data})
			weightMap[p.name] = file
		}
		if err := safetensors.Write(filepath.Join(dir, file), ts, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
	}
	if shards > 1 {
		index, _ := json.Marshal(map[string]any{"metadata": map[string]int{}, "weight_map": weightMap})
		if err := os.WriteFile(filepath.Join(dir, arch.IndexFile), index, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func TestMeasureCheckpoint(t *testing.T) {
	dir := os.Getenv("GPTVIZ_MEASURE")
	if dir == "" {
		t.Skip("GPTVIZ_MEASURE not set")
	}
	start := time.Now()
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if os.Getenv("GPTVIZ_MEASURE_WIDEN") != "" { // as before: every matrix widened at load
		w := m.Weights.Float32()
		m.Close()
		m = &Model{Name: m.Name, Config: m.Config, Weights: w, Tokenizer: m.Tokenizer}
	}
	load := time.Since(start)
	fmt.Printf("load %.2f s, peak RSS after load %.0f MiB, 16-bit matrices %v\n", load.Seconds(), peakRSSMiB(), m.Weights.WTEHalf.Stored())
	if m.Tokenizer == nil {
		if m.Tokenizer, err = syntheticTokenizer(m.Config.VocabSize); err != nil {
			t.Fatal(err)
		}
	}
	// Decode steps timed by wall clock and by the process's CPU time: on
	// a shared machine other processes stretch the first far more than the
	// second (memory stalls count as CPU time, so fewer bytes read shows).
	prompt, steps := envInt("GPTVIZ_MEASURE_PROMPT", 16), envInt("GPTVIZ_MEASURE_STEPS", 8)
	ids := benchIDs(prompt, m.Config.VocabSize)
	for round := range envInt("GPTVIZ_MEASURE_ROUNDS", 1) {
		for _, mode := range []string{"unrecorded", "recorded", "recorded, no logit lens"} {
			s, _ := NewSampler(SamplingParams{Temperature: 0, TopP: 1}, 1)
			var rec Recorder
			if mode != "unrecorded" {
				tr := &trace.Trace{PromptLen: prompt}
				for _, id := range ids {
					tr.Tokens = append(tr.Tokens, trace.Token{ID: id})
				}
				rec = newTraceRecorder(m, tr, TraceOptions{NoLogitLens: mode != "recorded"}.withDefaults())
			}
			r := NewRunner(m, s, rec)
			r.Reserve(prompt + steps)
			w0, c0 := time.Now(), processCPU()
			if err := r.Prefill(ids); err != nil {
				t.Fatal(err)
			}
			w1, c1 := time.Now(), processCPU()
			for range steps {
				if _, err := r.Step(); err != nil {
					t.Fatal(err)
				}
			}
			w2, c2 := time.Now(), processCPU()
			fmt.Printf("round %d %-24s prefill %6.2f tok/s %7.0f cpu-ms/token | decode %6.2f tok/s %7.0f cpu-ms/token\n", round, mode,
				float64(prompt)/w1.Sub(w0).Seconds(), float64((c1-c0).Milliseconds())/float64(prompt),
				float64(steps)/w2.Sub(w1).Seconds(), float64((c2-c1).Milliseconds())/float64(steps))
		}
	}
	fmt.Printf("peak RSS %.0f MiB\n", peakRSSMiB())
}

func TestCompareWidened(t *testing.T) {
	dir := os.Getenv("GPTVIZ_COMPARE")
	if dir == "" {
		t.Skip("GPTVIZ_COMPARE not set")
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	wide := &Model{Name: m.Name, Config: m.Config, Weights: m.Weights.Float32()}
	ids := benchIDs(envInt("GPTVIZ_MEASURE_PROMPT", 16), m.Config.VocabSize)
	steps := envInt("GPTVIZ_MEASURE_STEPS", 8)
	run := func(m *Model) [][]float32 {
		ws, kc := &workspace{}, NewKVCache(m.Config)
		var out [][]float32
		logits, err := m.forward(ws, kc, ids, ForwardInfo{}, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]float32(nil), logits...))
		next := argmax(logits[len(logits)-m.Config.VocabSize:])
		for range steps {
			logits, err := m.forward(ws, kc, []int{next}, ForwardInfo{}, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, append([]float32(nil), logits...))
			next = argmax(logits)
		}
		return out
	}
	got, want := run(m), run(wide)
	var maxDiff, maxAbs float64
	for i := range want {
		for j := range want[i] {
			maxAbs = math.Max(maxAbs, math.Abs(float64(want[i][j])))
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[i][j]-want[i][j])))
		}
	}
	fmt.Printf("max |logit difference| 16-bit vs widened float32: %g (max |logit| %g; %d prompt rows + %d steps)\n", maxDiff, maxAbs, len(ids), steps)
	if tol := math.Max(1e-4, 1e-5*maxAbs); !(maxDiff <= tol) {
		t.Errorf("max |Δ logit| %g over the reference tolerance %g", maxDiff, tol)
	}
}
