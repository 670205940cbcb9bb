package vexp

import "math"

// ExpShifted32 replaces each value v of row by e^(v−mx) in float32, for a
// softmax: mx ≥ every v (the row's maximum), so each exponent is ≤ 0.
// Each e^x uses x = n·ln2 + r with |r| ≤ ln2/2, e^r by its degree-6
// Taylor polynomial (remainder ≤ r⁷/7! ≈ 1.2e-7, relative error below
// about 2e-7), and 2^n put into the exponent bits; exponents below −87
// give 0 (a softmax needs no smaller values). Every operation is rounded
// to float32 on its own (explicit conversions forbid fused multiply-adds),
// so the AVX2 kernel, which repeats them eight lanes at a time, gives the
// Go loop's results bit for bit on every machine. The trainer's
// softmax uses it (model/train).
func ExpShifted32(row []float32, mx float32) {
	n := 0
	if Accelerated() {
		n = len(row) &^ 7
		if n > 0 {
			exp32x8(&row[0], n, mx, &exp32Consts)
		}
	}
	for i := n; i < len(row); i++ {
		row[i] = exp32(row[i] - mx)
	}
}

// SumExp32 returns Σ e^(x[i]−mx) with each e^(x[i]−mx) as ExpShifted32
// computes it (float32, relative error below about 3e-7) and the sum in
// float64: mx ≥ every x[i] (the row's maximum). The terms are summed in
// eight lanes, lane j taking i ≡ j (mod 8) in index order up to the last
// multiple of eight, then the lanes in a fixed order, then the rest in
// index order; the AVX2 kernel does the same, so the result is the Go
// loop's bit for bit on every machine. For a softmax's normaliser where
// float32 exponentials are precise enough (the logit lens's top
// probability), at about a third of SumExpShifted's cost.
func SumExp32(x []float32, mx float32) float64 {
	var lanes [8]float64
	n := len(x) &^ 7
	if n > 0 {
		if Accelerated() {
			sumExp32x8(&x[0], n, mx, &exp32Consts, &lanes)
		} else {
			for i := 0; i < n; i += 8 {
				for j := range lanes {
					lanes[j] += float64(exp32(x[i+j] - mx))
				}
			}
		}
	}
	// The kernel's reduction: the two 4-lane halves added lane by lane,
	// then lanes 0+1 and 2+3, then their sum.
	s := ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
	for _, v := range x[n:] {
		s += float64(exp32(v - mx))
	}
	return s
}

// exp32Consts are exp32's constants as float32s, for exp32x8: log2(e),
// ½, ln 2 in two parts, the Taylor coefficients 1, 1/2, …, 1/720, and the
// cut-off −87.
var exp32Consts = [11]float32{log2e32, 0.5, ln2hi32, ln2lo32, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, -87}

const (
	log2e32 = 1.44269504088896341
	ln2hi32 = 0.693145751953125
	ln2lo32 = 1.428606765330187045e-06
)

// exp32 is e^x for x ≤ 0 as ExpShifted32 computes it.
func exp32(x float32) float32 {
	if x < -87 {
		return 0
	}
	k := float32(x*log2e32) - 0.5 // x ≤ 0: round half away from zero
	n := float32(int32(k))        // round to nearest
	r := float32(x-float32(n*ln2hi32)) - float32(n*ln2lo32)
	p := float32(r * (1.0 / 720))
	p = float32(r * (1.0/120 + p))
	p = float32(r * (1.0/24 + p))
	p = float32(r * (1.0/6 + p))
	p = float32(r * (1.0/2 + p))
	p = float32(r * (1 + p))
	return (1 + p) * math.Float32frombits(uint32(int32(n)+127)<<23)
}
