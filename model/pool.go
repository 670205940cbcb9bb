package model

import (
	"runtime"
	"sync"

	"github.com/gptviz/gptviz/internal/vexp"
)

// This file holds the long-lived workers that split a decode step's
// one-row products across cores. parallelFor starts goroutines and
// allocates a closure per call, which is cheap next to a prefill's matrix
// products but not next to a decode step's sixty-odd small ones; the pool
// starts its goroutines once and passes work as (task, range) values, so a
// decode step allocates nothing.

// rangeTask is work split over an index range: runRange computes
// [lo, hi). Implementations are pointers to structs kept in a workspace,
// so storing one in an interface allocates nothing.
type rangeTask interface{ runRange(lo, hi int) }

// poolJob is one part of a task, sent to a worker.
type poolJob struct {
	t      rangeTask
	lo, hi int
	wg     *sync.WaitGroup
}

// workPool runs the parts of a task on GOMAXPROCS−1 worker goroutines and
// the caller. Workers block on a channel while idle (no spinning: the
// machine may be shared). Several goroutines may submit at once.
type workPool struct {
	once sync.Once
	size int // parts per task, GOMAXPROCS at first use
	jobs chan poolJob
}

// decodePool is the process's one pool.
var decodePool workPool

func (p *workPool) start() {
	p.size = max(1, runtime.GOMAXPROCS(0))
	p.jobs = make(chan poolJob, 4*p.size)
	for range p.size - 1 {
		go func() {
			for j := range p.jobs {
				j.t.runRange(j.lo, j.hi)
				j.wg.Done()
			}
		}()
	}
}

// run computes t over [0, n) in up to size parts whose boundaries are
// multiples of align (the last part ends at n), the first on the calling
// goroutine, and returns when all are done. wg is the caller's, reused
// across calls (it lives in a workspace, so run allocates nothing); work
// estimates the multiply-adds: below parallelMin one part runs.
func (p *workPool) run(t rangeTask, n, align, work int, wg *sync.WaitGroup) {
	p.once.Do(p.start)
	chunk := (n + p.size - 1) / p.size
	chunk = (chunk + align - 1) / align * align
	if p.size == 1 || work < parallelMin || chunk >= n {
		t.runRange(0, n)
		return
	}
	for lo := chunk; lo < n; lo += chunk {
		wg.Add(1)
		p.jobs <- poolJob{t: t, lo: lo, hi: min(lo+chunk, n), wg: wg}
	}
	t.runRange(0, chunk)
	wg.Wait()
}

// softmaxPar is a softmax and its entropy (the serial loops are
// softmaxTemp and entropyBits in the tests) with the exponentials on the
// pool and the divisions and logarithms in internal/vexp's four-lane
// kernels: each value is computed with the same operations as math.Exp,
// math.Log2 and /, and the sums still run in index order on the calling
// goroutine, so the results are the same bit for bit.
type softmaxPar struct {
	wg      sync.WaitGroup
	t       softmaxPass
	scratch []float64
}

// softmaxPass is the exponential pass over [lo, hi) of out.
type softmaxPass struct {
	out    []float64
	logits []float32
	m, d   float64 // the max and the temperature
}

func (t *softmaxPass) runRange(lo, hi int) {
	vexp.ExpShifted(t.out[lo:hi], t.logits[lo:hi], t.m, t.d)
}

// maxLogit returns the largest of logits (finite, not empty) as float64.
// A −0 and +0 may come back as either: both give the same exp(l − m).
func maxLogit(logits []float32) float64 {
	m := logits[0]
	for _, l := range logits {
		if l > m {
			m = l
		}
	}
	return float64(m)
}

// softmax writes softmax(logits / temp) into out, given m, the largest
// logit, and returns the normaliser Σ exp((l − m) / temp), summed in index
// order.
func (s *softmaxPar) softmax(out []float64, logits []float32, m, temp float64) (sum float64) {
	n := len(logits)
	out = out[:n]
	s.t = softmaxPass{out: out, logits: logits, m: m, d: temp}
	decodePool.run(&s.t, n, 64, n*8, &s.wg)
	s.t = softmaxPass{}
	for _, e := range out {
		sum += e
	}
	vexp.Div(out, sum)
	return sum
}

// entropy returns −Σ p·log2 p over p, summed in index order.
func (s *softmaxPar) entropy(p []float64) float64 {
	s.scratch = resize(s.scratch, len(p))
	lg := s.scratch
	vexp.Log2(lg, p)
	var h float64
	for i, q := range p {
		if q > 0 {
			h -= q * lg[i]
		}
	}
	return h
}
