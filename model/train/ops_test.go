package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// opCase is one operation under a gradient check: forward computes the
// output from the inputs; backward accumulates the gradients of Σ out∘dout
// into grads (same order as inputs).
type opCase struct {
	name     string
	inputs   [][]float32
	forward  func() []float32
	backward func(dout []float32, grads [][]float32)
}

// checkOp compares the backward pass with central finite differences of
// L = Σ out∘R (R random, fixed) along two directions per input: the
// backward gradient itself and a random one. Forward runs in float32, so
// the step h and the tolerance are chosen for float32 rounding; a wrong
// term in a backward formula changes the derivative by far more.
func checkOp(t *testing.T, c opCase) {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 12))
	out := c.forward()
	R := randSlice(r, len(out))
	loss := func() float64 {
		o := c.forward()
		var s float64
		for i := range o {
			s += float64(o[i]) * float64(R[i])
		}
		return s
	}
	grads := make([][]float32, len(c.inputs))
	for i, in := range c.inputs {
		grads[i] = make([]float32, len(in))
	}
	c.forward()
	c.backward(append([]float32(nil), R...), grads)
	for i, in := range c.inputs {
		g := grads[i]
		for _, dirName := range []string{"gradient", "random"} {
			d := make([]float64, len(in))
			var n float64
			for j := range d {
				if dirName == "gradient" {
					d[j] = float64(g[j])
				} else {
					d[j] = r.NormFloat64()
				}
				n += d[j] * d[j]
			}
			n = math.Sqrt(n)
			if n == 0 {
				t.Fatalf("%s: input %d: zero gradient", c.name, i)
			}
			var want float64 // analytic directional derivative ⟨g, d/|d|⟩
			for j := range d {
				d[j] /= n
				want += float64(g[j]) * d[j]
			}
			orig := append([]float32(nil), in...)
			const h = 1e-2
			for j := range in {
				in[j] = orig[j] + float32(h*d[j])
			}
			lp := loss()
			for j := range in {
				in[j] = orig[j] - float32(h*d[j])
			}
			lm := loss()
			copy(in, orig)
			got := (lp - lm) / (2 * h)
			var gn float64
			for _, v := range g {
				gn += float64(v) * float64(v)
			}
			if diff := math.Abs(got - want); diff > 2e-3*math.Sqrt(gn)+1e-4 {
				t.Errorf("%s: input %d, %s direction: finite difference %.6g, backward %.6g", c.name, i, dirName, got, want)
			}
		}
	}
}

func TestOpGradients(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	const B, T, C, NH, V = 2, 5, 8, 2, 11
	N := B * T
	var s scratch

	tok := make([]int, N)
	for i := range tok {
		tok[i] = r.IntN(V)
	}
	wte, wpe := randSlice(r, V*C), randSlice(r, T*C)
	emb := make([]float32, N*C)

	x, w, b := randSlice(r, N*C), randSlice(r, C), randSlice(r, C)
	ln, mean, rstd := make([]float32, N*C), make([]float32, N), make([]float32, N)

	const O = 7
	mw, mb := randSlice(r, C*O), randSlice(r, O)
	mm := make([]float32, N*O)

	qkv := randSlice(r, N*3*C)
	att, atty := make([]float32, B*NH*T*T), make([]float32, N*C)

	g, th := make([]float32, N*C), make([]float32, N*C)
	ya, yb, res := randSlice(r, N*C), randSlice(r, N*C), make([]float32, N*C)

	dx, mask := randSlice(r, N*C), make([]float32, N*C)
	dropoutForward(append([]float32(nil), dx...), mask, 0.3, rand.NewPCG(3, 3), new([]uint64))
	dout := make([]float32, N*C)

	for _, c := range []opCase{
		{"embedding", [][]float32{wte, wpe},
			func() []float32 { embeddingForward(emb, tok, wte, wpe, B, T, C); return emb },
			func(d []float32, gs [][]float32) { embeddingBackward(gs[0], gs[1], d, tok, B, T, C) }},
		{"layernorm", [][]float32{x, w, b},
			func() []float32 { layerNormForward(ln, mean, rstd, x, w, b, N, C, 1e-5); return ln },
			func(d []float32, gs [][]float32) { layerNormBackward(gs[0], gs[1], gs[2], d, x, w, mean, rstd, N, C) }},
		{"matmul", [][]float32{x, mw, mb},
			func() []float32 { matmulForward(mm, x, mw, mb, N, C, O); return mm },
			func(d []float32, gs [][]float32) { matmulBackward(gs[0], gs[1], gs[2], d, x, mw, N, C, O) }},
		{"attention", [][]float32{qkv},
			func() []float32 { attentionForward(atty, att, qkv, B, T, C, NH); return atty },
			func(d []float32, gs [][]float32) { attentionBackward(gs[0], d, qkv, att, B, T, C, NH, &s) }},
		{"gelu_new", [][]float32{x},
			func() []float32 { geluForward(g, th, x); return g },
			func(d []float32, gs [][]float32) { geluBackward(gs[0], d, x, th) }},
		{"residual", [][]float32{ya, yb},
			func() []float32 { residualForward(res, ya, yb); return res },
			func(d []float32, gs [][]float32) { residualBackward(gs[0], gs[1], d) }},
		{"dropout", [][]float32{dx},
			func() []float32 {
				for i := range dout {
					dout[i] = dx[i] * mask[i] // the forward with a fixed mask
				}
				return dout
			},
			func(d []float32, gs [][]float32) {
				tmp := make([]float32, len(d))
				dropoutBackward(tmp, d, mask)
				addTo(gs[0], tmp)
			}},
	} {
		t.Run(c.name, func(t *testing.T) { checkOp(t, c) })
	}
}

// TestCrossEntropyGradient checks softmax cross-entropy's gradient
// (p − onehot) against finite differences of the loss itself, including a
// row with an ignored target (−1).
func TestCrossEntropyGradient(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(2, 2))
	const N, V = 4, 9
	logits := randSlice(r, N*V)
	targets := []int{3, 0, -1, 8}
	loss := func(l []float32) float64 {
		return crossEntropyForward(append([]float32(nil), l...), targets, N, V)
	}
	probs := append([]float32(nil), logits...)
	crossEntropyForward(probs, targets, N, V)
	crossEntropyBackward(probs, targets, N, V, 1)
	for i := range logits {
		orig := logits[i]
		const h = 1e-2
		logits[i] = orig + h
		lp := loss(logits)
		logits[i] = orig - h
		lm := loss(logits)
		logits[i] = orig
		if got := (lp - lm) / (2 * h); math.Abs(got-float64(probs[i])) > 1e-3 {
			t.Errorf("dlogits[%d] = %.6g, finite difference %.6g", i, probs[i], got)
		}
	}
}

// TestDropoutRate checks that dropout keeps about 1−p of the elements and
// scales them by 1/(1−p), so the expected value is unchanged.
func TestDropoutRate(t *testing.T) {
	t.Parallel()
	x := make([]float32, 100000)
	for i := range x {
		x[i] = 1
	}
	mask := make([]float32, len(x))
	dropoutForward(x, mask, 0.25, rand.NewPCG(1, 2), new([]uint64))
	var s float64
	zeros := 0
	for _, v := range x {
		s += float64(v)
		if v == 0 {
			zeros++
		}
	}
	if f := float64(zeros) / float64(len(x)); math.Abs(f-0.25) > 0.01 {
		t.Errorf("dropped %.3f of the elements, want 0.25", f)
	}
	if m := s / float64(len(x)); math.Abs(m-1) > 0.01 {
		t.Errorf("mean after dropout %.3f, want 1", m)
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}
