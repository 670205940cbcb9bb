package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gptviz/gptviz/internal/gemm"
	"github.com/gptviz/gptviz/model/arch"
)

// tensorInfo describes one parameter tensor inside the flat parameter vector.
type tensorInfo struct {
	Name   string // GPT-2 / Hugging Face name, e.g. "h.0.attn.c_attn.weight"
	Shape  []int  // Conv1D layout [in, out] for matrices
	Off    int    // offset into the flat vector, in float32s
	Size   int    // number of float32s
	Decay  bool   // AdamW weight decay applies (matrices and embeddings)
	InitSD float64
	InitC  float32 // constant initial value when InitSD is 0 (1 for LayerNorm gains)
}

// layout lists the tensors of a GPT-2 with a tied head in the order of the
// flat parameter vector (wte, wpe, h.0 … h.{n_layer-1}, ln_f), with GPT-2's
// initialisation: N(0, 0.02) for weights, N(0, 0.02/√(2·n_layer)) for the
// two projections that write into the residual stream (Radford et al. 2019,
// §2.3), zero biases, LayerNorm gains 1.
func layout(c arch.Config) ([]tensorInfo, int) {
	var ts []tensorInfo
	off := 0
	add := func(name string, decay bool, sd float64, cst float32, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		ts = append(ts, tensorInfo{Name: name, Shape: shape, Off: off, Size: n, Decay: decay, InitSD: sd, InitC: cst})
		off += n
	}
	C, I := c.NEmbd, c.NInner
	projSD := 0.02 / math.Sqrt(2*float64(c.NLayer))
	add("wte.weight", true, 0.02, 0, c.VocabSize, C)
	add("wpe.weight", true, 0.01, 0, c.NPositions, C)
	for l := 0; l < c.NLayer; l++ {
		p := fmt.Sprintf("h.%d.", l)
		add(p+"ln_1.weight", false, 0, 1, C)
		add(p+"ln_1.bias", false, 0, 0, C)
		add(p+"attn.c_attn.weight", true, 0.02, 0, C, 3*C)
		add(p+"attn.c_attn.bias", false, 0, 0, 3*C)
		add(p+"attn.c_proj.weight", true, projSD, 0, C, C)
		add(p+"attn.c_proj.bias", false, 0, 0, C)
		add(p+"ln_2.weight", false, 0, 1, C)
		add(p+"ln_2.bias", false, 0, 0, C)
		add(p+"mlp.c_fc.weight", true, 0.02, 0, C, I)
		add(p+"mlp.c_fc.bias", false, 0, 0, I)
		add(p+"mlp.c_proj.weight", true, projSD, 0, I, C)
		add(p+"mlp.c_proj.bias", false, 0, 0, C)
	}
	add("ln_f.weight", false, 0, 1, C)
	add("ln_f.bias", false, 0, 0, C)
	return ts, off
}

// layerParams are views of one block's tensors in a flat vector.
type layerParams struct {
	ln1w, ln1b, attnw, attnb, projw, projb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb []float32
}

// params are views of every tensor in a flat vector (weights or gradients).
type params struct {
	wte, wpe   []float32
	layers     []layerParams
	lnfw, lnfb []float32
}

// bind returns views into flat for the layout of c.
func bind(c arch.Config, flat []float32) *params {
	ts, _ := layout(c)
	i := 0
	next := func() []float32 {
		t := ts[i]
		i++
		return flat[t.Off : t.Off+t.Size : t.Off+t.Size]
	}
	p := &params{wte: next(), wpe: next()}
	for l := 0; l < c.NLayer; l++ {
		p.layers = append(p.layers, layerParams{
			ln1w: next(), ln1b: next(), attnw: next(), attnb: next(), projw: next(), projb: next(),
			ln2w: next(), ln2b: next(), fcw: next(), fcb: next(), fcprojw: next(), fcprojb: next(),
		})
	}
	p.lnfw, p.lnfb = next(), next()
	return p
}

// initParams fills flat with GPT-2's initialisation, deterministically for
// seed.
func initParams(c arch.Config, flat []float32, seed uint64) {
	ts, _ := layout(c)
	r := rand.New(rand.NewPCG(seed, 0x67707476697a))
	for _, t := range ts {
		s := flat[t.Off : t.Off+t.Size]
		for i := range s {
			if t.InitSD > 0 {
				s[i] = float32(r.NormFloat64() * t.InitSD)
			} else {
				s[i] = t.InitC
			}
		}
	}
}

// layerActs are the activations of one block saved for the backward pass,
// for N = B·T rows.
type layerActs struct {
	ln1, ln1Mean, ln1Rstd []float32 // [N,C], [N], [N]
	qkv                   []float32 // [N,3C]
	att                   []float32 // [B,NH,T,T] attention probabilities
	atty                  []float32 // [N,C] attention output before c_proj
	res2                  []float32 // [N,C] residual stream after attention
	ln2, ln2Mean, ln2Rstd []float32
	fch, fchTanh, fchGelu []float32 // [N,n_inner]
	res3                  []float32 // [N,C] residual stream after the MLP
	attnMask, mlpMask     []float32 // [N,C] dropout factors of the two residual branches
}

// worker owns the activations, gradients and scratch space for B sequences
// of T tokens; workers run on separate goroutines.
type worker struct {
	c       arch.Config
	B, T    int
	encoded []float32 // [N,C]
	layers  []layerActs
	lnf     []float32
	lnfMean []float32
	lnfRstd []float32
	logits  []float32 // [N,V], probabilities after forward, dlogits after backward
	tmp     []float32 // [N,C]
	embMask []float32 // [N,C] dropout factors of the embeddings
	dropout float32   // dropout probability of the current forward pass (0 for none)
	// dropBits holds a dropout pass's random words, 16 bits per element.
	dropBits []uint64
	// backward buffers
	grad      []float32 // flat gradient vector
	g         *params
	dres      []float32 // [N,C]
	dln       []float32 // [N,C]
	datty     []float32 // [N,C]
	dqkv      []float32 // [N,3C]
	dfch      []float32 // [N,n_inner]
	dfchGelu  []float32 // [N,n_inner]
	s         scratch
	lossSum   float64
	lossCount int
}

func newWorker(c arch.Config, B, T int, withGrad bool) *worker {
	N, C, I := B*T, c.NEmbd, c.NInner
	f := func(n int) []float32 { return make([]float32, n) }
	w := &worker{c: c, B: B, T: T, encoded: f(N * C), lnf: f(N * C), lnfMean: f(N), lnfRstd: f(N), logits: f(N * c.VocabSize), tmp: f(N * C)}
	for l := 0; l < c.NLayer; l++ {
		w.layers = append(w.layers, layerActs{
			ln1: f(N * C), ln1Mean: f(N), ln1Rstd: f(N), qkv: f(N * 3 * C), att: f(B * c.NHead * T * T),
			atty: f(N * C), res2: f(N * C), ln2: f(N * C), ln2Mean: f(N), ln2Rstd: f(N),
			fch: f(N * I), fchTanh: f(N * I), fchGelu: f(N * I), res3: f(N * C),
		})
		if withGrad {
			w.layers[l].attnMask, w.layers[l].mlpMask = f(N*C), f(N*C)
		}
	}
	if withGrad {
		_, n := layout(c)
		w.grad = f(n)
		w.g = bind(c, w.grad)
		w.dres, w.dln, w.datty = f(N*C), f(N*C), f(N*C)
		w.dqkv, w.dfch, w.dfchGelu = f(N*3*C), f(N*I), f(N*I)
		w.embMask = f(N * C)
	}
	return w
}

// forward runs the model on tok [B,T] (B ≤ w.B) and, when targets is not
// nil, returns the summed cross-entropy (nats) over targets ≥ 0 and their
// count. Afterwards w.logits holds the
// probabilities (targets != nil) or the logits (targets == nil).
//
// With drop != nil (training with dropout probability w.dropout > 0),
// dropout applies to the embeddings and to the output of each residual
// branch (attention and MLP, after c_proj), as GPT-2's embd_pdrop and
// resid_pdrop; the factors are kept for backward.
func (w *worker) forward(p *params, tok, targets []int, B int, drop *rand.PCG) (float64, int) {
	c, T := w.c, w.T
	N, C, I, V := B*T, c.NEmbd, c.NInner, c.VocabSize
	eps := float32(c.LayerNormEpsilon)
	pd := w.dropout
	if drop == nil {
		pd = 0
	}
	embeddingForward(w.encoded, tok, p.wte, p.wpe, B, T, C)
	if pd > 0 {
		dropoutForward(w.encoded[:N*C], w.embMask, pd, drop, &w.dropBits)
	}
	in := w.encoded
	for l := range w.layers {
		a, lp := &w.layers[l], &p.layers[l]
		layerNormForward(a.ln1, a.ln1Mean, a.ln1Rstd, in, lp.ln1w, lp.ln1b, N, C, eps)
		matmulForward(a.qkv, a.ln1, lp.attnw, lp.attnb, N, C, 3*C)
		attentionForward(a.atty, a.att, a.qkv, B, T, C, c.NHead)
		matmulForward(w.tmp, a.atty, lp.projw, lp.projb, N, C, C)
		if pd > 0 {
			dropoutForward(w.tmp[:N*C], a.attnMask, pd, drop, &w.dropBits)
		}
		residualForward(a.res2[:N*C], in[:N*C], w.tmp)
		layerNormForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.res2, lp.ln2w, lp.ln2b, N, C, eps)
		matmulForward(a.fch, a.ln2, lp.fcw, lp.fcb, N, C, I)
		geluForward(a.fchGelu[:N*I], a.fchTanh, a.fch[:N*I])
		matmulForward(w.tmp, a.fchGelu, lp.fcprojw, lp.fcprojb, N, I, C)
		if pd > 0 {
			dropoutForward(w.tmp[:N*C], a.mlpMask, pd, drop, &w.dropBits)
		}
		residualForward(a.res3[:N*C], a.res2[:N*C], w.tmp)
		in = a.res3
	}
	layerNormForward(w.lnf, w.lnfMean, w.lnfRstd, in, p.lnfw, p.lnfb, N, C, eps)
	// Tied head: logits = lnf·wteᵀ, wte [V,C] read in place.
	clear(w.logits[:N*V])
	gemm.Mul(gemm.NT, w.logits, w.lnf, p.wte, N, C, V)
	if targets == nil {
		return 0, 0
	}
	loss := crossEntropyForward(w.logits[:N*V], targets, N, V)
	n := 0
	for _, t := range targets[:N] {
		if t >= 0 {
			n++
		}
	}
	return loss, n
}

// backward accumulates into w.grad the gradient of scale·(summed loss) of
// the last forward call (which must have had targets); pd is the dropout
// probability that call used (0 for none).
func (w *worker) backward(p *params, tok, targets []int, B int, scale, pd float32) {
	c, T := w.c, w.T
	N, C, I, V := B*T, c.NEmbd, c.NInner, c.VocabSize
	g := w.g
	crossEntropyBackward(w.logits[:N*V], targets, N, V, scale)
	// Tied head: logits = lnf·wteᵀ, so dlnf = dlogits·wte, dwte += dlogitsᵀ·lnf.
	dlnf := w.dln[:N*C]
	clear(dlnf)
	gemm.Gemm(dlnf, w.logits, p.wte, N, V, C)
	gemm.Mul(gemm.TN, g.wte, w.logits, w.lnf, V, N, C)
	dres := w.dres[:N*C]
	clear(dres)
	last := w.encoded
	if len(w.layers) > 0 {
		last = w.layers[len(w.layers)-1].res3
	}
	layerNormBackward(dres, g.lnfw, g.lnfb, dlnf, last, p.lnfw, w.lnfMean, w.lnfRstd, N, C)
	// dres holds the gradient of the residual stream. Each residual add
	// passes it through unchanged to both branches (residualBackward), so it
	// is accumulated in place and each branch's matmulBackward reads it.
	for l := len(w.layers) - 1; l >= 0; l-- {
		a, lp, gl := &w.layers[l], &p.layers[l], &g.layers[l]
		in := w.encoded
		if l > 0 {
			in = w.layers[l-1].res3
		}
		dfchGelu, dfch, dln := w.dfchGelu[:N*I], w.dfch[:N*I], w.dln[:N*C]
		dbranch := dres
		if pd > 0 {
			dbranch = w.tmp[:N*C]
			dropoutBackward(dbranch, dres, a.mlpMask)
		}
		clear(dfchGelu)
		matmulBackward(dfchGelu, gl.fcprojw, gl.fcprojb, dbranch, a.fchGelu, lp.fcprojw, N, I, C)
		clear(dfch)
		geluBackward(dfch, dfchGelu, a.fch[:N*I], a.fchTanh)
		clear(dln)
		matmulBackward(dln, gl.fcw, gl.fcb, dfch, a.ln2, lp.fcw, N, C, I)
		layerNormBackward(dres, gl.ln2w, gl.ln2b, dln, a.res2, lp.ln2w, a.ln2Mean, a.ln2Rstd, N, C)
		datty := w.datty[:N*C]
		clear(datty)
		dbranch = dres
		if pd > 0 {
			dbranch = w.tmp[:N*C]
			dropoutBackward(dbranch, dres, a.attnMask)
		}
		matmulBackward(datty, gl.projw, gl.projb, dbranch, a.atty, lp.projw, N, C, C)
		dqkv := w.dqkv[:N*3*C]
		clear(dqkv)
		attentionBackward(dqkv, datty, a.qkv, a.att, B, T, C, c.NHead, &w.s)
		clear(dln)
		matmulBackward(dln, gl.attnw, gl.attnb, dqkv, a.ln1, lp.attnw, N, C, 3*C)
		layerNormBackward(dres, gl.ln1w, gl.ln1b, dln, in, lp.ln1w, a.ln1Mean, a.ln1Rstd, N, C)
	}
	if pd > 0 {
		dropoutBackward(dres, dres, w.embMask)
	}
	embeddingBackward(g.wte, g.wpe, dres, tok, B, T, C)
}
