package vexp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpShiftedMatchesMathExp compares every lane with math.Exp, bit for
// bit, on both paths: arguments across the kernel's range and beyond it
// (underflow to denormals and zero, overflow to +Inf, −Inf from a tiny
// divisor), at lengths that leave a tail.
func TestExpShiftedMatchesMathExp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		x    []float32
		m, d float64
	}{
		{"normal std 3", nil, 0, 1},
		{"tempered 0.8", nil, 11.5, 0.8},
		{"tiny temperature", nil, 11.5, 1e-3},
		{"divisor 1e-300", nil, 11.5, 1e-300},
		{"large temperature", nil, 11.5, 100},
		{"boundaries", []float32{-708, 708, -708.0001, 708.0001, -745, -746, 709.7, 710, 0, float32(math.Copysign(0, -1)), -1e30, 1e30, 1, -1, 0.5, -0.5}, 0, 1},
		{"wide", nil, 0, 0.01},
	}
	for _, tc := range cases {
		x := tc.x
		if x == nil {
			for range 10_003 {
				s := 3.0
				if tc.name == "wide" {
					s = 4
				}
				x = append(x, float32(rng.NormFloat64()*s))
			}
		}
		for _, port := range []bool{false, true} {
			old := SetPortable(port)
			for _, n := range []int{len(x), len(x) - 1, len(x) - 2, len(x) - 3, 3, 1, 0} {
				if n < 0 {
					continue
				}
				out := make([]float64, n)
				ExpShifted(out, x[:n], tc.m, tc.d)
				var want float64
				for i, v := range x[:n] {
					e := math.Exp((float64(v) - tc.m) / tc.d)
					want += e
					if math.Float64bits(out[i]) != math.Float64bits(e) {
						t.Fatalf("%s, portable %v, n %d: x[%d] = %v: got %v (%#x), math.Exp %v (%#x)", tc.name, port, n, i, v, out[i], math.Float64bits(out[i]), e, math.Float64bits(e))
					}
				}
				if got := SumExpShifted(x[:n], tc.m, tc.d); math.Float64bits(got) != math.Float64bits(want) {
					t.Fatalf("%s: sum %v, want %v", tc.name, got, want)
				}
			}
			SetPortable(old)
		}
	}
}

// TestExpShiftedExhaustiveExponents sweeps arguments densely over
// [−710, 710] (every float32 step of 1/64 plus random fractions), where
// the kernel's reduction and scaling are most exposed.
func TestExpShiftedExhaustiveExponents(t *testing.T) {
	if !Accelerated() {
		t.Skip("no assembly kernel on this machine")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var x []float32
	for v := -710.0; v <= 710; v += 1.0 / 64 {
		x = append(x, float32(v), float32(v+rng.Float64()/64))
	}
	out := make([]float64, len(x))
	for _, d := range []float64{1, 0.8, 1.35, 3} {
		ExpShifted(out, x, 0.25, d)
		for i, v := range x {
			if e := math.Exp((float64(v) - 0.25) / d); math.Float64bits(out[i]) != math.Float64bits(e) {
				t.Fatalf("d %v: x = %v: got %v, math.Exp %v", d, v, out[i], e)
			}
		}
	}
}

func BenchmarkExpShifted(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 50257)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
	}
	out := make([]float64, len(x))
	for _, port := range []bool{false, true} {
		name := "asm"
		if port {
			name = "mathExp"
		}
		b.Run(name, func(b *testing.B) {
			old := SetPortable(port)
			defer SetPortable(old)
			for b.Loop() {
				ExpShifted(out, x, 12, 0.8)
			}
		})
	}
}

// TestLog2MatchesMathLog2 compares every lane with math.Log2, bit for bit,
// on both paths: probabilities of a softmax, powers of two, the values
// around √2/2 where log's reduction switches, denormals, zeros, negatives,
// infinities and NaN.
func TestLog2MatchesMathLog2(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var x []float64
	for range 20_001 {
		x = append(x, math.Exp(rng.NormFloat64()*10), rng.Float64(), math.Exp(-rng.Float64()*745))
	}
	h := 7.07106781186547524401e-01
	for _, v := range []float64{0.5, 1, 2, 0.25, 1 << 40, h, math.Nextafter(h, 0), math.Nextafter(h, 1), 2 * h, h / 4,
		0, math.Copysign(0, -1), -1, 5e-324, 2.2250738585072014e-308, math.Nextafter(2.2250738585072014e-308, 0),
		math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 3, 0.1, 1e-300} {
		x = append(x, v)
	}
	for _, port := range []bool{false, true} {
		old := SetPortable(port)
		for _, n := range []int{len(x), len(x) - 1, len(x) - 2, len(x) - 3, 3, 0} {
			out := make([]float64, n)
			Log2(out, x[:n])
			for i, v := range x[:n] {
				if w := math.Log2(v); math.Float64bits(out[i]) != math.Float64bits(w) && !(math.IsNaN(w) && math.IsNaN(out[i])) {
					t.Fatalf("portable %v, n %d: log2(%v) = %v, math.Log2 %v", port, n, v, out[i], w)
				}
			}
		}
		for _, n := range []int{len(x), len(x) - 3, 2} {
			y := append([]float64(nil), x[:n]...)
			Div(y, 0.7)
			for i, v := range x[:n] {
				if w := v / 0.7; math.Float64bits(y[i]) != math.Float64bits(w) && !math.IsNaN(w) {
					t.Fatalf("portable %v: %v / 0.7 = %v, want %v", port, v, y[i], w)
				}
			}
		}
		SetPortable(old)
	}
}

func BenchmarkLog2(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 50257)
	for i := range x {
		x[i] = rng.Float64()
	}
	out := make([]float64, len(x))
	for _, port := range []bool{false, true} {
		name := "asm"
		if port {
			name = "mathLog2"
		}
		b.Run(name, func(b *testing.B) {
			old := SetPortable(port)
			defer SetPortable(old)
			for b.Loop() {
				Log2(out, x)
			}
		})
	}
}
