package model

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countTask counts how often each index of [0, len(hits)) is computed,
// sleeping now and then so that callers both poll and block.
type countTask struct {
	hits  []atomic.Int32
	sleep bool
}

func (t *countTask) runRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		t.hits[i].Add(1)
	}
	if t.sleep && lo%3 == 0 {
		time.Sleep(2 * spinFor) // longer than a caller polls: it must block and be woken
	}
}

// TestPoolConcurrentSubmitters: several goroutines submit runs to the one
// pool at once, each with its own poolWait reused across its runs; every
// index of every run is computed exactly once and every run returns (a
// lost wake-up would hang the test), whether the workers finish while the
// caller polls or after it has gone to sleep.
func TestPoolConcurrentSubmitters(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var w poolWait
			for run := range 60 {
				n := 1 + (g*7+run*13)%97
				task := &countTask{hits: make([]atomic.Int32, n), sleep: run%10 == 0}
				decodePool.run(task, n, 1+run%3, parallelMin, &w)
				for i := range task.hits {
					if c := task.hits[i].Load(); c != 1 {
						t.Errorf("submitter %d run %d: index %d computed %d times", g, run, i, c)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestPoolWaitHandOff drives one poolWait through both ways a run ends —
// the last part finishing while the caller polls, and after it has gone
// to sleep — many times in a row: wait never returns before the last
// finish, and every run leaves the state at zero with no token left in
// done (a stale token would end a later run early).
func TestPoolWaitHandOff(t *testing.T) {
	var w poolWait
	for run := range 40 {
		parts := 1 + run%3
		w.start(parts)
		var finished atomic.Int32
		for p := range parts {
			go func() {
				if run%2 == 1 && p == parts-1 {
					time.Sleep(2 * spinFor) // the caller is asleep by now
				}
				finished.Add(1)
				w.finish()
			}()
		}
		w.wait()
		if f := finished.Load(); f != int32(parts) {
			t.Fatalf("run %d: wait returned after %d of %d parts", run, f, parts)
		}
		if s, n := w.state.Load(), len(w.done); s != 0 || n != 0 {
			t.Fatalf("run %d: state %d and %d tokens left after wait", run, s, n)
		}
	}
}
