//go:build !amd64 || purego

package gemv

// useF16C is false where no assembly kernel exists.
var useF16C = false

func dot4h(x *float32, w *uint16, ld int, n int, out *float32)  { panic("gemv: no assembly") }
func dot4b(x *float32, w *uint16, ld int, n int, out *float32)  { panic("gemv: no assembly") }
func axpy4h(out *float32, n int, w *uint16, ld int, x *float32) { panic("gemv: no assembly") }
func axpy4b(out *float32, n int, w *uint16, ld int, x *float32) { panic("gemv: no assembly") }
func dot4x3h(x *float32, ldx int, w *uint16, ldw int, n int, groups int, out *float32, ldo int, pf *uint16) {
	panic("gemv: no assembly")
}
func dot4x3b(x *float32, ldx int, w *uint16, ldw int, n int, groups int, out *float32, ldo int, pf *uint16) {
	panic("gemv: no assembly")
}
func widenh(dst *float32, src *uint16, n int) { panic("gemv: no assembly") }
func widenb(dst *float32, src *uint16, n int) { panic("gemv: no assembly") }

func dot4x3zh(x *float32, ldx int, w *uint16, ldw int, n int, out *float32, ldo int) {
	panic("gemv: dot4x3zh without assembly")
}

func dot4x3zb(x *float32, ldx int, w *uint16, ldw int, n int, out *float32, ldo int) {
	panic("gemv: dot4x3zb without assembly")
}
