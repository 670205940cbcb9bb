//go:build !amd64 || purego

package gemm

// useAsm is false where no assembly micro-kernel exists.
var useAsm = false

func gemm4x16(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int) {
	panic("gemm: gemm4x16 without assembly")
}

func gemm1x16(a *float32, b *float32, ldb int, c *float32, k int) {
	panic("gemm: gemm1x16 without assembly")
}
