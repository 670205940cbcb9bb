//go:build !linux

package gemm

import "time"

// threadCPU is unavailable here: cpuBench then reports wall time only.
func threadCPU() time.Duration { return 0 }
