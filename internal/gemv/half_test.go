package gemv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randHalf returns n random 16-bit weights of the given kind, normal with
// standard deviation 1, with a sprinkling of F16 subnormals and zeros so
// that every conversion path is exercised.
func randHalf(rng *rand.Rand, n int, bf bool) Half {
	h := Half{Bits: make([]uint16, n), BF16: bf}
	for i := range h.Bits {
		v := float32(rng.NormFloat64())
		switch rng.IntN(16) {
		case 0:
			v *= 1e-6 // an F16 subnormal
		case 1:
			v = 0
		}
		if bf {
			h.Bits[i] = uint16((math.Float32bits(v) + 0x8000) >> 16)
		} else {
			h.Bits[i] = f32ToF16Test(v)
		}
	}
	return h
}

// f32ToF16Test rounds to binary16 by way of a binary search over the
// exact table: slow, obviously right, for finite values of |v| < 65504.
func f32ToF16Test(v float32) uint16 {
	sign := uint16(0)
	if math.Signbit(float64(v)) {
		sign, v = 0x8000, -v
	}
	lo, hi := uint16(0), uint16(0x7bff) // +0 … the largest finite
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if F16ToF32(mid) <= v {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo < 0x7bff && float64(F16ToF32(lo+1))-float64(v) < float64(v)-float64(F16ToF32(lo)) {
		lo++
	}
	return sign | lo
}

var kinds = []struct {
	name string
	bf   bool
}{{"F16", false}, {"BF16", true}}

// TestF16ToF32 checks the conversion against the definition of binary16
// for every pattern, and Widen on both paths against F16ToF32, bit for bit
// (NaNs: the assembly quiets signalling ones, so only NaN-ness is compared).
func TestF16ToF32(t *testing.T) {
	for u := range 1 << 16 {
		h := uint16(u)
		e, m := int(h>>10)&0x1f, float64(h&0x3ff)
		var want float64
		switch {
		case e == 0:
			want = m * math.Pow(2, -24)
		case e == 0x1f && m == 0:
			want = math.Inf(1)
		case e == 0x1f:
			want = math.NaN()
		default:
			want = (1 + m/1024) * math.Pow(2, float64(e-15))
		}
		if h&0x8000 != 0 {
			want = -want
		}
		got := F16ToF32(h)
		if math.IsNaN(want) != math.IsNaN(float64(got)) || (!math.IsNaN(want) && (float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want))) {
			t.Fatalf("F16ToF32(%#04x) = %v, want %v", h, got, want)
		}
	}
	all := Half{Bits: make([]uint16, 1<<16)}
	for i := range all.Bits {
		all.Bits[i] = uint16(i)
	}
	for _, k := range kinds {
		all.BF16 = k.bf
		paths(t, func(t *testing.T) {
			for _, n := range []int{1, 15, 16, 17, 33, 1 << 16} {
				src := all.From(len(all.Bits) - n) // the tail holds NaNs and negatives
				dst := make([]float32, n)
				Widen(dst, src)
				for i := range n {
					want := src.At(i)
					if math.IsNaN(float64(want)) {
						if !math.IsNaN(float64(dst[i])) {
							t.Fatalf("%s n=%d: Widen[%d] of %#04x = %v, want NaN", k.name, n, i, src.Bits[i], dst[i])
						}
					} else if math.Float32bits(dst[i]) != math.Float32bits(want) {
						t.Fatalf("%s n=%d: Widen[%d] of %#04x = %v, want %v", k.name, n, i, src.Bits[i], dst[i], want)
					}
				}
			}
		})
	}
}

func TestDotRowsHalf(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, kd := range kinds {
		t.Run(kd.name, func(t *testing.T) {
			paths(t, func(t *testing.T) {
				for _, K := range []int{0, 1, 15, 16, 17, 31, 64, 100, 1600} {
					for _, n := range []int{0, 1, 3, 4, 5, 9, 33} {
						ld := K + rng.IntN(3)
						x, w := randSlice(rng, K), randHalf(rng, max(n*ld, 1), kd.bf)
						out := randSlice(rng, n)
						DotRowsHalf(out, x, w, ld)
						for i := range n {
							var want, mag float64
							for k := range K {
								p := float64(x[k]) * float64(w.At(i*ld+k))
								want += p
								mag += math.Abs(p)
							}
							near(t, fmt.Sprintf("K=%d n=%d out[%d]", K, n, i), out[i], want, mag, K)
						}
					}
				}
			})
		})
	}
}

func TestAxpyRowsHalf(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, kd := range kinds {
		t.Run(kd.name, func(t *testing.T) {
			paths(t, func(t *testing.T) {
				for _, K := range []int{0, 1, 3, 4, 7, 64, 257} {
					for _, n := range []int{0, 1, 15, 16, 17, 48, 100, 1153} {
						ld := n + rng.IntN(40)
						x, w := randSlice(rng, K), randHalf(rng, max(K*ld, 1), kd.bf)
						out := randSlice(rng, n)
						init := append([]float32(nil), out...)
						AxpyRowsHalf(out, x, w, ld)
						for j := range n {
							want, mag := float64(init[j]), math.Abs(float64(init[j]))
							for k := range K {
								p := float64(x[k]) * float64(w.At(k*ld+j))
								want += p
								mag += math.Abs(p)
							}
							near(t, fmt.Sprintf("K=%d n=%d out[%d]", K, n, j), out[j], want, mag, K)
						}
					}
				}
			})
		})
	}
}

func TestDotRowsMultiHalf(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, kd := range kinds {
		t.Run(kd.name, func(t *testing.T) {
			paths(t, func(t *testing.T) {
				for _, K := range []int{1, 7, 8, 13, 24, 64, 100} {
					for _, n := range []int{1, 3, 4, 5, 9, 64} {
						for _, nx := range []int{1, 2, 3, 4, 7, 12} {
							ldx, ldw, ldo := K+rng.IntN(3), K+rng.IntN(3), n+rng.IntN(3)
							x, w := randSlice(rng, nx*ldx), randHalf(rng, n*ldw, kd.bf)
							out := randSlice(rng, nx*ldo)
							DotRowsMultiHalf(out, ldo, x, ldx, nx, K, w, ldw, n)
							for j := range nx {
								for i := range n {
									var want, mag float64
									for k := range K {
										p := float64(x[j*ldx+k]) * float64(w.At(i*ldw+k))
										want += p
										mag += math.Abs(p)
									}
									near(t, fmt.Sprintf("K=%d n=%d nx=%d out[%d][%d]", K, n, nx, j, i), out[j*ldo+i], want, mag, K)
								}
							}
						}
					}
				}
			})
		})
	}
}

// TestHalfMatchesWidened: each 16-bit product equals the float32 product
// of the widened weights bit for bit, on both paths (the kernels sum in the
// same order; widening is exact), so a model kept in 16 bits computes what
// the same model widened at load computed.
func TestHalfMatchesWidened(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	K, N, nx := 97, 203, 7
	same := func(t *testing.T, what string, a, b []float32) {
		t.Helper()
		for j := range a {
			if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
				t.Fatalf("%s[%d]: %v from 16 bits, %v widened", what, j, a[j], b[j])
			}
		}
	}
	for _, kd := range kinds {
		w := randHalf(rng, K*N, kd.bf)
		wf := make([]float32, K*N)
		Widen(wf, w)
		x := randSlice(rng, nx*K)
		t.Run(kd.name, func(t *testing.T) {
			paths(t, func(t *testing.T) {
				a, b := make([]float32, N), make([]float32, N)
				AxpyRowsHalf(a, x[:K], w, N)
				AxpyRows(b, x[:K], wf, N)
				same(t, "AxpyRows", a, b)
				a, b = make([]float32, K), make([]float32, K)
				DotRowsHalf(a, x[:N%K], w, N) // K rows of N, first N%K columns
				DotRows(b, x[:N%K], wf, N)
				same(t, "DotRows", a, b)
				a, b = make([]float32, nx*N), make([]float32, nx*N)
				DotRowsMultiHalf(a, N, x, K, nx, K, w, K, N)
				DotRowsMulti(b, N, x, K, nx, K, wf, K, N)
				same(t, "DotRowsMulti", a, b)
			})
		})
	}
}

func BenchmarkAxpyRowsFCHalf(b *testing.B) {
	// GPT-2's c_fc: 768 → 3072, F16.
	rng := rand.New(rand.NewPCG(1, 1))
	x, w := randSlice(rng, 768), randHalf(rng, 768*3072, false)
	out := make([]float32, 3072)
	b.SetBytes(int64(len(w.Bits) * 2))
	for b.Loop() {
		AxpyRowsHalf(out, x, w, 3072)
	}
}

func BenchmarkDotRowsHeadHalf(b *testing.B) {
	// GPT-2's tied head: 50,257 rows of 768, F16.
	rng := rand.New(rand.NewPCG(1, 1))
	x, w := randSlice(rng, 768), randHalf(rng, 50257*768, false)
	out := make([]float32, 50257)
	b.SetBytes(int64(len(w.Bits) * 2))
	for b.Loop() {
		DotRowsHalf(out, x, w, 768)
	}
}
