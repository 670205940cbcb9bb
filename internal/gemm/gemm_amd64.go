//go:build !purego

package gemm

import (
	"os"

	"golang.org/x/sys/cpu"
)

var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = cpu.X86.HasAVX512F
	// hasStrip reports whether the unpacked strip kernels (gemm4x16,
	// gemm1x16) can run.
	hasStrip = hasAVX2
)

var (
	avx2Kernel = &kernel{name: "avx2", mr: 6, nr: 16, kc: 256, mc: 96, nc: 4096, micro: kernAVX2_6x16, microA: kernAVX2_6x16s}
	// Zen 5 / Ice Lake-class caches: the 256×32 B micro-panel is 32 KiB
	// (L1 48 KiB), a 144×256 A block 144 KiB (L2 ≥ 1 MiB). A wide nc
	// packs the (small) A block of a prefill once per KC step; the B
	// block (4 MiB) is streamed panel by panel, each panel reused from L1.
	avx512Kernel = &kernel{name: "avx512", mr: 12, nr: 32, kc: 256, mc: 144, nc: 4096, micro: kernAVX512_12x32}
)

// kernels lists the kernels this CPU can run, best first.
func kernels() []*kernel {
	var ks []*kernel
	if hasAVX512 && hasAVX2 {
		ks = append(ks, avx512Kernel)
	}
	if hasAVX2 {
		ks = append(ks, avx2Kernel)
	}
	return append(ks, goKernel)
}

// selectKernel picks the best kernel the CPU runs, or the one named by
// GPTVIZ_GEMM if the CPU runs it.
func selectKernel() *kernel {
	ks := kernels()
	if want := os.Getenv("GPTVIZ_GEMM"); want != "" {
		for _, k := range ks {
			if k.name == want {
				return k
			}
		}
	}
	return ks[0]
}

// kernAVX2_6x16 computes C[6,16] += Ap·Bp (see kernel_amd64.s).
//
//go:noescape
func kernAVX2_6x16(k int, a, b, c *float32, ldc int)

// kernAVX2_6x16s is kernAVX2_6x16 with A read in place: A(i, p) at
// a[i·rs + p·cs] (see kernel_amd64.s).
//
//go:noescape
func kernAVX2_6x16s(k int, a, b, c *float32, ldc, rs, cs int)

// kernAVX512_12x32 computes C[12,32] += Ap·Bp (see kernel_amd64.s).
//
//go:noescape
func kernAVX512_12x32(k int, a, b, c *float32, ldc int)

// gemm4x16 computes C[4,16] += A[4,k]·B[k,16], unpacked (see gemm_amd64.s).
//
//go:noescape
func gemm4x16(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int)

// gemm1x16 computes C[1,16] += A[1,k]·B[k,16], unpacked (see gemm_amd64.s).
//
//go:noescape
func gemm1x16(a *float32, b *float32, ldb int, c *float32, k int)

// packT8 packs 8 rows of a transposed B (rows ldb floats apart) into 8
// columns of a 16-wide panel, k (a positive multiple of 8) steps: see
// gemm_amd64.s.
//
//go:noescape
func packT8(dst, b *float32, ldb, k int)

// packN16 copies k > 0 rows of 16 floats (ldb apart) into a 16-wide panel
// (see gemm_amd64.s).
//
//go:noescape
func packN16(dst, b *float32, ldb, k int)
