package model

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gptviz/gptviz/internal/vexp"
)

// This file holds the long-lived workers that split work across cores: a
// decode step's one-row products, and through parallelFor a prefill's. The
// pool starts its goroutines once and passes work as (task, range) values,
// so a decode step, whose tasks are structs kept in the workspace,
// allocates nothing (parallelFor's closures do allocate, once per call),
// and keeps them polling between parts (see spinFor), so a step's parts
// start within microseconds.

// rangeTask is work split over an index range: runRange computes
// [lo, hi). Implementations are pointers to structs kept in a workspace,
// so storing one in an interface allocates nothing.
type rangeTask interface{ runRange(lo, hi int) }

// poolJob is one part of a task, sent to a worker.
type poolJob struct {
	t      rangeTask
	lo, hi int
	w      *poolWait
}

// spinFor is how long an idle worker polls for its next part, and a
// caller for its workers to finish, before blocking. A decode step submits
// sixty-odd parts a few hundred microseconds apart. A thread that blocks
// lets its CPU go idle, and waking it again took 60–130 µs on the 2-core
// virtual machine this was measured on — more than a GPT-2 124M attention
// projection's whole part — so a worker that blocked between parts started
// every part late, its caller blocked waiting for it, and each part cost
// two wake-ups: 6 ms of a 21.6 ms step. Polling for 500 µs covers the gaps
// inside a step (the step then took 12.3 ms) and bounds what an idle
// process burns: after the last part of a run of work, a worker polls for
// at most this long and then blocks.
const spinFor = 500 * time.Microsecond

// poolWait is one caller's completion signal, reused across its runs (it
// lives in a workspace). state holds the count of parts still running on
// workers, plus sleepBit while the caller is asleep on done. The worker
// whose decrement leaves exactly sleepBit (no parts left, caller asleep)
// wakes the caller; because that decision is taken by the same atomic
// operation that ends the last part, a worker that is slow to return from
// finish cannot wake the caller's next run, and a caller that polled in
// time costs no wake-up.
type poolWait struct {
	state atomic.Int64
	done  chan struct{} // capacity 1
}

// sleepBit marks poolWait.state while the caller sleeps.
const sleepBit = 1 << 32

// start sets the count of parts the workers will run.
func (w *poolWait) start(parts int) {
	if w.done == nil {
		w.done = make(chan struct{}, 1)
	}
	w.state.Store(int64(parts))
}

// finish marks one part done; the worker that ran it calls it.
func (w *poolWait) finish() {
	if w.state.Add(-1) == sleepBit {
		w.done <- struct{}{}
	}
}

// wait returns when every part has finished: it polls for up to spinFor,
// then sleeps on done. If the last part ended before sleepBit was set,
// no worker will send, and wait takes the bit back itself.
func (w *poolWait) wait() {
	if spinUntil(func() bool { return w.state.Load() == 0 }) {
		return
	}
	if w.state.Add(sleepBit) == sleepBit {
		w.state.Add(-sleepBit)
		return
	}
	<-w.done
	w.state.Add(-sleepBit)
}

// spinUntil polls cond for up to spinFor and reports whether it came true.
// Every 256 polls it checks the clock and yields to any other goroutine
// waiting for this P (a worker needs one to finish what a poller waits
// for when GOMAXPROCS goroutines are polling at once).
func spinUntil(cond func() bool) bool {
	var start time.Time
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if i&255 != 0 {
			continue
		}
		if i == 0 {
			start = time.Now()
			continue
		}
		if time.Since(start) > spinFor {
			return false
		}
		runtime.Gosched()
	}
}

// workPool runs the parts of a task on GOMAXPROCS−1 worker goroutines and
// the caller. An idle worker polls for spinFor, then blocks on the jobs
// channel. Several goroutines may submit at once, each with its own
// poolWait.
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
		go p.work()
	}
}

// work is a worker's loop: take a part (polling, then blocking), run it,
// report it finished.
func (p *workPool) work() {
	for {
		var j poolJob
		if !spinUntil(func() bool {
			select {
			case j = <-p.jobs:
				return true
			default:
				return false
			}
		}) {
			j = <-p.jobs
		}
		j.t.runRange(j.lo, j.hi)
		j.w.finish()
	}
}

// workers returns how many parts run splits a task into at most.
func (p *workPool) workers() int {
	p.once.Do(p.start)
	return p.size
}

// run computes t over [0, n) in up to size parts whose boundaries are
// multiples of align (the last part ends at n), the first on the calling
// goroutine, and returns when all are done. w is the caller's, reused
// across calls (it lives in a workspace, so run allocates nothing); work
// estimates the multiply-adds: below parallelMin one part runs.
func (p *workPool) run(t rangeTask, n, align, work int, w *poolWait) {
	p.once.Do(p.start)
	chunk := (n + p.size - 1) / p.size
	chunk = (chunk + align - 1) / align * align
	if p.size == 1 || work < parallelMin || chunk >= n {
		t.runRange(0, n)
		return
	}
	w.start((n - 1) / chunk) // the parts after the first
	for lo := chunk; lo < n; lo += chunk {
		p.jobs <- poolJob{t: t, lo: lo, hi: min(lo+chunk, n), w: w}
	}
	t.runRange(0, chunk)
	w.wait()
}

// softmaxPar is a softmax and its entropy (the serial loops are
// softmaxTemp and entropyBits in the tests) with the exponentials on the
// pool and the divisions and logarithms in internal/vexp's four-lane
// kernels: each value is computed with the same operations as math.Exp,
// math.Log2 and /, and the sums still run in index order on the calling
// goroutine, so the results are the same bit for bit.
type softmaxPar struct {
	wait    poolWait
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
	decodePool.run(&s.t, n, 64, n*8, &s.wait)
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
