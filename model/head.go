package model

// This file is the logit lens's read-out on the pool: every recorded
// residual row through ln_f and the output head (headRows, no transpose, no
// allocation per call), then each row's argmax and its softmax probability,
// rows split across the workers.

// lensTopTask computes topProb of rows [lo, hi) of logits [rows, V].
type lensTopTask struct {
	logits []float32
	V      int
	best   []int
	prob   []float64
}

func (t *lensTopTask) runRange(lo, hi int) {
	for q := lo; q < hi; q++ {
		t.best[q], t.prob[q] = topProb(t.logits[q*t.V : (q+1)*t.V])
	}
}

// lensTop fills best and prob, [rows], with the argmax of each row of
// logits [rows, V] and its probability (topProb), on the pool.
func (ws *workspace) lensTop(best []int, prob []float64, logits []float32, rows, V int) {
	ws.dec.top = lensTopTask{logits: logits[:rows*V], V: V, best: best[:rows], prob: prob[:rows]}
	decodePool.run(&ws.dec.top, rows, 1, rows*V*8, &ws.dec.wait)
	ws.dec.top = lensTopTask{}
}

// rowStatsTask computes softmaxSum and the top ids of rows [lo, hi) of
// logits [rows, V].
type rowStatsTask struct {
	logits  []float32
	V, topN int
	m, sum  []float64
	top     []int32
}

func (t *rowStatsTask) runRange(lo, hi int) {
	for q := lo; q < hi; q++ {
		row := t.logits[q*t.V : (q+1)*t.V]
		t.m[q], t.sum[q] = softmaxSum(row)
		topIDs(t.top[q*t.topN:(q+1)*t.topN], row)
	}
}

// rowStats fills m and sum, [rows], with softmaxSum of each row of logits
// [rows, V], and top, [rows, topN], with each row's topN ids, ranked (the
// prompt scores), rows split across the pool's workers.
func (ws *workspace) rowStats(m, sum []float64, top []int32, logits []float32, rows, V, topN int) {
	ws.dec.stats = rowStatsTask{logits: logits[:rows*V], V: V, topN: topN, m: m[:rows], sum: sum[:rows], top: top[:rows*topN]}
	decodePool.run(&ws.dec.stats, rows, 1, rows*V*8, &ws.dec.wait)
	ws.dec.stats = rowStatsTask{}
}
