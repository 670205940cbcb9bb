package viz

import (
	"errors"
	"slices"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz/viztest"
)

// TestKVTimeData: the cache after each step is rebuilt from what the steps
// wrote: rows kept from earlier steps until a recompute rewrites the
// window, evicted positions out of it, rows past the recording bound not
// recorded, long runs bounded in steps and cells.
func TestKVTimeData(t *testing.T) {
	t.Parallel()
	type frameWant struct {
		step, window, written, end, evicted, rewrites int
		kind                                          trace.StepKind
		from                                          []int  // step whose kv_write each position 0..end-1 comes from; -1 none
		status                                        string // per position: K kept, W written, R rewritten, E evicted, N not recorded
	}
	for _, tc := range []struct {
		name   string
		o      viztest.Options
		frames []frameWant
	}{
		{"decode then recompute", viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 8, Prompt: 6, Steps: 4, Seed: 1}, []frameWant{
			{step: 0, kind: trace.Prefill, window: 0, written: 0, end: 6, from: []int{0, 0, 0, 0, 0, 0}, status: "WWWWWW"},
			{step: 1, kind: trace.Decode, window: 0, written: 6, end: 7, from: []int{0, 0, 0, 0, 0, 0, 1}, status: "KKKKKKW"},
			{step: 2, kind: trace.Decode, window: 0, written: 7, end: 8, from: []int{0, 0, 0, 0, 0, 0, 1, 2}, status: "KKKKKKKW"},
			{step: 3, kind: trace.Recompute, window: 1, written: 1, end: 9, evicted: 1, rewrites: 8,
				from: []int{-1, 3, 3, 3, 3, 3, 3, 3, 3}, status: "ERRRRRRRR"},
			{step: 4, kind: trace.Recompute, window: 2, written: 2, end: 10, evicted: 1, rewrites: 8,
				from: []int{-1, -1, 4, 4, 4, 4, 4, 4, 4, 4}, status: "EERRRRRRRR"},
		}},
		{"rows past the bound not recorded", viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 8, Prompt: 6, Steps: 1, KVRows: 3, Seed: 2}, []frameWant{
			{step: 0, kind: trace.Prefill, end: 6, from: []int{-1, -1, -1, 0, 0, 0}, status: "WWWWWW"},
			{step: 1, kind: trace.Decode, written: 6, end: 7, from: []int{-1, -1, -1, 0, 0, 0, 1}, status: "NNNKKKW"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := viztest.Trace(tc.o)
			d, err := newKVTimeData(tr)
			if err != nil {
				t.Fatal(err)
			}
			if d.layer != tc.o.NLayer-1 || d.head != 0 || d.rowStride != 1 || len(d.frames) != len(tc.frames) || d.steps != len(tr.Steps) {
				t.Fatalf("layer %d head %d stride %d, %d of %d frames; want layer %d head 0 stride 1, %d frames",
					d.layer, d.head, d.rowStride, len(d.frames), d.steps, tc.o.NLayer-1, len(tc.frames))
			}
			for i, w := range tc.frames {
				f := d.frames[i]
				if f.step != w.step || f.kind != w.kind || f.window != w.window || f.written != w.written || f.end != w.end || f.evictedHere != w.evicted || f.rewrites != w.rewrites {
					t.Errorf("frame %d: %+v, want %+v", i, f, w)
					continue
				}
				for p, s := range w.from {
					var want []float32
					if s >= 0 {
						kw := tr.Steps[s].KVWrite
						want = kw.Keys[p-kw.From]
					}
					ok := !f.known(p) // position p has no row
					if s >= 0 {
						ok = f.known(p) && slices.Equal(f.keys[p], want)
					}
					if got := f.keys[p]; !ok {
						t.Errorf("frame %d, position %d: key row %v, want step %d's %v", i, p, got, s, want)
					}
				}
				b := d.blocks(f)
				var got []byte
				for _, st := range b.status {
					got = append(got, "KWREN"[st])
				}
				if string(got) != w.status {
					t.Errorf("frame %d: status %s, want %s", i, got, w.status)
				}
			}
		})
	}
}

// TestKVTimeBounds: a long run with wide heads shows at most MaxKVFrames
// steps (the first and last among them) in at most MaxKVCells cells, and
// says so in Notes.
func TestKVTimeBounds(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 64, NPositions: 128, Prompt: 100, Steps: 120, Seed: 3})
	d, err := newKVTimeData(tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.frames) != MaxKVFrames || d.frames[0].step != 0 || d.frames[len(d.frames)-1].step != 120 {
		t.Errorf("%d frames from step %d to %d, want %d from 0 to 120", len(d.frames), d.frames[0].step, d.frames[len(d.frames)-1].step, MaxKVFrames)
	}
	cellsTotal := 0
	for _, f := range d.frames {
		b := d.blocks(f)
		cellsTotal += len(b.keys.cellsOf(3).V) + len(b.values.cellsOf(3).V)
	}
	if cellsTotal > MaxKVCells || d.rowStride < 2 {
		t.Errorf("%d cells at a stride of %d, want at most %d", cellsTotal, d.rowStride, MaxKVCells)
	}
	c, err := KVOverTime(tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Notes) != 2 {
		t.Errorf("notes %q, want one on the steps shown and one on the rows averaged", c.Notes)
	}
}

// TestKVTimeErrors: a trace without kv_write (recorded before it existed)
// is ErrNoData; steps that disagree on the focus are ErrInvalid.
func TestKVTimeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(tr *trace.Trace)
		want error
	}{
		{"old trace", func(tr *trace.Trace) {
			for i := range tr.Steps {
				tr.Steps[i].KVWrite = nil
			}
		}, ErrNoData},
		{"focus changes", func(tr *trace.Trace) { tr.Steps[2].KVWrite.Head = 1 }, ErrInvalid},
		{"rows outside the run", func(tr *trace.Trace) { tr.Steps[1].KVWrite.Start = 500 }, ErrInvalid},
		{"norms missing", func(tr *trace.Trace) { tr.Steps[1].KVWrite.KeyNorm = nil }, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := small()
			tc.edit(tr)
			if _, err := KVOverTime(tr); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// TestKVLayerData: cached positions per layer and step, and whether the
// layers agree.
func TestKVLayerData(t *testing.T) {
	t.Parallel()
	tr := small()
	d, err := newKVLayerData(tr)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{6, 7, 8, 8, 8}
	for l := 0; l < 2; l++ {
		for s, w := range want {
			if v, ok := d.m.at(l, s); !ok || v != w {
				t.Errorf("layer %d step %d: %v, want %v", l, s, v, w)
			}
		}
	}
	if !d.same || d.max != 8 {
		t.Errorf("same %v max %d, want true 8", d.same, d.max)
	}
	tr.Steps[2].KV.Positions[1] = 3
	if d, _ = newKVLayerData(tr); d.same {
		t.Error("layers differ at step 2, but same is true")
	}
	for i := range tr.Steps {
		tr.Steps[i].KV.Positions = nil
	}
	if _, err := KVLayerSizes(tr); !errors.Is(err, ErrNoData) {
		t.Errorf("no positions: error %v, want ErrNoData", err)
	}
}
