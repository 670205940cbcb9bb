package model

import (
	"runtime"
	"sync"
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
