package train

import "math"

// expf returns e^x in float32 with a relative error below about 2e-7:
// x = n·ln2 + r with |r| ≤ ln2/2, e^r by its degree-6 Taylor polynomial
// (remainder ≤ r⁷/7! ≈ 1.2e-7), and 2^n put into the exponent bits.
// Inputs below −87 return 0 (softmax never needs smaller values), above 88
// return +Inf.
func expf(x float32) float32 {
	if x < -87 {
		return 0
	}
	if x > 88 {
		return float32(math.Inf(1))
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693145751953125
		ln2lo = 1.428606765330187045e-06
	)
	k := x * log2e
	if k < 0 {
		k -= 0.5
	} else {
		k += 0.5
	}
	n := float32(int32(k)) // round to nearest
	r := x - n*ln2hi - n*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
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
