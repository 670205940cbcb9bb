//go:build !amd64 || purego

package gemm

// hasStrip is false where no assembly strip kernel exists.
const hasStrip = false

// kernels lists the kernels this build can run: the portable one.
func kernels() []*kernel { return []*kernel{goKernel} }

// selectKernel returns the portable kernel.
func selectKernel() *kernel { return goKernel }

func gemm4x16(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int) {
	panic("gemm: gemm4x16 without assembly")
}

func gemm1x16(a *float32, b *float32, ldb int, c *float32, k int) {
	panic("gemm: gemm1x16 without assembly")
}

func packT8(dst, b *float32, ldb, k int) { panic("gemm: packT8 without assembly") }

func packN16(dst, b *float32, ldb, k int) { panic("gemm: packN16 without assembly") }
