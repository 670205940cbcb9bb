package model

import (
	"math"

	"github.com/gptviz/gptviz/internal/gemm"
	"github.com/gptviz/gptviz/internal/gemv"
)

// This file is the one-row path of a decode step: the same operations as
// matmul, attention and matmulTransB for T = 1, run on the long-lived
// workers of pool.go with the gemv kernels, so that a step streams each
// weight matrix once, row by contiguous row, and allocates nothing.

// decodeOps holds a workspace's one-row tasks, reused across steps.
type decodeOps struct {
	wait  poolWait
	mv    matvecTask
	head  headTask
	att   attnTask
	rows  headRowsTask
	fused headLensTask
	top   lensTopTask
	stats rowStatsTask
	widen widenTask
	part  []float32 // matvecTask's partial outputs
}

// linear computes out = in @ w + b for T rows of in [T, C], w [C, OC],
// b [OC] or nil: the one-row path when T = 1, else matmul. A 16-bit w is
// widened in the one-row kernels, or for T > 1 as gemm packs its blocks
// (matmulHalf).
func (ws *workspace) linear(out, in []float32, w matrix, b []float32, T, C, OC int) {
	if T != 1 {
		if w.half() {
			matmulHalf(out, in, w.h, b, T, C, OC)
			return
		}
		matmul(out, in, w.f, b, T, C, OC)
		return
	}
	if w.half() {
		w.h = w.h.Slice(0, C*OC)
	} else {
		w.f = w.f[:C*OC]
	}
	cols := 1 // column chunks per part: enough tiles to share evenly
	if workers := decodePool.workers(); kPartsOf(C)%workers != 0 {
		cols = workers
	}
	ws.dec.mv = newMatvec(out, in, w, b, &ws.dec.part, C, OC, cols)
	decodePool.run(&ws.dec.mv, ws.dec.mv.tiles(), 1, C*OC, &ws.dec.wait)
	ws.dec.mv.sumParts()
	ws.dec.mv = matvecTask{} // drop the references
}

// kPartRows bounds the weight rows one part of a one-row product reads.
const kPartRows = 512

// kParts splits the K rows of a one-row product's weight matrix [K, OC]
// into parts of rows rows each (a multiple of 4; the last may be shorter).
// Each part is one contiguous stretch of memory that a worker streams
// whole, summing into its own partial output; the partial outputs are
// then added in part order. The split depends on K alone, not on the
// number of workers, so results are the same on any machine. (The column
// split that came before gave each worker a strided slice of every row,
// 384 floats of a 768-wide one, which the hardware prefetchers follow
// poorly: 16–27 GB/s against 40+ for one contiguous stream per core.)
func kParts(K int) (parts, rows int) {
	parts = (K + kPartRows - 1) / kPartRows
	rows = ((K+parts-1)/parts + 3) &^ 3
	return (K + rows - 1) / rows, rows
}

// kPartsOf is kParts' count of parts.
func kPartsOf(K int) int {
	parts, _ := kParts(K)
	return parts
}

// matvecTask computes out = in @ w + b for one row, w [C, OC], as tiles:
// tile i is rows [p·prows, (p+1)·prows) of w for p = i / cols, times the
// columns of chunk i % cols (colw wide, a multiple of 16, so that which
// columns fall to the kernels' scalar tails does not depend on cols).
// Part 0 sums into out, starting from b; part p > 0 into part[(p−1)·OC:],
// starting from zero; sumParts then adds the parts into out in order. How
// the tiles are shared out (cols, workers) does not change any sum.
type matvecTask struct {
	out, in, b, part []float32
	w                matrix
	C, OC            int
	parts, prows     int
	cols, colw       int
}

// newMatvec sets up out = in @ w + b as cols column chunks per part,
// growing *part (kept by the caller) to hold the partial outputs.
func newMatvec(out, in []float32, w matrix, b []float32, part *[]float32, C, OC, cols int) matvecTask {
	parts, prows := kParts(C)
	*part = resize(*part, (parts-1)*OC)
	return matvecTask{out: out[:OC], in: in[:C], w: w, b: b, part: *part, C: C, OC: OC,
		parts: parts, prows: prows, cols: cols, colw: ((OC+cols-1)/cols + 15) &^ 15}
}

// tiles returns how many tiles runRange covers.
func (t *matvecTask) tiles() int { return t.parts * t.cols }

// sumParts adds parts 1, 2, … into out, in that order.
func (t *matvecTask) sumParts() {
	for p := 1; p < t.parts; p++ {
		for j, v := range t.part[(p-1)*t.OC : p*t.OC] {
			t.out[j] += v
		}
	}
}

func (t *matvecTask) runRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		p, c0 := i/t.cols, i%t.cols*t.colw
		if c0 >= t.OC {
			continue // an empty last chunk
		}
		c1 := min(c0+t.colw, t.OC)
		k0 := p * t.prows
		k1 := min(k0+t.prows, t.C)
		var o []float32
		switch {
		case p > 0:
			o = t.part[(p-1)*t.OC+c0 : (p-1)*t.OC+c1]
			clear(o)
		case t.b != nil:
			o = t.out[c0:c1]
			copy(o, t.b[c0:c1])
		default:
			o = t.out[c0:c1]
			clear(o)
		}
		if t.w.half() {
			gemv.AxpyRowsHalf(o, t.in[k0:k1], t.w.h.From(k0*t.OC+c0), t.OC)
		} else {
			gemv.AxpyRows(o, t.in[k0:k1], t.w.f[k0*t.OC+c0:], t.OC)
		}
	}
}

// float32 returns the first n elements of w as float32: w's own memory, or
// for a 16-bit w a widened copy in ws.wide (valid until the next call),
// widened on the pool. The lesson read-outs (lessonext.go) use it.
func (ws *workspace) float32(w matrix, n int) []float32 {
	if !w.half() {
		return w.f[:n]
	}
	if cap(ws.wide) < n {
		ws.wide = make([]float32, n)
	}
	ws.wide = ws.wide[:n]
	ws.dec.widen = widenTask{dst: ws.wide, src: w.h.Slice(0, n)}
	decodePool.run(&ws.dec.widen, n, 4096, n, &ws.dec.wait)
	ws.dec.widen = widenTask{}
	return ws.wide
}

// widenTask widens elements [lo, hi) of src into dst.
type widenTask struct {
	dst []float32
	src gemv.Half
}

func (t *widenTask) runRange(lo, hi int) { gemv.Widen(t.dst[lo:hi], t.src.From(lo)) }

// logitsHead computes out = in @ wᵀ for in [rows, C] and the output head w
// [V, C], out [rows, V]: the one-row path when rows = 1, else headRows.
func (ws *workspace) logitsHead(out, in []float32, w matrix, rows, C, V int) {
	if rows != 1 {
		ws.headRows(out, in, w, rows, C, V)
		return
	}
	ws.dec.head = headTask{out: out[:V], in: in[:C], w: w, C: C}
	decodePool.run(&ws.dec.head, V, 16, C*V, &ws.dec.wait)
	ws.dec.head = headTask{}
}

// headTask computes out[v] = in · w[v] for vocabulary rows [lo, hi).
type headTask struct {
	out, in []float32
	w       matrix
	C       int
}

func (t *headTask) runRange(lo, hi int) {
	if t.w.half() {
		gemv.DotRowsHalf(t.out[lo:hi], t.in, t.w.h.From(lo*t.C), t.C)
		return
	}
	gemv.DotRows(t.out[lo:hi], t.in, t.w.f[lo*t.C:], t.C)
}

// attend is attention (see ops.go) for the T new rows; one row runs its
// heads on the pool, with the same arithmetic per head as attention.
func (ws *workspace) attend(out, att, q, kc, vc []float32, T, past, nHead, dHead, capacity int) {
	if T != 1 {
		attention(out, att, q, kc, vc, T, past, nHead, dHead, capacity)
		return
	}
	nkeys := past + 1
	ws.dec.att = attnTask{out: out, att: att, q: q, kc: kc, vc: vc, nkeys: nkeys, dHead: dHead, capacity: capacity}
	decodePool.run(&ws.dec.att, nHead, 1, nHead*nkeys*dHead*2, &ws.dec.wait)
	ws.dec.att = attnTask{}
}

// attnTask is one query row's attention for heads [lo, hi).
type attnTask struct {
	out, att, q, kc, vc    []float32
	nkeys, dHead, capacity int
}

func (t *attnTask) runRange(lo, hi int) {
	D, n := t.dHead, t.nkeys
	scale := float32(1 / math.Sqrt(float64(D)))
	for h := lo; h < hi; h++ {
		qh := t.q[h*D : (h+1)*D]
		row := t.att[h*n : (h+1)*n]
		kh := t.kc[h*t.capacity*D:]
		vh := t.vc[h*t.capacity*D:]
		for j := 0; j < n; j++ {
			row[j] = dot(qh, kh[j*D:(j+1)*D]) * scale
		}
		softmaxRow(row)
		o := t.out[h*D : (h+1)*D]
		clear(o)
		for j := 0; j < n; j++ {
			gemm.Axpy(o, row[j], vh[j*D:(j+1)*D])
		}
	}
}

// headRows computes out = in @ wᵀ for in [rows, C] and the output head w
// [V, C], out [rows, V], on the pool, without transposing or allocating:
// each worker takes a range of vocabulary rows and walks it in blocks of
// headBlock rows, each kept in cache while every input row is dotted with
// it (gemv.DotRowsMulti: for a decode step's few rows, four rows at a time
// in L1 while the next four arrive), so w is read from memory once per
// call. The logit lens and the
// recorded passes use it. (The packed gemm, NT, took 1.2–1.7× as long at
// 128 rows of GPT-2 124M's head on AVX2: see model/PERF.md.)
func (ws *workspace) headRows(out, in []float32, w matrix, rows, C, V int) {
	if rows == 1 {
		ws.logitsHead(out, in, w, rows, C, V)
		return
	}
	ws.dec.rows = headRowsTask{out: out[:rows*V], in: in[:rows*C], w: w, rows: rows, C: C, V: V}
	decodePool.run(&ws.dec.rows, V, headBlock, rows*C*V, &ws.dec.wait)
	ws.dec.rows = headRowsTask{}
}

// headLensTask computes one row's logits, out = in @ wᵀ [V], and in the
// same pass over w those of more rows, rows.out = rows.in @ wᵀ: per block
// of headBlock vocabulary rows, the rows' dot products (headRowsTask),
// then the one row's by DotRows with block boundaries at multiples of 4,
// as headTask sums them, so its logits are bit for bit the one-row head's.
// A recorded decode step reads its logit lens this way: the head's
// weights (154 MB in GPT-2 124M) stream from memory once, not twice.
type headLensTask struct {
	rows    headRowsTask
	out, in []float32
}

func (t *headLensTask) runRange(lo, hi int) {
	C := t.rows.C
	for v0 := lo; v0 < hi; v0 += headBlock {
		v1 := min(v0+headBlock, hi)
		t.rows.runRange(v0, v1)
		if t.rows.w.half() {
			gemv.DotRowsHalf(t.out[v0:v1], t.in, t.rows.w.h.From(v0*C), C)
		} else {
			gemv.DotRows(t.out[v0:v1], t.in, t.rows.w.f[v0*C:], C)
		}
	}
}

// headWithRows computes out = in @ wᵀ for one row in [C], out [V], by the
// one-row head's sums, and xout = x @ wᵀ for rows more, x [rows, C], xout
// [rows, V], in one pass over w. Where the multi-row kernel sums each row
// as the one-row kernel does (headRowsAgree: AVX2) and x and xout have
// room for one row more, in is copied there and computed as one of the
// rows (groups of three: 11 lens rows and the step's own make four, with
// no row computed twice), and its logits copied to out; otherwise the one
// row goes through the one-row kernel block by block (headLensTask).
// Either way out holds the one-row head's bits.
func (ws *workspace) headWithRows(out, in, xout, x []float32, w matrix, rows, C, V int) {
	if headRowsAgree() && cap(x) >= (rows+1)*C && cap(xout) >= (rows+1)*V {
		x, xout = x[:(rows+1)*C], xout[:(rows+1)*V]
		copy(x[rows*C:], in[:C])
		ws.headRows(xout, x, w, rows+1, C, V)
		copy(out[:V], xout[rows*V:])
		return
	}
	ws.dec.fused = headLensTask{
		rows: headRowsTask{out: xout[:rows*V], in: x[:rows*C], w: w, rows: rows, C: C, V: V},
		out:  out[:V], in: in[:C],
	}
	decodePool.run(&ws.dec.fused, V, headBlock, (rows+1)*C*V, &ws.dec.wait)
	ws.dec.fused = headLensTask{}
}

// allRowsHead computes out = in @ wᵀ for every row of in [rows, C], out
// [rows, V]: the last row by the one-row path (logitsHead), the others by
// headRows. The last row's logits are the ones sampled from, so a
// recorded pass, which needs every row, samples from exactly the logits
// that an unrecorded pass computes for its last row alone.
// Where the multi-row kernel sums as the one-row kernel does
// (headRowsAgree), every row goes through headRows, in one pass over w.
func (ws *workspace) allRowsHead(out, in []float32, w matrix, rows, C, V int) {
	if headRowsAgree() {
		ws.headRows(out, in, w, rows, C, V)
		return
	}
	if rows > 1 {
		ws.headRows(out, in, w, rows-1, C, V)
	}
	ws.logitsHead(out[(rows-1)*V:rows*V], in[(rows-1)*C:rows*C], w, 1, C, V)
}

// headAllWithRows computes out = in @ wᵀ for every row of in [rows, C], out
// [rows, V] (a recorded prefill's logits), and xout = x @ wᵀ for x [n, C],
// xout [n, V] (its logit lens rows), in one pass over w: each block of
// the head serves both while it is in cache. Only where headRowsAgree: the
// last row's logits are then the one-row head's bits, as allRowsHead's.
func (ws *workspace) headAllWithRows(out, in, xout, x []float32, w matrix, rows, n, C, V int) {
	ws.dec.rows = headRowsTask{
		out: out[:rows*V], in: in[:rows*C], out2: xout[:n*V], in2: x[:n*C],
		w: w, rows: rows, rows2: n, C: C, V: V,
	}
	decodePool.run(&ws.dec.rows, V, headBlock, (rows+n)*C*V, &ws.dec.wait)
	ws.dec.rows = headRowsTask{}
}

// headRowsAgree reports whether the head's multi-row kernel gives each row
// the one-row kernel's bits (gemv.RowsAgree).
func headRowsAgree() bool { return gemv.RowsAgree() }

// headBlock is how many vocabulary rows (of n_embd floats) a worker keeps
// in cache at a time: 64 × 768 floats is 192 KiB, within a core's L2.
const headBlock = 64

// headRowsTask computes out = in @ wᵀ for in [rows, C], out [rows, V],
// and, when rows2 > 0, out2 = in2 @ wᵀ for in2 [rows2, C], out2 [rows2, V]
// from the same blocks of w.
type headRowsTask struct {
	out, in, out2, in2 []float32
	w                  matrix
	rows, rows2, C, V  int
}

func (t *headRowsTask) runRange(lo, hi int) {
	for v0 := lo; v0 < hi; v0 += headBlock {
		v1 := min(v0+headBlock, hi)
		t.block(t.out, t.in, t.rows, v0, v1)
		if t.rows2 > 0 {
			t.block(t.out2, t.in2, t.rows2, v0, v1)
		}
	}
}

// block computes the vocabulary rows [v0, v1) of out = in @ wᵀ for the
// rows of in.
func (t *headRowsTask) block(out, in []float32, rows, v0, v1 int) {
	C, V := t.C, t.V
	if t.w.half() {
		gemv.DotRowsMultiHalf(out[v0:], V, in, C, rows, C, t.w.h.From(v0*C), C, v1-v0)
	} else {
		gemv.DotRowsMulti(out[v0:], V, in, C, rows, C, t.w.f[v0*C:], C, v1-v0)
	}
}

// gemvAccelerated reports whether the one-row kernels run in assembly.
func gemvAccelerated() bool { return gemv.Accelerated() }
