package gemv

import (
	"math"
	"sync"
)

// Half is a row-major matrix of 16-bit floats, kept as a checkpoint stores
// them (F16 or BF16) and widened to float32 inside the kernels, so that a
// decode step streams half the bytes of float32 weights. Bits may share
// memory with a memory-mapped file: the kernels only read it.
type Half struct {
	Bits []uint16 // the elements' bit patterns, little-endian as stored
	BF16 bool     // bfloat16 when set, else IEEE 754 binary16 (F16)
}

// Len is the number of elements.
func (h Half) Len() int { return len(h.Bits) }

// Stored reports whether h holds a matrix (Bits is not nil).
func (h Half) Stored() bool { return h.Bits != nil }

// From returns the elements from index i on.
func (h Half) From(i int) Half { return Half{Bits: h.Bits[i:], BF16: h.BF16} }

// Slice returns the elements [i, j).
func (h Half) Slice(i, j int) Half { return Half{Bits: h.Bits[i:j:j], BF16: h.BF16} }

// At returns element i as float32 (exact).
func (h Half) At(i int) float32 {
	if h.BF16 {
		return BF16ToF32(h.Bits[i])
	}
	return F16ToF32(h.Bits[i])
}

// BF16ToF32 converts a bfloat16 bit pattern to float32 exactly.
func BF16ToF32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// F16ToF32 converts an IEEE 754 binary16 bit pattern to float32 exactly
// (subnormals, infinities and NaN payloads included).
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		e := uint32(127 - 14)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// f16Table maps every binary16 pattern to its float32 value (256 KiB),
// built on first use by the portable loops.
var (
	f16Once  sync.Once
	f16Table []float32
)

func f16Values() []float32 {
	f16Once.Do(func() {
		t := make([]float32, 1<<16)
		for i := range t {
			t[i] = F16ToF32(uint16(i))
		}
		f16Table = t
	})
	return f16Table
}

// Widen sets dst[i] to element i of src for i < len(dst), exactly; src
// holds at least len(dst) elements.
func Widen(dst []float32, src Half) {
	n := len(dst)
	if n == 0 {
		return
	}
	s := src.Bits[:n]
	i := 0
	if acceleratedHalf() && n >= 16 {
		i = n &^ 15
		if src.BF16 {
			widenb(&dst[0], &s[0], i)
		} else {
			widenh(&dst[0], &s[0], i)
		}
	}
	widenGo(dst[i:], Half{Bits: s[i:], BF16: src.BF16})
}

func widenGo(dst []float32, src Half) {
	s := src.Bits[:len(dst)]
	if src.BF16 {
		for i, b := range s {
			dst[i] = math.Float32frombits(uint32(b) << 16)
		}
		return
	}
	tab := f16Values()
	for i, b := range s {
		dst[i] = tab[b]
	}
}

// acceleratedHalf reports whether the 16-bit assembly kernels run: AVX2,
// FMA and F16C (VCVTPH2PS), and the portable loops not forced.
func acceleratedHalf() bool { return useAsm && useF16C && !portable }

// AcceleratedHalf reports whether the 16-bit kernels run in assembly.
func AcceleratedHalf() bool { return acceleratedHalf() }

// DotHalf returns Σ x[i]·w[i] for i < len(x), w widened exactly, with four
// partial sums (the portable loop and the kernels' tails).
func DotHalf(x []float32, w Half) float32 {
	b := w.Bits[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	if w.BF16 {
		for ; i+4 <= len(x); i += 4 {
			s0 += x[i] * BF16ToF32(b[i])
			s1 += x[i+1] * BF16ToF32(b[i+1])
			s2 += x[i+2] * BF16ToF32(b[i+2])
			s3 += x[i+3] * BF16ToF32(b[i+3])
		}
		for ; i < len(x); i++ {
			s0 += x[i] * BF16ToF32(b[i])
		}
		return (s0 + s1) + (s2 + s3)
	}
	tab := f16Values()
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * tab[b[i]]
		s1 += x[i+1] * tab[b[i+1]]
		s2 += x[i+2] * tab[b[i+2]]
		s3 += x[i+3] * tab[b[i+3]]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * tab[b[i]]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpyHalfGo computes y += a·x for x's first len(y) elements.
func axpyHalfGo(y []float32, a float32, x Half) {
	b := x.Bits[:len(y)]
	if x.BF16 {
		for i, v := range b {
			y[i] += a * BF16ToF32(v)
		}
		return
	}
	tab := f16Values()
	for i, v := range b {
		y[i] += a * tab[v]
	}
}

// axpy4HalfGo computes y += a[0]·w[0] + a[1]·w[ld] + a[2]·w[2ld] +
// a[3]·w[3ld] (rows of w), one pass over y: axpy4Go's arithmetic, so the
// portable path rounds as it does for the widened weights.
func axpy4HalfGo(y, a []float32, w Half, ld int) {
	n := len(y)
	x0, x1, x2, x3 := w.Bits[:n], w.Bits[ld:ld+n], w.Bits[2*ld:2*ld+n], w.Bits[3*ld:3*ld+n]
	a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
	if w.BF16 {
		for i := range y {
			y[i] += a0*BF16ToF32(x0[i]) + a1*BF16ToF32(x1[i]) + a2*BF16ToF32(x2[i]) + a3*BF16ToF32(x3[i])
		}
		return
	}
	tab := f16Values()
	for i := range y {
		y[i] += a0*tab[x0[i]] + a1*tab[x1[i]] + a2*tab[x2[i]] + a3*tab[x3[i]]
	}
}

// DotRowsHalf is DotRows with 16-bit weights: out[i] = Σ_k x[k]·w[i·ld+k]
// for i in [0, len(out)), each weight widened exactly before its product.
func DotRowsHalf(out, x []float32, w Half, ld int) {
	n, K := len(out), len(x)
	if n == 0 {
		return
	}
	if K == 0 {
		clear(out)
		return
	}
	_ = w.Bits[(n-1)*ld+K-1] // w holds every row read: the kernels cannot overrun
	i := 0
	if acceleratedHalf() && K >= 8 {
		k8 := K &^ 7
		for ; i+4 <= n; i += 4 {
			if w.BF16 {
				dot4b(&x[0], &w.Bits[i*ld], ld, k8, &out[i])
			} else {
				dot4h(&x[0], &w.Bits[i*ld], ld, k8, &out[i])
			}
			if k8 < K {
				for r := 0; r < 4; r++ {
					out[i+r] += DotHalf(x[k8:], w.Slice((i+r)*ld+k8, (i+r)*ld+K))
				}
			}
		}
	}
	for ; i < n; i++ {
		out[i] = DotHalf(x, w.Slice(i*ld, i*ld+K))
	}
}

// AxpyRowsHalf is AxpyRows with 16-bit weights: out[j] += Σ_k
// x[k]·w[k·ld+j] for j in [0, len(out)), rows ld elements apart.
func AxpyRowsHalf(out, x []float32, w Half, ld int) {
	n, K := len(out), len(x)
	if n == 0 || K == 0 {
		return
	}
	_ = w.Bits[(K-1)*ld+n-1] // w holds every row read: the kernels cannot overrun
	k := 0
	if acceleratedHalf() && n >= 16 {
		n16 := n &^ 15
		for ; k+4 <= K; k += 4 {
			if w.BF16 {
				axpy4b(&out[0], n16, &w.Bits[k*ld], ld, &x[k])
			} else {
				axpy4h(&out[0], n16, &w.Bits[k*ld], ld, &x[k])
			}
			if n16 < n { // the last columns as the Go loop below sums them
				axpy4HalfGo(out[n16:], x[k:k+4], w.From(k*ld+n16), ld)
			}
		}
	}
	for ; k+4 <= K; k += 4 {
		axpy4HalfGo(out, x[k:k+4], w.From(k*ld), ld)
	}
	for ; k < K; k++ {
		axpyHalfGo(out, x[k], w.Slice(k*ld, k*ld+n))
	}
}

// DotRowsMultiHalf is DotRowsMulti with 16-bit weights: out[j·ldo+i] =
// Σ_{k<K} x[j·ldx+k]·w[i·ldw+k] for nx input rows j and n weight rows i,
// each widened weight serving three input rows, in DotRowsMulti's orders.
func DotRowsMultiHalf(out []float32, ldo int, x []float32, ldx, nx, K int, w Half, ldw, n int) {
	if nx == 0 || n == 0 {
		return
	}
	_ = out[(nx-1)*ldo+n-1]
	if !acceleratedHalf() || K < 8 || n < 4 || nx < 3 {
		for j := 0; j < nx; j++ {
			DotRowsHalf(out[j*ldo:j*ldo+n], x[j*ldx:j*ldx+K], w, ldw)
		}
		return
	}
	_ = x[(nx-1)*ldx+K-1]
	_ = w.Bits[(n-1)*ldw+K-1]
	// The kernel, its width and the order follow DotRowsMulti's choice, so
	// that the sums are those of the widened weights.
	n4, kn := n&^3, K&^7
	quad, group := dot4x3h, dot4x3hg
	if w.BF16 {
		quad, group = dot4x3b, dot4x3bg
	}
	switch {
	case useAVX512 && K >= 16:
		kn = K &^ 15
		group = dot4x3zh
		if w.BF16 {
			group = dot4x3zb
		}
		dotMultiByGroup(out, ldo, x, ldx, nx, kn, w.Bits, ldw, n4, group)
	case nx*K <= quadMajorFloats:
		dotMultiByQuad(out, ldo, x, ldx, nx, kn, w.Bits, ldw, n4, quad)
	default:
		dotMultiByGroup(out, ldo, x, ldx, nx, kn, w.Bits, ldw, n4, group)
	}
	for j := 0; j < nx; j++ {
		xj, oj := x[j*ldx:j*ldx+K], out[j*ldo:j*ldo+n]
		if kn < K {
			for r := 0; r < n4; r++ {
				oj[r] += DotHalf(xj[kn:], w.Slice(r*ldw+kn, r*ldw+K))
			}
		}
		for r := n4; r < n; r++ {
			oj[r] = DotHalf(xj, w.Slice(r*ldw, r*ldw+K))
		}
	}
}
