package gemm

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used (Linux
// RUSAGE_THREAD); benchmarks lock their goroutine to one thread and
// report work per CPU-second, a figure that other processes on a shared
// machine disturb far less than wall time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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
