//go:build !amd64 || purego

package train

// useAsm is false where no assembly micro-kernel exists.
var useAsm = false

func gemm4x16(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int) {
	panic("train: gemm4x16 without assembly")
}
