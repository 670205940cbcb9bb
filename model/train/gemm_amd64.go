//go:build !purego

package train

import "golang.org/x/sys/cpu"

// useAsm reports whether the AVX2+FMA micro-kernel can run on this CPU.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// gemm4x16 computes C[4,16] += A[4,k] @ B[k,16] (see gemm_amd64.s).
//
//go:noescape
func gemm4x16(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int)
