package gemm

import (
	"runtime"
	"testing"
)

// cpuBench runs body b.N times on one locked thread and reports
// GFLOP per CPU-second next to the wall-clock GFLOP/s.
func cpuBench(b *testing.B, flop float64, body func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := threadCPU()
	n := 0
	for b.Loop() {
		body()
		n++
	}
	cpu := threadCPU() - t0
	b.ReportMetric(flop*float64(n)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flop*float64(n)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	}
}
