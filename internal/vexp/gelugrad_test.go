package vexp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// trainerGELUBackward is the trainer's gelu backward loop as it was written
// before GELUTanhGrad (model/train/ops.go), the loop that trained the
// embedded default model: both paths of GELUTanhGrad must equal it bit for
// bit, so that train-mix.sh still reproduces those weights.
func trainerGELUBackward(dinp, dout, inp, th []float32) {
	for i, x := range inp {
		t := th[i]
		// As written then, with each product a sum uses converted to
		// float32: what it computed at the default GOAMD64=v1, which a
		// v3 build would otherwise fuse into multiply-adds.
		dt := geluC * (1 + float32(3*0.044715*x*x)) * (1 - float32(t*t))
		dinp[i] += float32(dout[i] * (float32(0.5*(1+t)) + float32(0.5*x*dt)))
	}
}

func TestGELUTanhGrad(t *testing.T) {
	x := geluInputs() // specials, normal values, random bit patterns
	rng := rand.New(rand.NewPCG(9, 10))
	th, dout, dinp := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	GELUTanhSave(make([]float32, len(x)), th, x)
	for i := range x {
		dout[i] = float32(rng.NormFloat64())
		dinp[i] = float32(rng.NormFloat64())
	}
	dout[1], dout[2], dinp[3] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Copysign(0, -1))
	want := append([]float32(nil), dinp...)
	trainerGELUBackward(want, dout, x, th)
	for _, portable := range []bool{false, true} {
		for _, n := range []int{len(x), 1, 7, 8, 9, 17} { // kernel and tail lengths
			t.Run(fmt.Sprintf("portable=%v/n=%d", portable, n), func(t *testing.T) {
				old := SetPortable(portable)
				defer SetPortable(old)
				got := append([]float32(nil), dinp[:n]...)
				GELUTanhGrad(got, dout, x, th)
				bad := 0
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
						if bad++; bad <= 5 {
							t.Errorf("x %v, t %v, dout %v: %v (%#x), trainer's loop %v (%#x)", x[i], th[i], dout[i], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
						}
					}
				}
			})
		}
	}
	if useAsm && !Accelerated() {
		t.Error("the kernel is not used on a CPU that runs it")
	}
}
