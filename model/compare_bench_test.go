package model_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

// The comparison benchmarks: 5 settings × 3 seeds × 64 decode steps on the
// embedded default model (128 positions), a 60-token prompt. Compare costs
// one prefill plus 15 × 64 decode steps; 15 separate Run calls cost 15
// prefills (and 15 recompute checks, each a full pass) plus the same
// decode steps. Each reports the summed prefill and decode time of its
// traces (ms per op) beside ns/op:
//
//	go test ./model -run '^$' -bench 'Compare5x3|Runs15' -benchtime 3x

var benchSettings = []model.SamplingParams{
	{Temperature: 0, TopP: 1},
	{Temperature: 0.7, TopP: 1},
	{Temperature: 1, TopP: 1},
	{Temperature: 1, TopK: 40, TopP: 1},
	{Temperature: 1, TopP: 0.9},
}

var benchSeeds = []uint64{1, 2, 3}

func benchPrompt(b *testing.B, m *model.Model) string {
	words := strings.Fields(strings.Repeat("the rays of light which are refracted in the glass are reflected back ", 8))
	var p string
	for _, w := range words {
		if len(m.Tokenizer.Encode(p+" "+w)) > 60 {
			break
		}
		p += " " + w
	}
	if n := len(m.Tokenizer.Encode(p)); n+64 > m.Config.NPositions || n < 50 {
		b.Fatalf("prompt of %d tokens", n)
	}
	return p
}

// reportTimings reports the prefill time (ms) and the decode time of all
// traces together.
func reportTimings(b *testing.B, traces []*trace.Trace, prefill float64) {
	var decode float64
	for _, tr := range traces {
		decode += tr.Timings.DecodeMillis
	}
	b.ReportMetric(prefill, "prefill-ms/op")
	b.ReportMetric(decode, "decode-ms/op")
}

func BenchmarkCompare5x3x64(b *testing.B) {
	m, err := defaultmodel.Load()
	if err != nil {
		b.Fatal(err)
	}
	prompt := benchPrompt(b, m)
	var last [][]*trace.Trace
	for b.Loop() {
		last, err = model.Compare(context.Background(), m, model.CompareOptions{Prompt: prompt, Steps: 64, Settings: benchSettings, Seeds: benchSeeds})
		if err != nil {
			b.Fatal(err)
		}
	}
	var all []*trace.Trace
	for _, row := range last {
		all = append(all, row...)
	}
	reportTimings(b, all, all[0].Timings.PrefillMillis) // one shared prefill
}

func BenchmarkRuns15x64(b *testing.B) {
	m, err := defaultmodel.Load()
	if err != nil {
		b.Fatal(err)
	}
	prompt := benchPrompt(b, m)
	var all []*trace.Trace
	for b.Loop() {
		all = all[:0]
		for _, p := range benchSettings {
			for _, seed := range benchSeeds {
				tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: prompt, Steps: 64, Sampling: p, Seed: seed})
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, tr)
			}
		}
	}
	var prefill float64
	for _, tr := range all {
		prefill += tr.Timings.PrefillMillis
	}
	reportTimings(b, all, prefill)
}
