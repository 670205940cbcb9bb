//go:build !amd64 || purego

package gemv

import "unsafe"

// useAsm is false where no assembly kernel exists.
var useAsm = false

// useAVX512 is false where no assembly kernel exists.
var useAVX512 = false

func dot4(x *float32, w *float32, ld int, n int, out *float32) {
	panic("gemv: dot4 without assembly")
}

func axpy4(out *float32, n int, w *float32, ld int, x *float32) {
	panic("gemv: axpy4 without assembly")
}

func dot4x3(x *float32, ldx int, w *float32, ldw int, n int, groups int, out *float32, ldo int, pf *float32) {
	panic("gemv: dot4x3 without assembly")
}

func dot4x3z(x *float32, ldx int, w *float32, ldw int, n int, out *float32, ldo int) {
	panic("gemv: dot4x3z without assembly")
}

// prefetch does nothing where there is no assembly.
func prefetch(p unsafe.Pointer, n int) {}
