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
				got, _ := SumExpShifted(nil, x[:n], tc.m, tc.d)
				if got != want {
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
