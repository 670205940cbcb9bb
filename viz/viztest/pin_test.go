package viztest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz/viztest"
)

// shape describes a Trace's structure without its values: what a chart may
// index, and the step kinds, windows, evictions and notes that decide what
// it shows.
func shape(tr *trace.Trace) []string {
	c := tr.Model.Config
	out := []string{fmt.Sprintf("tokens %d prompt %d scores %d first-no-context %v", len(tr.Tokens), tr.PromptLen, len(tr.Scores), tr.Scores[0].NoContext)}
	for _, st := range tr.Steps {
		s := fmt.Sprintf("step %d %v query %d+%d window %d next %v kv %v %d", st.Index, st.Kind, st.QueryStart, st.NQuery,
			st.WindowStart, st.Next != nil, st.KV.Positions, st.KV.Bytes)
		for l, la := range st.Attention {
			s += fmt.Sprintf(" attn[%d] %dh %v/%d", l, len(la.Probs), la.Summarised, la.KeyStride)
			for _, rows := range la.Probs {
				var lens []string
				for _, r := range rows {
					lens = append(lens, fmt.Sprint(len(r)))
				}
				s += " [" + strings.Join(lens, ",") + "]"
			}
		}
		if w := st.KVWrite; w != nil {
			s += fmt.Sprintf(" kv_write %d+%d from %d l%d h%d %d×%d norms %d×%d", w.Start, w.N, w.From, w.Layer, w.Head, len(w.Keys), len(w.Keys[0]), len(w.KeyNorm), len(w.KeyNorm[0]))
		}
		s += fmt.Sprintf(" resid %d×%d lens %d×%d from %d", len(st.ResidualNorm), len(st.ResidualNorm[0]), len(st.LogitLens), len(st.LogitLens[0]), st.LensStart)
		out = append(out, s)
	}
	for _, e := range tr.Evictions {
		out = append(out, fmt.Sprintf("eviction step %d position %d", e.Step, e.Position))
	}
	for _, n := range tr.Notes {
		out = append(out, fmt.Sprintf("note %s %v", n.Code, n.Args))
	}
	for _, kv := range tr.Cache {
		if kv.Layer != 0 && kv.Layer != c.NLayer-1 {
			continue // the synthetic trace keeps the first and last layer
		}
		out = append(out, fmt.Sprintf("cache layer %d window %d %d×%d×%d", kv.Layer, kv.WindowStart, len(kv.Keys), len(kv.Keys[0]), len(kv.Keys[0][0])))
	}
	return out
}

// TestSyntheticMatchesRecorder pins the synthetic fixture to the recorder: a
// real run on the embedded model whose window overflows (so it has
// recompute steps and evictions) and whose prompt and attention rows exceed
// the recording bounds, and a synthetic trace with the same options, must
// have the same structure step by step.
func TestSyntheticMatchesRecorder(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	// Common words, each one token and a word of its own, so that the
	// prompt re-encodes to the same ids.
	var words []int
	for _, w := range []string{" the", " of", " and", " to", " in", " that", " is", " it"} {
		e := m.Tokenizer.Encode(w)
		if len(e) != 1 {
			t.Fatalf("%q is %d tokens in the default model's vocabulary, want one", w, len(e))
		}
		words = append(words, e[0])
	}
	ids := make([]int, c.NPositions-3)
	for i := range ids {
		ids[i] = words[(i+i/len(words))%len(words)]
	}
	const steps, maxAttn, maxQ, kvRows, lensQ = 7, 40, 20, 30, 16
	prompt := string(m.Tokenizer.Decode(ids))
	if got := len(m.Tokenizer.Encode(prompt)); got != len(ids) {
		t.Fatalf("prompt re-encodes to %d tokens, want %d", got, len(ids))
	}
	real, err := model.Run(context.Background(), m, model.RunOptions{
		Prompt: prompt, Steps: steps, Sampling: model.SamplingParams{Temperature: 0, TopP: 1},
		Overflow: model.OverflowSlide, // the policy the synthetic trace follows
		Trace:    model.TraceOptions{MaxAttention: maxAttn, MaxQueries: maxQ, KVRows: kvRows, LensQueries: lensQ},
	})
	if err != nil {
		t.Fatal(err)
	}
	synth := viztest.Trace(viztest.Options{
		NLayer: c.NLayer, NHead: c.NHead, DHead: c.DHead(), NPositions: c.NPositions,
		Prompt: len(ids), Steps: steps, MaxAttention: maxAttn, MaxQueries: maxQ, KVRows: kvRows, LensQueries: lensQ,
	})
	if err := synth.Validate(); err != nil {
		t.Fatalf("synthetic trace does not validate: %v", err)
	}
	got, want := shape(synth), shape(real)
	if !slices.Equal(got, want) {
		for i := range max(len(got), len(want)) {
			g, w := "(none)", "(none)"
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("synthetic: %s\nrecorded:  %s", g, w)
			}
		}
	}
}
