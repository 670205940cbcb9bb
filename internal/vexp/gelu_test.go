package vexp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// geluInputs returns normal values (the activations' range), spread bit
// patterns, and the special cases, at a length that leaves a tail of 3.
func geluInputs() []float32 {
	rng := rand.New(rand.NewPCG(3, 4))
	x := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -0.5, 3, -3, 5, -5, 8.4, -8.4, 10, -10,
		100, -100, 1e30, -1e30, math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-40, -1e-40, 1.17549435e-38, -1.17549435e-38, 1e-20, -1e-20,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for range 20_000 {
		x = append(x, float32(rng.NormFloat64()*3))
	}
	for range 20_000 {
		x = append(x, math.Float32frombits(rng.Uint32()))
	}
	for len(x)%4 != 3 {
		x = append(x, 0.25)
	}
	return x
}

// ulps returns the distance between a and b in float32 steps (0 when both
// are NaN or equal, ±0 included).
func ulps(a, b float32) int64 {
	if a == b || (a != a && b != b) {
		return 0
	}
	ia, ib := int64(int32(math.Float32bits(a))), int64(int32(math.Float32bits(b)))
	if ia < 0 {
		ia = math.MinInt32 - ia
	}
	if ib < 0 {
		ib = math.MinInt32 - ib
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

// TestGELUPathsAgree runs both entry points on both paths and compares
// them with geluOne, bit for bit where math.Exp takes the kernel's branch
// (amd64 with FMA), within 1 ulp elsewhere; in-place use included.
func TestGELUPathsAgree(t *testing.T) {
	x := geluInputs()
	want := make([]float32, len(x))
	wantTh := make([]float32, len(x))
	for i, v := range x {
		want[i], wantTh[i] = geluOne(v)
	}
	for _, port := range []bool{false, true} {
		old := SetPortable(port)
		out := make([]float32, len(x))
		th := make([]float32, len(x))
		out2 := make([]float32, len(x))
		GELUTanh(out, x)
		GELUTanhSave(out2, th, x)
		inplace := append([]float32(nil), x...)
		GELUTanh(inplace, inplace)
		SetPortable(old)
		for i := range x {
			for _, c := range []struct {
				name      string
				got, want float32
			}{{"GELUTanh", out[i], want[i]}, {"GELUTanhSave", out2[i], want[i]}, {"in place", inplace[i], want[i]}, {"tanh", th[i], wantTh[i]}} {
				if d := ulps(c.got, c.want); d > 0 && (d > 1 || useAsm) || math.Signbit(float64(c.got)) != math.Signbit(float64(c.want)) && c.got == c.got {
					t.Fatalf("portable=%v %s(%g) = %g, geluOne gives %g (%d ulps)", port, c.name, x[i], c.got, c.want, d)
				}
			}
		}
	}
}

// TestGELUSpecial pins the documented special cases.
func TestGELUSpecial(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	inf := float32(math.Inf(1))
	for _, port := range []bool{false, true} {
		old := SetPortable(port)
		for _, c := range []struct{ x, gelu, th float32 }{
			{0, 0, 0}, {negZero, negZero, negZero},
			{100, 100, 1}, {-100, negZero, -1}, {1e30, 1e30, 1}, {-1e30, negZero, -1},
			{inf, inf, 1}, {-inf, -inf, -1},
			{1e-40, 5e-41, 0}, {-1e-40, -5e-41, 0},
		} {
			x := []float32{c.x, c.x, c.x, c.x, c.x} // one group of 4 and a tail
			out, th := make([]float32, 5), make([]float32, 5)
			GELUTanhSave(out, th, x)
			for i := range x {
				if ulps(out[i], c.gelu) > 0 || math.Signbit(float64(out[i])) != math.Signbit(float64(c.gelu)) || ulps(th[i], c.th) > 1 {
					t.Errorf("portable=%v x=%g lane %d: gelu %g tanh %g, want %g %g", port, c.x, i, out[i], th[i], c.gelu, c.th)
				}
			}
		}
		x := []float32{float32(math.NaN()), 1, 2, 3, float32(math.NaN())}
		out, th := make([]float32, 5), make([]float32, 5)
		GELUTanhSave(out, th, x)
		if out[0] == out[0] || out[4] == out[4] || th[0] != 1 || th[4] != 1 {
			t.Errorf("portable=%v NaN: gelu %g %g tanh %g %g, want NaN and 1", port, out[0], out[4], th[0], th[4])
		}
		SetPortable(old)
	}
}

// TestGELUAccuracy measures the distance to the float64 tanh expression
// (the engine's former code) where that expression is accurate (x ≥ −5),
// over a dense sweep and spread bit patterns; gelu.go quotes the result.
func TestGELUAccuracy(t *testing.T) {
	const s = 0.7978845608028654
	var x []float32
	for b := math.Float32bits(1e-6); b <= math.Float32bits(10); b += 61 { // every 61st float32 in ±[1e-6, 10]
		v := math.Float32frombits(b)
		x = append(x, v, -v)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1 << 20 {
		if v := math.Float32frombits(rng.Uint32()); v == v && !math.IsInf(float64(v), 0) {
			x = append(x, v)
		}
	}
	out, th := make([]float32, len(x)), make([]float32, len(x))
	GELUTanhSave(out, th, x)
	var maxG, maxT int64
	var atG, atT float32
	var maxAbsT float64
	for i, v := range x {
		f := float64(v)
		u := s * (f + 0.044715*f*f*f)
		tg := math.Tanh(u)
		if d := math.Abs(float64(th[i]) - tg); d > maxAbsT {
			maxAbsT = d
		}
		if d := ulps(th[i], float32(tg)); d > maxT && math.Abs(tg) >= 1e-8 {
			maxT, atT = d, v
		}
		if v < -5 {
			continue
		}
		if d := ulps(out[i], float32(0.5*f*(1+tg))); d > maxG {
			maxG, atG = d, v
		}
	}
	t.Logf("%d inputs: gelu max %d ulp (x=%g), tanh max %d ulp where |tanh| ≥ 1e-8 (x=%g), max absolute error %.3g", len(x), maxG, atG, maxT, atT, maxAbsT)
	if maxG > 1 || maxT > 1 || maxAbsT > 3e-8 {
		t.Errorf("gelu max %d ulp at %g, tanh max %d ulp at %g; want ≤ 1", maxG, atG, maxT, atT)
	}
}

// BenchmarkGELU measures ns per element (the op is per element) for the
// kernel, the Go loop, and the engine's former float64 math.Tanh loop,
// on an MLP row of GPT-2 124M (3072 activations).
func BenchmarkGELU(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 3072)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 2)
	}
	out, th := make([]float32, len(x)), make([]float32, len(x))
	for _, c := range []struct {
		name string
		port bool
		f    func()
	}{
		{"asm", false, func() { GELUTanh(out, x) }},
		{"asm-save", false, func() { GELUTanhSave(out, th, x) }},
		{"portable", true, func() { GELUTanh(out, x) }},
		{"math.Tanh", true, func() {
			const s = 0.7978845608028654
			for i, v := range x {
				f := float64(v)
				out[i] = float32(0.5 * f * (1 + math.Tanh(s*(f+0.044715*f*f*f))))
			}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			old := SetPortable(c.port)
			defer SetPortable(old)
			for b.Loop() {
				c.f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
		})
	}
}
