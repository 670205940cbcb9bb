// Package vexp computes exponentials over whole slices, four at a time with
// AVX2 and FMA on amd64, giving exactly what the math package gives: the
// assembly performs, lane by lane, the operations of math.Exp's own amd64
// routine (math/exp_amd64.s, its FMA branch), so every result is equal bit
// for bit to math.Exp on the same machine. Elsewhere (other architectures,
// CPUs without FMA, the purego build tag, or SetPortable(true)) it calls
// math.Exp in a loop.
//
// The sampler and the recorder compute V exponentials per distribution
// (V = 50,257 for GPT-2); their results are pinned to the float64
// softmax that a page's JavaScript recomputes, so a faster but less
// accurate exponential is not an option.
//
// GELUTanh and GELUTanhSave (gelu.go) evaluate GPT-2's activation with the
// same exponential, for the engine and the trainer; GELUTanhGrad is its
// gradient for the trainer's backward pass, in float32, equal on both
// paths bit for bit.
package vexp

import "math"

// portable forces the Go loop even where the assembly could run.
var portable = false

// SetPortable forces (true) or releases (false) the math.Exp loop, for
// tests of the path other CPUs take. It returns the previous setting and
// must not be called while a computation runs.
func SetPortable(p bool) bool {
	old := portable
	portable = p
	return old
}

// Accelerated reports whether the assembly kernel runs.
func Accelerated() bool { return useAsm && !portable }

// ExpShifted sets out[i] = math.Exp((float64(x[i]) − m) / d) for every i,
// bit for bit; len(out) must be at least len(x). d must not be zero.
func ExpShifted(out []float64, x []float32, m, d float64) {
	out = out[:len(x)]
	n := 0
	if Accelerated() {
		n = len(x) &^ 3
		if n > 0 && !expShifted4(&out[0], &x[0], n, m, d) {
			// A lane fell outside the kernel's range [−708, 708] (or is
			// not a number): redo the block with math.Exp.
			for i := range out[:n] {
				if v := (float64(x[i]) - m) / d; !(v >= -rangeLimit && v <= rangeLimit) {
					out[i] = math.Exp(v)
				}
			}
		}
	}
	for i := n; i < len(x); i++ {
		out[i] = math.Exp((float64(x[i]) - m) / d)
	}
}

// SumExpShifted returns Σ math.Exp((float64(x[i]) − m) / d) summed in
// index order, bit for bit the serial loop's value, without storing the
// exponentials. d must not be zero.
func SumExpShifted(x []float32, m, d float64) float64 {
	var s float64
	n := 0
	if Accelerated() {
		n = len(x) &^ 3
		if n > 0 {
			var ok bool
			if s, ok = expSum4(&x[0], n, m, d); !ok {
				s, n = 0, 0 // a lane out of the kernel's range: the Go loop
			}
		}
	}
	for _, v := range x[n:] {
		s += math.Exp((float64(v) - m) / d)
	}
	return s
}

// rangeLimit bounds the arguments the kernel computes: for |v| ≤ 708 the
// result's exponent needs no denormal or overflow handling, which
// math.Exp does in branches the kernel leaves to the Go loop.
const rangeLimit = 708

// Log2 sets out[i] = math.Log2(x[i]) for every i, bit for bit (zeros,
// negatives, denormals, infinities and powers of two included: the kernel
// leaves them to math.Log2); len(out) must be at least len(x).
func Log2(out, x []float64) {
	out = out[:len(x)]
	n := 0
	if Accelerated() {
		n = len(x) &^ 3
		if n > 0 && !log2x4(&out[0], &x[0], n) {
			for i, v := range x[:n] {
				if b := math.Float64bits(v); b>>52 == 0 || b>>52 >= 0x7FF || b&(1<<52-1) == 0 {
					out[i] = math.Log2(v)
				}
			}
		}
	}
	for i := n; i < len(x); i++ {
		out[i] = math.Log2(x[i])
	}
}

// Div sets x[i] /= d for every i (the same quotients as Go's division).
func Div(x []float64, d float64) {
	n := 0
	if Accelerated() {
		n = len(x) &^ 3
		if n > 0 {
			div4(&x[0], n, d)
		}
	}
	for i := n; i < len(x); i++ {
		x[i] /= d
	}
}
