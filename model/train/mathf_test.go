package train

import (
	"math"
	"testing"
)

// TestExpf checks the float32 approximation against math.Exp over the
// range the trainer uses (gelu_new's tanh is vexp.GELUTanhSave's, tested
// there).
func TestExpf(t *testing.T) {
	t.Parallel()
	for x := -87.0; x <= 88; x += 0.01 {
		got, want := float64(expf(float32(x))), math.Exp(float64(float32(x)))
		if math.Abs(got-want) > 3e-7*want {
			t.Fatalf("expf(%v) = %v, want %v", x, got, want)
		}
	}
	if expf(-100) != 0 || !math.IsInf(float64(expf(100)), 1) {
		t.Errorf("expf clamps: expf(-100) = %v, expf(100) = %v", expf(-100), expf(100))
	}
}
