package train

import (
	"math"
	"testing"
)

// TestExpfTanhf checks the float32 approximations against math.Exp and
// math.Tanh over the ranges the trainer uses.
func TestExpfTanhf(t *testing.T) {
	t.Parallel()
	for x := -87.0; x <= 88; x += 0.01 {
		got, want := float64(expf(float32(x))), math.Exp(float64(float32(x)))
		if math.Abs(got-want) > 3e-7*want {
			t.Fatalf("expf(%v) = %v, want %v", x, got, want)
		}
	}
	for x := -12.0; x <= 12; x += 0.001 {
		got, want := float64(tanhf(float32(x))), math.Tanh(float64(float32(x)))
		if math.Abs(got-want) > 2e-7 {
			t.Fatalf("tanhf(%v) = %v, want %v", x, got, want)
		}
	}
	if expf(-100) != 0 || !math.IsInf(float64(expf(100)), 1) {
		t.Errorf("expf clamps: expf(-100) = %v, expf(100) = %v", expf(-100), expf(100))
	}
}
