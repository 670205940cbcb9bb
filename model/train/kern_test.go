package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The loops kern.go replaced, as they were written in ops.go (the code that
// trained the embedded default model, built with the default GOAMD64=v1),
// with each product that a sum uses converted to float32: that is what
// they computed at v1, and the conversion keeps a GOAMD64=v3 build from
// fusing them into multiply-adds that the trained loops never ran.
func oldLNApply(o, x, w, b []float32, m, r float32) {
	for j, v := range x {
		o[j] = float32((v-m)*r*w[j]) + b[j]
	}
}

func oldLNBackRow(dx, dw, db, x, d, w []float32, m, r, dnormMean, dnormNormMean float32) {
	for j := range x {
		xh := (x[j] - m) * r
		dn := w[j] * d[j]
		db[j] += d[j]
		dw[j] += float32(xh * d[j])
		dx[j] += float32((dn - dnormMean - float32(xh*dnormNormMean)) * r)
	}
}

// TestKernelsMatchLoops checks every kernel of kern.go, on both paths and
// at kernel and tail lengths, against the loop it replaced, bit for bit.
func TestKernelsMatchLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-4)))
		}
		return v
	}
	same := func(t *testing.T, what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s[%d] = %v, the old loop %v", what, i, got[i], want[i])
			}
		}
	}
	for _, kern := range []bool{true, false} {
		for _, n := range []int{1, 7, 8, 9, 23, 128, 131, 4099} {
			t.Run(fmt.Sprintf("kernels=%v/n=%d", kern, n), func(t *testing.T) {
				defer func(old bool) { useKern = old }(useKern)
				useKern = useKern && kern
				x, w, b, d := vec(n), vec(n), vec(n), vec(n)
				m, r := float32(rng.NormFloat64()), float32(1+rng.Float64())
				dm, dnm := float32(rng.NormFloat64()), float32(rng.NormFloat64())

				got, want := make([]float32, n), make([]float32, n)
				lnApply(got, x, w, b, m, r)
				oldLNApply(want, x, w, b, m, r)
				same(t, "lnApply", got, want)

				dx, dw, db := vec(n), vec(n), vec(n)
				dx2, dw2, db2 := append([]float32(nil), dx...), append([]float32(nil), dw...), append([]float32(nil), db...)
				lnBackRow(dx, dw, db, x, d, w, m, r, dm, dnm)
				oldLNBackRow(dx2, dw2, db2, x, d, w, m, r, dm, dnm)
				same(t, "lnBackRow dx", dx, dx2)
				same(t, "lnBackRow dw", dw, dw2)
				same(t, "lnBackRow db", db, db2)

				mulTo(got, x, w)
				for i := range want {
					want[i] = x[i] * w[i]
				}
				same(t, "mulTo", got, want)
				sumTo(got, x, w)
				for i := range want {
					want[i] = x[i] + w[i]
				}
				same(t, "sumTo", got, want)
				copy(got, x)
				addTo(got, w) // sumTo with dst = a
				same(t, "addTo", got, want)
				// dropMask against the loop dropoutForward ran before it.
				bits := make([]uint64, (n+3)/4)
				for i := range bits {
					bits[i] = rng.Uint64()
				}
				gotMask, wantMask := make([]float32, n), make([]float32, n)
				copy(got, x)
				copy(want, x)
				dropMask(got, gotMask, bits, 1.25, 13107)
				for i := 0; i < n; i += 4 {
					b := bits[i/4]
					for j := i; j < min(i+4, n); j++ {
						mk := float32(1.25)
						if b&0xffff < 13107 {
							mk = 0
						}
						wantMask[j] = mk
						want[j] *= mk
						b >>= 16
					}
				}
				same(t, "dropMask x", got, want)
				same(t, "dropMask mask", gotMask, wantMask)
				// adamwRow against AdamW's loop before it (adamw.go).
				gm, gv := vec(n), vec(n)
				for i := range gv {
					gv[i] = float32(math.Abs(float64(gv[i])))
				}
				wm, wv := append([]float32(nil), gm...), append([]float32(nil), gv...)
				copy(got, x)
				copy(want, x)
				b1, b2, c1, c2, eps, lr, decay := float32(0.9), float32(0.95), float32(1.3), float32(2.1), float32(1e-8), float32(2e-3), float32(0.1)
				adamwRow(got, d, gm, gv, &[9]float32{b1, 1 - b1, b2, 1 - b2, c1, c2, eps, lr, decay})
				for i := range want {
					gi := d[i]
					wm[i] = float32(b1*wm[i]) + float32((1-b1)*gi)
					wv[i] = float32(b2*wv[i]) + float32((1-b2)*gi*gi)
					mh, vh := wm[i]*c1, wv[i]*c2
					want[i] -= float32(lr * (mh/(float32(math.Sqrt(float64(vh)))+eps) + float32(decay*want[i])))
				}
				same(t, "adamwRow p", got, want)
				same(t, "adamwRow m", gm, wm)
				same(t, "adamwRow v", gv, wv)
				copy(got, x)
				softBack(got, w, m, r)
				for i := range want {
					want[i] = w[i] * (x[i] - m) * r
				}
				same(t, "softBack", got, want)
				copy(got, x)
				scaleBy(got, 0.37)
				for i := range want {
					want[i] = x[i] * 0.37
				}
				same(t, "scaleBy", got, want)
			})
		}
	}
}
