//go:build !purego

package train

import "golang.org/x/sys/cpu"

// useKern reports whether the kernels of kern_amd64.s run (AVX2: drop8
// compares integers in 256-bit lanes).
var useKern = cpu.X86.HasAVX2

//go:noescape
func lnApply8(o, x, w, b *float32, n int, m, r float32)

//go:noescape
func lnBack8(dx, dw, db, x, d, w *float32, n int, c *[4]float32)

//go:noescape
func mul8(dst, a, b *float32, n int)

//go:noescape
func sum8(dst, a, b *float32, n int)

//go:noescape
func scale8(dst *float32, n int, s float32)

//go:noescape
func softBack8(dr, pr *float32, n int, dot, s float32)

//go:noescape
func drop8(x, mask *float32, bits *uint64, n int, keep float32, thr uint32)

//go:noescape
func adamw8(p, grad, m, v *float32, n int, c *[9]float32)
