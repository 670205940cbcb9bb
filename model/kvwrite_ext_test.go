package model_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

// runDefault records a greedy run of the embedded model over ids, evicting
// one token per step when the window fills (OverflowSlide: every later step
// recomputes the window).
func runDefault(t *testing.T, m *model.Model, ids []int, steps int, o model.TraceOptions) *trace.Trace {
	t.Helper()
	prompt := string(m.Tokenizer.Decode(ids))
	if got := len(m.Tokenizer.Encode(prompt)); got != len(ids) {
		t.Fatalf("prompt re-encodes to %d tokens, want %d", got, len(ids))
	}
	tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: prompt, Steps: steps, Sampling: model.SamplingParams{TopP: 1}, Trace: o, Overflow: model.OverflowSlide})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Validate(); err != nil {
		t.Fatalf("recorded trace does not validate: %v", err)
	}
	return tr
}

// promptIDs is n token ids the tokenizer decodes and re-encodes unchanged:
// common words, each one token and a word of its own (" the of and …").
func promptIDs(t *testing.T, m *model.Model, n int) []int {
	t.Helper()
	var words []int
	for _, w := range []string{" the", " of", " and", " to", " in", " that", " is", " it"} {
		ids := m.Tokenizer.Encode(w)
		if len(ids) != 1 {
			t.Fatalf("%q is %d tokens in the default model's vocabulary, want one", w, len(ids))
		}
		words = append(words, ids[0])
	}
	ids := make([]int, n)
	for i := range ids {
		ids[i] = words[(i+i/len(words))%len(words)]
	}
	return ids
}

// cacheLayer returns the final cache of layer l.
func cacheLayer(t *testing.T, tr *trace.Trace, l int) trace.LayerKV {
	t.Helper()
	for _, kv := range tr.Cache {
		if kv.Layer == l {
			return kv
		}
	}
	t.Fatalf("layer %d's cache not recorded", l)
	return trace.LayerKV{}
}

// lastRewrite is, for each step, the index of the last step at or after
// it that rewrote the whole window (prefill or recompute), or -1.
func lastRewrite(tr *trace.Trace) int {
	last := -1
	for i, st := range tr.Steps {
		if st.Kind != trace.Decode {
			last = i
		}
	}
	return last
}

// norm is the L2 norm over every head of the cached row p of kv.
func norm(x [][][]float32, p int) float64 {
	var s float64
	for _, rows := range x {
		for _, v := range rows[p] {
			s += float64(v) * float64(v)
		}
	}
	return math.Sqrt(s)
}

// checkAgainstCache checks every step's KVWrite since the last rewrite of
// the window: the focus rows equal the final cache's rows of those
// positions bit for bit, and every layer's norms are the norms of the
// final cache's rows (over all heads).
func checkAgainstCache(t *testing.T, tr *trace.Trace) (rows int) {
	t.Helper()
	for si := max(lastRewrite(tr), 0); si < len(tr.Steps); si++ {
		st := tr.Steps[si]
		w := st.KVWrite
		if w == nil {
			t.Fatalf("step %d: no kv_write", st.Index)
		}
		kv := cacheLayer(t, tr, w.Layer)
		for i := range w.Keys {
			p := w.From + i - kv.WindowStart
			if !slices.Equal(w.Keys[i], kv.Keys[w.Head][p]) || !slices.Equal(w.Values[i], kv.Values[w.Head][p]) {
				t.Errorf("step %d, position %d: recorded key/value row differs from the final cache", st.Index, w.From+i)
			}
			rows++
		}
		for l := range w.KeyNorm {
			c := cacheLayer(t, tr, l)
			for i := 0; i < w.N; i++ {
				p := w.Start + i - c.WindowStart
				if dk, dv := math.Abs(float64(w.KeyNorm[l][i])-norm(c.Keys, p)), math.Abs(float64(w.ValueNorm[l][i])-norm(c.Values, p)); dk > 1e-4*norm(c.Keys, p) || dv > 1e-4*norm(c.Values, p)+1e-6 {
					t.Errorf("step %d, layer %d, position %d: norms %v, %v, want the cache's %v, %v", st.Index, l, w.Start+i, w.KeyNorm[l][i], w.ValueNorm[l][i], norm(c.Keys, p), norm(c.Values, p))
				}
			}
		}
	}
	return rows
}

// TestKVWriteEqualsFinalCache: without evictions, every step's recorded
// rows (the prompt's on the prefill, the new token's on each decode step)
// are the final cache's rows of those positions, for the default focus
// (last layer, head 0) and for a chosen one.
func TestKVWriteEqualsFinalCache(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	for _, tc := range []struct {
		name  string
		focus *model.LayerHead
		want  model.LayerHead
	}{
		{"default focus", nil, model.LayerHead{Layer: c.NLayer - 1}},
		{"layer 1 head 2", &model.LayerHead{Layer: 1, Head: 2}, model.LayerHead{Layer: 1, Head: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const prompt, steps = 12, 6
			tr := runDefault(t, m, promptIDs(t, m, prompt), steps, model.TraceOptions{KVFocus: tc.focus})
			for _, st := range tr.Steps {
				w := st.KVWrite
				if w.Layer != tc.want.Layer || w.Head != tc.want.Head {
					t.Fatalf("step %d: focus layer %d head %d, want %+v", st.Index, w.Layer, w.Head, tc.want)
				}
				wantN := 1
				if st.Kind == trace.Prefill {
					wantN = prompt
				}
				if w.N != wantN || w.From != w.Start || len(w.Keys) != wantN || len(w.KeyNorm) != c.NLayer {
					t.Errorf("step %d (%v): start %d n %d from %d, %d rows, %d norm layers; want %d rows in full", st.Index, st.Kind, w.Start, w.N, w.From, len(w.Keys), len(w.KeyNorm), wantN)
				}
			}
			if got := checkAgainstCache(t, tr); got != prompt+steps {
				t.Errorf("compared %d rows, want %d", got, prompt+steps)
			}
		})
	}
}

// TestKVWriteRecordsRecompute: a run past the context window records each
// recompute step as a rewrite of the whole window (start = window start, n
// = n_positions), whose rows differ from those the earlier steps wrote for
// the same positions; the last recompute's rows equal the final cache; and
// with KVRows below the window only the last KVRows rows are kept in full,
// with a Note.
func TestKVWriteRecordsRecompute(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := m.Config.NPositions
	const steps, kvRows = 5, 20
	tr := runDefault(t, m, promptIDs(t, m, n-2), steps, model.TraceOptions{KVRows: kvRows})
	if len(tr.Evictions) == 0 {
		t.Fatal("no evictions: the test needs a run past the window")
	}
	recomputes, rewritten := 0, 0
	for i, st := range tr.Steps {
		w := st.KVWrite
		if st.Kind != trace.Recompute {
			continue
		}
		recomputes++
		if w.Start != st.WindowStart || w.N != n || w.From != w.Start+n-kvRows || len(w.Keys) != kvRows {
			t.Errorf("recompute step %d: start %d n %d from %d rows %d; want start %d n %d from %d", st.Index, w.Start, w.N, w.From, len(w.Keys), st.WindowStart, n, w.Start+n-kvRows)
		}
		// The previous step wrote (or kept) the same position with other
		// numbers: the key of the second-newest position was rewritten.
		prev := tr.Steps[i-1].KVWrite
		p := w.Start + w.N - 2
		if pi := p - prev.From; pi >= 0 && pi < len(prev.Keys) {
			rewritten++
			if slices.Equal(prev.Keys[pi], w.Keys[p-w.From]) {
				t.Errorf("recompute step %d: the row of position %d is unchanged since step %d", st.Index, p, st.Index-1)
			}
		}
	}
	if recomputes != 3 || rewritten != recomputes {
		t.Errorf("%d recompute steps (%d compared with the step before), want 3 (window %d, prompt %d, %d steps)", recomputes, rewritten, n, n-2, steps)
	}
	if got := checkAgainstCache(t, tr); got != kvRows {
		t.Errorf("compared %d rows with the final cache, want %d", got, kvRows)
	}
	var note *trace.Note
	for i := range tr.Notes {
		if tr.Notes[i].Code == trace.NoteKVRows {
			note = &tr.Notes[i]
		}
	}
	if note == nil || !slices.Equal(note.Args, []int{kvRows, m.Config.NLayer - 1, 0}) {
		t.Errorf("kv-rows note %+v, want args [%d %d 0]", note, kvRows, m.Config.NLayer-1)
	}
}

// TestKVFocusOutsideModel: a focus outside the model is a *ParamError, not
// a panic.
func TestKVFocusOutsideModel(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []model.LayerHead{{Layer: m.Config.NLayer}, {Head: -1}, {Head: m.Config.NHead}} {
		_, err := model.Run(context.Background(), m, model.RunOptions{Prompt: "a b", Steps: 1, Sampling: model.SamplingParams{TopP: 1}, Trace: model.TraceOptions{KVFocus: &f}})
		var pe *model.ParamError
		if !errors.As(err, &pe) || pe.Param != "kv_focus" {
			t.Errorf("focus %+v: error %v, want a *ParamError for kv_focus", f, err)
		}
	}
}
