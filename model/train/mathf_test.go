package train

import (
	"math"
	"testing"
)

// expf is the exponential that expShiftSum writes out, as a function:
// the reference its results must equal bit for bit.
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

// TestExpShiftSum checks the softmax exponentials against math.Exp over
// the range a softmax uses, and bit for bit against expf, the same
// method as a separate function (so a rewrite of the loop cannot change a
// training run's numbers): each value, and the sum in index order.
func TestExpShiftSum(t *testing.T) {
	t.Parallel()
	var row, want []float32
	for x := -100.0; x <= 0; x += 0.01 {
		row = append(row, float32(x))
	}
	row = append(row, 0, float32(math.Copysign(0, -1)), -87, -86.99999, -1e-30, float32(math.Inf(-1)))
	want = make([]float32, len(row))
	var wantSum float32
	for i, v := range row {
		want[i] = expf(v - 0.5)
		wantSum += want[i]
	}
	got := append([]float32(nil), row...)
	if sum := expShiftSum(got, 0.5); sum != wantSum {
		t.Errorf("sum %v, want %v", sum, wantSum)
	}
	for i, v := range row {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("e^(%v − 0.5) = %v, expf gives %v", v, got[i], want[i])
		}
		if x := float64(v) - 0.5; x >= -87 {
			if e := math.Exp(float64(v - 0.5)); math.Abs(float64(got[i])-e) > 3e-7*e {
				t.Fatalf("e^(%v − 0.5) = %v, want %v", v, got[i], e)
			}
		}
	}
	nan := []float32{float32(math.NaN())}
	if expShiftSum(nan, 0); !math.IsNaN(float64(nan[0])) || !math.IsNaN(float64(expf(float32(math.NaN())))) {
		t.Errorf("NaN: %v, expf gives %v", nan[0], expf(float32(math.NaN())))
	}
}
