//go:build purego || !amd64

package train

// useKern is false where kern_amd64.s is not built: the Go loops run.
var useKern = false

func lnApply8(o, x, w, b *float32, n int, m, r float32)          { panic("train: no kernels") }
func lnBack8(dx, dw, db, x, d, w *float32, n int, c *[4]float32) { panic("train: no kernels") }
func mul8(dst, a, b *float32, n int)                             { panic("train: no kernels") }
func sum8(dst, a, b *float32, n int)                             { panic("train: no kernels") }
func scale8(dst *float32, n int, s float32)                      { panic("train: no kernels") }

func softBack8(dr, pr *float32, n int, dot, s float32) { panic("train: no kernels") }

func drop8(x, mask *float32, bits *uint64, n int, keep float32, thr uint32) {
	panic("train: no kernels")
}

func adamw8(p, grad, m, v *float32, n int, c *[9]float32) { panic("train: no kernels") }
