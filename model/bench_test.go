package model

import (
	"context"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/trace"
)

// gpt2SmallConfig is GPT-2 124M's shape.
var gpt2SmallConfig = GPT2SmallConfig

// randomModel is RandomModel for tests (shapes that need no tokenizer
// check: vocab_size ≥ 257).
func randomModel(c arch.Config, seed uint64) *Model {
	m, err := RandomModel(c, seed)
	if err != nil {
		panic(err)
	}
	return m
}

var benchModel *Model

func getBenchModel(b *testing.B) *Model {
	if benchModel == nil {
		benchModel = randomModel(gpt2SmallConfig, 1)
	}
	return benchModel
}

// BenchmarkPrefill128 is the prefill of a 128-token prompt on a
// GPT-2-124M-shaped model; tokens/s is reported.
func BenchmarkPrefill128(b *testing.B) {
	m := getBenchModel(b)
	ids := benchIDs(128, m.Config.VocabSize)
	s, _ := NewSampler(SamplingParams{TopP: 1}, 1)
	b.ResetTimer()
	for b.Loop() {
		r := NewRunner(m, s, nil)
		if err := r.Prefill(ids); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkPrefill128Reused is BenchmarkPrefill128 on one runner, rewound
// before each prefill: its workspace and KV cache are reused, so the
// difference from BenchmarkPrefill128 is what first touching fresh memory
// (page faults, zeroing) costs a new runner.
func BenchmarkPrefill128Reused(b *testing.B) {
	m := getBenchModel(b)
	ids := benchIDs(128, m.Config.VocabSize)
	s, _ := NewSampler(SamplingParams{TopP: 1}, 1)
	r := NewRunner(m, s, nil)
	for b.Loop() {
		r.cache.Len = 0
		r.tokens = r.tokens[:0]
		if err := r.Prefill(ids); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkDecode128 is one decode step at context 128 (the cache is
// rewound to 128 positions before each step); tokens/s and allocations per
// step are reported.
func BenchmarkDecode128(b *testing.B) {
	m := getBenchModel(b)
	s, _ := NewSampler(SamplingParams{TopP: 1}, 1)
	r := NewRunner(m, s, nil)
	if err := r.Prefill(benchIDs(128, m.Config.VocabSize)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.cache.Len = 128
		r.tokens = r.tokens[:128]
		if _, err := r.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkRunRecorded64x64 is a full recorded run (Trace with attention,
// logit lens, KV cache) of a 64-token prompt and 64 decode steps.
func BenchmarkRunRecorded64x64(b *testing.B) {
	m := *getBenchModel(b)
	tok, err := bpe.Load(testref.Path(b, "gpt2-tiny-random", "vocab.json"), testref.Path(b, "gpt2-tiny-random", "merges.txt"))
	if err != nil {
		b.Fatal(err)
	}
	m.Tokenizer = tok
	prompt := string(tok.Decode(benchIDs(64, 50000)))
	b.ResetTimer()
	for b.Loop() {
		tr, err := Run(context.Background(), &m, RunOptions{Prompt: prompt, Steps: 64, Sampling: SamplingParams{Temperature: 1, TopP: 1}, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		_ = tr
	}
	b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "decode-tokens/s")
}

// BenchmarkDecode128Recorded is BenchmarkDecode128 with the full Trace
// recorder attached (attention, residual norms, logit lens, candidates).
func BenchmarkDecode128Recorded(b *testing.B) {
	m := *getBenchModel(b)
	tok, err := bpe.Load(testref.Path(b, "gpt2-tiny-random", "vocab.json"), testref.Path(b, "gpt2-tiny-random", "merges.txt"))
	if err != nil {
		b.Fatal(err)
	}
	m.Tokenizer = tok
	s, _ := NewSampler(SamplingParams{Temperature: 1, TopP: 1}, 1)
	tr := &trace.Trace{}
	rec := newTraceRecorder(&m, tr, TraceOptions{}.withDefaults())
	r := NewRunner(&m, s, rec)
	if err := r.Prefill(benchIDs(128, m.Config.VocabSize)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.cache.Len = 128
		r.tokens = r.tokens[:128]
		tr.Steps = tr.Steps[:0]
		if _, err := r.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkOverflow1024x64 is issue 12's long run on a GPT-2-124M-shaped
// model: a 1,024-token prompt (the whole window) and 64 decode steps, no
// recorder, with each overflow policy. block recomputes 769 positions once;
// slide recomputes the 1,024-position window at every step. Run it once:
// go test ./model -run '^$' -bench Overflow1024x64 -benchtime 1x
func BenchmarkOverflow1024x64(b *testing.B) {
	m := getBenchModel(b)
	ids := benchIDs(1024, m.Config.VocabSize)
	for _, o := range []Overflow{OverflowBlock, OverflowSlide} {
		b.Run(string(o), func(b *testing.B) {
			for b.Loop() {
				s, _ := NewSampler(SamplingParams{Temperature: 1, TopP: 1}, 1)
				r := NewRunner(m, s, nil)
				if err := r.SetOverflow(o); err != nil {
					b.Fatal(err)
				}
				if err := r.Prefill(ids); err != nil {
					b.Fatal(err)
				}
				for range 64 {
					if _, err := r.Step(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
		})
	}
}
