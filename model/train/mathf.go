package train

import "math"

// expShiftSum replaces each value v of row by e^(v−mx), in float32, and
// returns their sum, added in index order: a softmax's exponentials, with
// mx ≥ every v (the row's maximum), so each exponent is ≤ 0. Each e^x uses
// x = n·ln2 + r with |r| ≤ ln2/2, e^r by its degree-6 Taylor polynomial
// (remainder ≤ r⁷/7! ≈ 1.2e-7, relative error below about 2e-7), and 2^n
// put into the exponent bits; exponents below −87 give 0 (softmax needs
// no smaller values). The exponential is written out in the loop, not
// called: Go does not inline a function this long, and the call cost as
// much as the arithmetic.
func expShiftSum(row []float32, mx float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693145751953125
		ln2lo = 1.428606765330187045e-06
	)
	var sum float32
	for i, v := range row {
		x := v - mx
		e := float32(0)
		if !(x < -87) {
			k := x * log2e
			k -= 0.5               // x ≤ 0: round half away from zero
			n := float32(int32(k)) // round to nearest
			r := x - n*ln2hi - n*ln2lo
			p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
			e = p * math.Float32frombits(uint32(int32(n)+127)<<23)
		}
		row[i] = e
		sum += e
	}
	return sum
}

// scratch holds reusable per-worker buffers, so a training step allocates
// nothing. get(i, n) returns buffer i resized to n (contents undefined).
type scratch struct{ bufs [10][]float32 }

func (s *scratch) get(i, n int) []float32 {
	if cap(s.bufs[i]) < n {
		s.bufs[i] = make([]float32, n)
	}
	return s.bufs[i][:n]
}
