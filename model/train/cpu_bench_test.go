//go:build linux

package train

import (
	"syscall"
	"testing"
	"time"

	"github.com/gptviz/gptviz/model/arch"
)

// processCPU returns the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTrainStepCPU is one training step of the default model's
// configuration (model/defaultmodel: 6 layers, width 128, 4 heads,
// vocabulary 384, 16 windows of 128 tokens, dropout 0.2, 2 shards), with tokens per CPU-second next to
// tokens/s: on a shared machine the CPU-time figure is the steadier one for
// comparing two builds.
func BenchmarkTrainStepCPU(b *testing.B) {
	c := arch.Config{VocabSize: 384, NPositions: 128, NEmbd: 128, NLayer: 6, NHead: 4, NInner: 512}
	o := DefaultOptions(c, 1000)
	o.BatchSize = 16
	o.Dropout = 0.2
	tr, err := New(o, Data{Train: randomData(100000, c.VocabSize, 1)})
	if err != nil {
		b.Fatal(err)
	}
	tr.TrainStep() // warm up: scratch buffers
	b.ResetTimer()
	t0 := processCPU()
	for b.Loop() {
		tr.TrainStep()
	}
	cpu := processCPU() - t0
	b.ReportMetric(float64(tr.TokensPerStep())*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	if cpu > 0 {
		b.ReportMetric(float64(tr.TokensPerStep())*float64(b.N)/cpu.Seconds(), "tokens/cpu-s")
	}
}
