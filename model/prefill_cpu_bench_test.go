//go:build linux

package model

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPrefill128CPU is BenchmarkPrefill128 with a second figure,
// tokens per CPU-second of the whole process: on a shared machine other
// processes stretch wall time far more than they change the CPU time a
// prefill needs, so the ratio of two builds' tokens/cpu-s is the steadier
// speed comparison (it does not credit parallel speed-up; tokens/s does).
func BenchmarkPrefill128CPU(b *testing.B) {
	m := getBenchModel(b)
	ids := benchIDs(128, m.Config.VocabSize)
	s, _ := NewSampler(SamplingParams{TopP: 1}, 1)
	b.ResetTimer()
	t0 := processCPU()
	for b.Loop() {
		r := NewRunner(m, s, nil)
		if err := r.Prefill(ids); err != nil {
			b.Fatal(err)
		}
	}
	cpu := processCPU() - t0
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tokens/s")
	if cpu > 0 {
		b.ReportMetric(float64(128*b.N)/cpu.Seconds(), "tokens/cpu-s")
	}
}

// BenchmarkSampleCPU is BenchmarkSample's new sampler with a second
// figure, CPU time per draw (user + system, all threads): steadier than
// wall time on a shared machine. go test ./model -run '^$' -bench SampleCPU
func BenchmarkSampleCPU(b *testing.B) {
	l := benchLogits(50257, 1)
	for _, tc := range []struct {
		name string
		p    SamplingParams
	}{
		{"greedy", SamplingParams{Temperature: 0, TopP: 1}},
		{"t1", SamplingParams{Temperature: 1, TopP: 1}},
		{"k40p95", SamplingParams{Temperature: 0.8, TopK: 40, TopP: 0.95}},
		{"p95", SamplingParams{Temperature: 0.8, TopP: 0.95}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, _ := NewSampler(tc.p, 1)
			t0 := processCPU()
			for b.Loop() {
				if _, err := s.Sample(l); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-t0).Nanoseconds())/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
