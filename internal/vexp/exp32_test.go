package vexp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpShifted32 checks the AVX2 kernel against the Go loop bit for bit
// (random exponents over a softmax's range, the −87 cut-off on both sides,
// zero, NaN, and lengths that leave a tail), and exp32 against math.Exp
// within 3e-7 relative error (the polynomial's 2e-7 and the float32 rounding).
func TestExpShifted32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 8, 9, 64, 131} {
		row := make([]float32, n)
		for i := range row {
			row[i] = float32(-100 * r.Float64())
		}
		edges := []float32{0, -87, float32(math.Nextafter32(-87, 0)), float32(math.Nextafter32(-87, -100)), -0.5, float32(math.NaN()), -1e-30}
		copy(row, edges[:min(len(edges), n)])
		want := make([]float32, n)
		for i, v := range row {
			want[i] = exp32(v - 0)
		}
		got := append([]float32(nil), row...)
		ExpShifted32(got, 0)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Errorf("n %d: e^%v = %v (%#x), Go loop %v (%#x)", n, row[i], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
			if x := float64(row[i]); x >= -87 {
				if rel := math.Abs(float64(got[i])-math.Exp(x)) / math.Exp(x); rel > 3e-7 {
					t.Errorf("e^%v = %v, math.Exp %v: relative error %.2g", x, got[i], math.Exp(x), rel)
				}
			}
		}
	}
	if useAsm && !Accelerated() {
		t.Error("the kernel is not used on a CPU that runs it")
	}
}

// TestSumExp32 checks the AVX2 kernel against the portable loop bit for
// bit (logits-like rows with their maximum, lengths that leave a tail or
// have no multiple of eight, the −87 cut-off, a non-zero shift), and the
// sum against math.Exp's within 3e-7 relative error.
func TestSumExp32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 8, 9, 64, 131, 50257} {
		row := make([]float32, n)
		mx := float32(math.Inf(-1))
		for i := range row {
			row[i] = float32(10 * r.NormFloat64())
			mx = max(mx, row[i])
		}
		if n > 3 {
			row[1], row[2] = mx-87, mx-200 // at and past the cut-off
		}
		got := SumExp32(row, mx)
		old := SetPortable(true)
		want := SumExp32(row, mx)
		SetPortable(old)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("n %d: kernel %v, Go loop %v", n, got, want)
		}
		var exact float64
		for _, v := range row {
			exact += math.Exp(float64(v - mx))
		}
		if rel := math.Abs(got-exact) / exact; rel > 3e-7 {
			t.Errorf("n %d: sum %v, with math.Exp %v: relative error %.2g", n, got, exact, rel)
		}
	}
}

// BenchmarkSumExp: one logits row of GPT-2's vocabulary, float32
// exponentials (SumExp32) beside math.Exp's (SumExpShifted).
func BenchmarkSumExp(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	row := make([]float32, 50257)
	for i := range row {
		row[i] = float32(3 * r.NormFloat64())
	}
	b.Run("SumExp32", func(b *testing.B) {
		for b.Loop() {
			SumExp32(row, 20)
		}
	})
	b.Run("SumExpShifted", func(b *testing.B) {
		for b.Loop() {
			SumExpShifted(row, 20, 1)
		}
	})
}
