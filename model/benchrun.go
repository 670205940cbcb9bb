package model

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/trace"
)

// GPT2SmallConfig is GPT-2 124M's shape (Hugging Face "gpt2").
var GPT2SmallConfig = arch.Config{
	ModelType: "gpt2", VocabSize: 50257, NPositions: 1024, NEmbd: 768, NLayer: 12,
	NHead: 12, NInner: 3072, LayerNormEpsilon: 1e-5, Activation: "gelu_new",
	BOSTokenID: 50256, EOSTokenID: 50256,
}

// RandomModel builds a model of shape c with seeded random weights (normal,
// std 0.02, as GPT-2's initialisation; LayerNorm gains 1) and a synthetic
// byte-level tokenizer of c.VocabSize tokens (the 256 bytes, merged pairs
// of bytes, <|endoftext|> last), for timing a model's shapes without
// downloading it. c.VocabSize must be at least 257.
func RandomModel(c arch.Config, seed uint64) (*Model, error) {
	rng := rand.New(rand.NewPCG(seed, seed))
	normal := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.02)
		}
		return x
	}
	ones := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = 1
		}
		return x
	}
	e, in := c.NEmbd, c.NInner
	w := Weights{WTE: normal(c.VocabSize * e), WPE: normal(c.NPositions * e), LNFG: ones(e), LNFB: make([]float32, e)}
	for range c.NLayer {
		w.Blocks = append(w.Blocks, Block{
			LN1G: ones(e), LN1B: make([]float32, e),
			AttnW: normal(e * 3 * e), AttnB: normal(3 * e),
			AttnProjW: normal(e * e), AttnProjB: normal(e),
			LN2G: ones(e), LN2B: make([]float32, e),
			FCW: normal(e * in), FCB: normal(in),
			MLPProjW: normal(in * e), MLPProjB: normal(e),
		})
	}
	m := &Model{Name: fmt.Sprintf("random %d×%d, vocab %d", c.NLayer, c.NEmbd, c.VocabSize), Config: c, Weights: w}
	tok, err := syntheticTokenizer(c.VocabSize)
	if err != nil {
		return nil, err
	}
	m.Tokenizer = tok
	return m, nil
}

// syntheticTokenizer returns a byte-level BPE tokenizer of V tokens: the
// 256 bytes, then V−257 merges of two bytes, then <|endoftext|>.
func syntheticTokenizer(V int) (*bpe.Tokenizer, error) {
	if V < 257 || V > 256+256*256+1 {
		return nil, fmt.Errorf("synthetic tokenizer: vocab_size %d outside [257, %d]", V, 256+256*256+1)
	}
	// GPT-2's byte-to-symbol map (openai/gpt-2 encoder.py bytes_to_unicode).
	var sym [256]string
	var order []int
	printable := func(b int) bool { return b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF }
	extra := 0
	for b := 0; b < 256; b++ {
		if printable(b) {
			sym[b] = string(rune(b))
			order = append(order, b)
		}
	}
	for b := 0; b < 256; b++ {
		if !printable(b) {
			sym[b] = string(rune(256 + extra))
			order = append(order, b)
			extra++
		}
	}
	vocab := map[string]int{}
	for id, b := range order {
		vocab[sym[b]] = id
	}
	var merges strings.Builder
	merges.WriteString("#version: 0.2\n")
	for k := 0; k < V-257; k++ {
		a, b := sym[order[k/256]], sym[order[k%256]]
		vocab[a+b] = 256 + k
		merges.WriteString(a + " " + b + "\n")
	}
	vocab["<|endoftext|>"] = V - 1
	vj, err := json.Marshal(vocab)
	if err != nil {
		return nil, err
	}
	return bpe.Parse(vj, "vocab.json", []byte(merges.String()), "merges.txt")
}

// BenchOptions sets what Bench times.
type BenchOptions struct {
	// Prompt is the prompt length in tokens (default 128, at most
	// n_positions − Steps).
	Prompt int
	// Steps is the number of decode steps timed after it (default 32).
	Steps int
	// Rounds is how many times each figure is measured; the best round is
	// reported (default 3).
	Rounds int
}

// BenchFigure is one timed mode.
type BenchFigure struct {
	Name      string  // e.g. "decode, recorded"
	TokensPer float64 // tokens per second (best round)
	Millis    float64 // milliseconds per token (best round)
	// AllocsPer and BytesPer are heap allocations and bytes allocated per
	// token (best round), from runtime.MemStats.
	AllocsPer, BytesPer float64
}

// BenchResult is what Bench measured.
type BenchResult struct {
	Model               string
	Params              int
	Prompt, Steps       int
	GOMAXPROCS          int
	Accelerated         bool // the AVX2 one-row kernels ran
	Figures             []BenchFigure
	SampleMillis        map[string]float64 // one draw, by setting
	HeapMiB, PeakRSSMiB float64            // after the runs; PeakRSSMiB 0 where unknown
}

// Bench times m on the user's machine: prefill of opts.Prompt tokens and
// opts.Steps decode steps after it, each without a recorder, with the full
// Trace recorder, and with the recorder but no logit lens (so the lens's
// price shows separately), plus one sampler draw per setting. It errors
// when the model has no tokenizer, the lengths do not fit the context
// window, or ctx is cancelled.
func Bench(ctx context.Context, m *Model, opts BenchOptions) (*BenchResult, error) {
	if opts.Prompt <= 0 {
		opts.Prompt = 128
	}
	if opts.Steps <= 0 {
		opts.Steps = 32
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 3
	}
	c := m.Config
	if m.Tokenizer == nil {
		return nil, fmt.Errorf("bench: model %s has no tokenizer", m.Name)
	}
	if opts.Prompt+opts.Steps > c.NPositions {
		return nil, fmt.Errorf("bench: %d prompt tokens + %d steps exceed the context window of %d", opts.Prompt, opts.Steps, c.NPositions)
	}
	ids := benchIDs(opts.Prompt, c.VocabSize)
	res := &BenchResult{Model: m.Name, Params: m.NumParams(), Prompt: opts.Prompt, Steps: opts.Steps,
		GOMAXPROCS: runtime.GOMAXPROCS(0), Accelerated: gemvAccelerated(), SampleMillis: map[string]float64{}}
	type mode struct {
		name   string
		record bool
		lens   bool
	}
	modes := []mode{{"unrecorded", false, false}, {"recorded", true, true}, {"recorded, no logit lens", true, false}}
	newRunner := func(md mode) *Runner {
		s, _ := NewSampler(SamplingParams{Temperature: 0, TopP: 1}, 1)
		var rec Recorder
		if md.record {
			tr := &trace.Trace{PromptLen: opts.Prompt}
			for _, id := range ids {
				tr.Tokens = append(tr.Tokens, trace.Token{ID: id})
			}
			rec = newTraceRecorder(m, tr, TraceOptions{NoLogitLens: !md.lens}.withDefaults())
		}
		r := NewRunner(m, s, rec)
		r.Reserve(opts.Prompt + opts.Steps)
		return r
	}
	for _, md := range modes {
		pre := BenchFigure{Name: "prefill, " + md.name}
		dec := BenchFigure{Name: "decode, " + md.name}
		for round := 0; round < opts.Rounds; round++ {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
			// The previous round's runner is garbage: collect it before
			// timing, as testing.B does, so that it is not collected inside
			// a timed run and the heap does not grow towards twice the
			// weights (with GOGC=100 the collector otherwise waits until
			// the heap doubles).
			runtime.GC()
			r := newRunner(md)
			var f BenchFigure
			if err := measure(&f, opts.Prompt, func() error { return r.Prefill(ids) }); err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
			better(&pre, f)
			f = BenchFigure{}
			err := measure(&f, opts.Steps, func() error {
				for range opts.Steps {
					if _, err := r.Step(); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
			better(&dec, f)
		}
		res.Figures = append(res.Figures, pre, dec)
	}
	logits := make([]float32, c.VocabSize)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range logits {
		logits[i] = float32(rng.NormFloat64() * 3)
	}
	for _, sp := range []SamplingParams{{Temperature: 0, TopP: 1}, {Temperature: 1, TopP: 1}, {Temperature: 0.8, TopK: 40, TopP: 0.95}} {
		s, _ := NewSampler(sp, 1)
		best := 0.0
		for round := 0; round < opts.Rounds*5; round++ {
			start := time.Now()
			if _, err := s.Sample(logits); err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
			if ms := float64(time.Since(start).Microseconds()) / 1000; round == 0 || ms < best {
				best = ms
			}
		}
		res.SampleMillis[FormatSampling(sp)] = best
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapMiB = float64(ms.HeapInuse) / (1 << 20)
	res.PeakRSSMiB = peakRSSMiB()
	return res, nil
}

// measure times fn, which processes n tokens, into f.
func measure(f *BenchFigure, n int, fn func() error) error {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	err := fn()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	f.TokensPer = float64(n) / d.Seconds()
	f.Millis = float64(d.Microseconds()) / 1000 / float64(n)
	f.AllocsPer = float64(after.Mallocs-before.Mallocs) / float64(n)
	f.BytesPer = float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	return err
}

// better keeps in best the faster of best and f (the first f if best is
// empty), keeping best's name.
func better(best *BenchFigure, f BenchFigure) {
	if best.TokensPer == 0 || f.TokensPer > best.TokensPer {
		name := best.Name
		*best = f
		best.Name = name
	}
}

// peakRSSMiB reads the process's peak resident set (VmHWM) from
// /proc/self/status; 0 where there is none.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}

// benchIDs returns n token ids spread over the vocabulary.
func benchIDs(n, vocab int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = (i*7919 + 13) % vocab
	}
	return ids
}
