//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

// useAsm reports whether the AVX2+FMA micro-kernels can run on this CPU.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// gemm4x16 computes C[4,16] += A[4,k] @ B[k,16] (see gemm_amd64.s).
//
//go:noescape
func gemm4x16(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int)

// gemm1x16 computes C[1,16] += A[1,k] @ B[k,16] (see gemm_amd64.s).
//
//go:noescape
func gemm1x16(a *float32, b *float32, ldb int, c *float32, k int)
