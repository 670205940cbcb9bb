//go:build !purego

package vexp

import "golang.org/x/sys/cpu"

// useAsm reports whether the AVX2+FMA kernel can run, and whether
// math.Exp itself takes its FMA branch (math/exp_amd64.go: useFMA =
// HasAVX && HasFMA), whose operations the kernel repeats.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

// expShifted4 sets out[i] = exp((float64(x[i]) − m) / d) for i < n, a
// positive multiple of 4, by math.Exp's amd64 method. It reports whether
// every argument lay in [−rangeLimit, rangeLimit]; lanes outside hold
// garbage (see vexp_amd64.s).
//
//go:noescape
func expShifted4(out *float64, x *float32, n int, m, d float64) bool

// log2x4 sets out[i] = math.Log2(x[i]) for i < n, a positive multiple of
// 4, by math.Log2's amd64 method. It reports whether every x[i] was a
// positive normal number other than a power of two; other lanes hold
// garbage (see vexp_amd64.s).
//
//go:noescape
func log2x4(out, x *float64, n int) bool

// div4 sets x[i] /= d for i < n, a positive multiple of 4.
//
//go:noescape
func div4(x *float64, n int, d float64)

// expSum4 returns Σ exp((float64(x[i]) − m) / d) over i < n, a positive
// multiple of 4, summed in index order, and whether every argument lay in
// the kernel's range (see vexp_amd64.s).
//
//go:noescape
func expSum4(x *float32, n int, m, d float64) (sum float64, ok bool)

// gelu4 sets out[i] = gelu_new(x[i]) and, unless th is nil, th[i] =
// tanh(u) for i < n, a positive multiple of 4, as geluOne does (see
// gelu.go and vexp_amd64.s). out may equal x.
//
//go:noescape
func gelu4(out, th, x *float32, n int)

// exp32x8 sets row[i] = exp32(row[i] − mx) for i < n, a positive multiple
// of 8 (see exp32.go and vexp_amd64.s); c is exp32Consts.
//
//go:noescape
func exp32x8(row *float32, n int, mx float32, c *[11]float32)

// sumExp32x8 adds float64(exp32(x[i] − mx)) to lanes[i mod 8] for i < n,
// a positive multiple of 8, in index order (see SumExp32 and
// vexp_amd64.s); c is exp32Consts.
//
//go:noescape
func sumExp32x8(x *float32, n int, mx float32, c *[11]float32, lanes *[8]float64)

// geluGrad8 adds geluGradOne(dout[i], x[i], th[i]) to dinp[i] for i < n,
// a positive multiple of 8, bit for bit (see vexp_amd64.s); c holds
// geluGradConsts.
//
//go:noescape
func geluGrad8(dinp, dout, x, th *float32, n int, c *[4]float32)
