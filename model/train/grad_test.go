package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gptviz/gptviz/model/arch"
)

// TestModelGradient checks the whole backward pass: for every tensor, the
// directional derivative of the loss along that tensor's own gradient
// (central finite difference) must equal the squared norm of the gradient
// the backward pass computed.
func TestModelGradient(t *testing.T) {
	t.Parallel()
	for _, dropout := range []float64{0, 0.2} {
		t.Run(fmt.Sprintf("dropout=%g", dropout), func(t *testing.T) { testModelGradient(t, dropout) })
	}
}

func testModelGradient(t *testing.T, dropout float64) {
	c := arch.Config{VocabSize: 37, NPositions: 16, NEmbd: 32, NLayer: 2, NHead: 4}
	o := DefaultOptions(c, 10)
	o.BatchSize, o.Shards, o.Dropout = 3, 1, dropout
	tr, err := New(o, Data{Train: randomData(200, 37, 3)})
	if err != nil {
		t.Fatal(err)
	}
	// Larger weights than GPT-2's init so that every tensor gets a sizeable gradient.
	r := rand.New(rand.NewPCG(5, 6))
	for i := range tr.Params {
		tr.Params[i] += float32(r.NormFloat64() * 0.2)
	}
	tok, tgt := tr.batch(0)
	w := tr.shards[0]
	lossAt := func() float64 {
		var drop *rand.PCG // the same dropout masks on every call
		if dropout > 0 {
			drop = rand.NewPCG(7, 8)
		}
		s, n := w.forward(tr.p, tok, tgt, o.BatchSize, drop)
		return s / float64(n)
	}
	lossAt()
	clear(w.grad)
	w.backward(tr.p, tok, tgt, o.BatchSize, 1/float32(len(tgt)), float32(dropout))
	grad := append([]float32(nil), w.grad...)
	for _, ti := range tr.tensors {
		g := grad[ti.Off : ti.Off+ti.Size]
		var g2 float64
		for _, v := range g {
			g2 += float64(v) * float64(v)
		}
		gn := math.Sqrt(g2)
		if gn == 0 {
			t.Errorf("%s: zero gradient", ti.Name)
			continue
		}
		p := tr.Params[ti.Off : ti.Off+ti.Size]
		orig := append([]float32(nil), p...)
		const h = 1e-2 // step along the unit gradient direction
		for i := range p {
			p[i] = orig[i] + float32(h*float64(g[i])/gn)
		}
		lp := lossAt()
		for i := range p {
			p[i] = orig[i] - float32(h*float64(g[i])/gn)
		}
		lm := lossAt()
		copy(p, orig)
		num := (lp - lm) / (2 * h)
		if rel := math.Abs(num-gn) / gn; rel > 1e-3 {
			t.Errorf("%s: finite difference %.6g, backward %.6g (relative error %.3g)", ti.Name, num, gn, rel)
		}
	}
}
