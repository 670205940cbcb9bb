package vexp

import "math"

// GPT-2's activation "gelu_new" (the tanh form of GELU, Hendrycks & Gimpel
// 2016) is 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³). Since
// 1 + tanh(u) = 2/(1 + e^{−2u}), it equals x / (1 + e^z) with z = −2u,
// a form without the cancellation 1 + tanh(u) suffers for negative x. The
// kernel evaluates that form in float64, four lanes at a time, with
// math.Exp's own method (the EXP4 macro of vexp_amd64.s), and rounds once
// to float32:
//
//	f = float64(x)
//	z = f · fma(geluA, f·f, geluB)      (= −2u; geluA = −2·√(2/π)·0.044715, geluB = −2·√(2/π))
//	z clamped to [−geluZ, geluZ]        (NaN becomes −geluZ, as VMAXPD does)
//	e = exp(z)                          (math.Exp, bit for bit)
//	r = 1 / (1 + e)
//	gelu = float32(f · r),  tanh(u) = float32((1 − e) · r)
//
// Accuracy: the float64 result is within a few float64 ulps of the exact
// value, so the float32 result is the correctly rounded gelu_new except in
// rare double-rounding ties: measured (TestGELUAccuracy, 2^22 spread
// float32 inputs plus every 61st float32 in ±[1e-6, 10]) at most 1 float32 ulp from
// the float64 expression 0.5·f·(1 + math.Tanh(u)) wherever that expression
// is itself accurate (x ≥ −5; below, 1 + math.Tanh(u) cancels in float64
// and flushes to 0 for x < about −8.4, where this kernel keeps the tiny
// true value). The tanh values are within 1 ulp of float32(math.Tanh(u))
// where |tanh| ≥ 1e-8 and within 3e-8 absolutely everywhere (1 − e
// cancels for tiny u; a backward pass uses 1 ± tanh, which that bounds).
//
// The Go loop (other architectures, CPUs without AVX2+FMA, the purego
// tag, SetPortable(true)) performs the same operations with math.FMA and
// math.Exp; on amd64 with FMA, math.Exp takes the branch the kernel
// repeats, so both paths agree bit for bit there (tested); elsewhere
// math.Exp may differ in its last float64 bit, which moves a float32 result
// by at most 1 ulp, and only rarely.
//
// Special inputs: ±0 → ±0 (tanh ±0), denormals → x/2 rounded, +Inf → +Inf
// (tanh 1), −Inf → −Inf (tanh −1; the limit is 0, and the float64 tanh
// expression and PyTorch give NaN: activations are never infinite in a
// finite model), NaN → NaN (tanh 1). Large |x| (±100, ±1e30) give x and
// −0 (tanh ±1).
const (
	geluA = -0.071354816272600249 // −2·√(2/π)·0.044715, as in gelu_amd64.s
	geluB = -1.5957691216057308   // −2·√(2/π)
	// geluZ bounds |z|: e^±700 stays inside math.Exp's main branch and
	// far beyond where x/(1+e^z) rounds to x or to 0 in float32.
	geluZ = 700
)

// GELUTanh sets out[i] = gelu_new(x[i]) for every i (see above); out may
// be x itself; len(out) must be at least len(x).
func GELUTanh(out, x []float32) {
	out = out[:len(x)]
	n := 0
	if Accelerated() {
		n = len(x) &^ 3
		if n > 0 {
			gelu4(&out[0], nil, &x[0], n)
		}
	}
	for i := n; i < len(x); i++ {
		out[i], _ = geluOne(x[i])
	}
}

// GELUTanhSave is GELUTanh that also stores th[i] = tanh(u(x[i])), the
// value a backward pass needs: d gelu/dx = ½(1+t) + ½x(1−t²)·√(2/π)(1 +
// 3·0.044715x²). out may be x; th must not overlap x or out; len(out) and
// len(th) must be at least len(x).
func GELUTanhSave(out, th, x []float32) {
	out = out[:len(x)]
	th = th[:len(x)]
	n := 0
	if Accelerated() {
		n = len(x) &^ 3
		if n > 0 {
			gelu4(&out[0], &th[0], &x[0], n)
		}
	}
	for i := n; i < len(x); i++ {
		out[i], th[i] = geluOne(x[i])
	}
}

// geluOne is the Go form of the kernel's lane: gelu_new(v) and tanh(u).
func geluOne(v float32) (gelu, tanh float32) {
	f := float64(v)
	z := f * math.FMA(geluA, f*f, geluB)
	if !(z > -geluZ) { // VMAXPD: NaN takes the bound
		z = -geluZ
	}
	if !(z < geluZ) { // VMINPD
		z = geluZ
	}
	e := math.Exp(z)
	r := 1 / (1 + e)
	return float32(f * r), float32((1 - e) * r)
}

// GELUTanhGrad accumulates the gradient through gelu_new for a backward
// pass: dinp[i] += dout[i]·g′(x[i]), where g′(x) = ½(1 + t) + ½x·dt,
// dt = √(2/π)(1 + 3·0.044715x²)(1 − t²) and t = th[i], the tanh value
// GELUTanhSave stored. It computes in float32, each operation rounded on
// its own in geluGradOne's order; the AVX2 kernel does the same eight
// lanes at a time, so both paths give the same bits (tested), and the
// trainer's results do not depend on which ran. dout, x and th must be at
// least as long as dinp.
func GELUTanhGrad(dinp, dout, x, th []float32) {
	dout, x, th = dout[:len(dinp)], x[:len(dinp)], th[:len(dinp)]
	n := 0
	if Accelerated() {
		n = len(dinp) &^ 7
		if n > 0 {
			geluGrad8(&dinp[0], &dout[0], &x[0], &th[0], n, &geluGradConsts)
		}
	}
	for i := n; i < len(dinp); i++ {
		dinp[i] += geluGradOne(dout[i], x[i], th[i])
	}
}

// geluC is √(2/π), the constant of gelu_new.
const geluC = 0.7978845608028654

// geluGradConsts are geluGrad8's float32 constants: 3·0.044715, √(2/π),
// 1 and ½, rounded as Go rounds them in geluGradOne.
var geluGradConsts = [4]float32{3 * 0.044715, geluC, 1, 0.5}

// geluGradOne is dout·g′(x) (see GELUTanhGrad) in float32, every
// operation rounded on its own: Go evaluates 3*0.044715 exactly and rounds
// it to float32 once, and each product is converted to float32 before a sum
// uses it, which keeps the compiler from fusing the two into a
// multiply-add (the spec lets it fuse, as it does on amd64 from GOAMD64=v3;
// an explicit conversion rounds). With the default GOAMD64=v1 this is the
// expression the trainer computed before, operation for operation.
func geluGradOne(dout, x, t float32) float32 {
	x2 := float32(float32(3*0.044715*x) * x)
	dt := float32(geluC*(1+x2)) * float32(1-float32(t*t))
	g := float32(0.5*(1+t)) + float32(float32(0.5*x)*dt)
	return float32(dout * g)
}
