package model

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
)

func TestRunTrace(t *testing.T) {
	t.Parallel()
	m := defaultModel(t) // n_positions 128
	c := m.Config
	const prompt = "The quick brown fox jumps over the lazy dog. The quick brown fox"
	ids := m.Tokenizer.Encode(prompt)
	steps := c.NPositions - len(ids) + 12 // the window fills and 12 tokens are evicted
	tr, err := Run(context.Background(), m, RunOptions{
		Prompt: prompt, Steps: steps, Seed: 3,
		Sampling: SamplingParams{Temperature: 0.8, TopK: 20, TopP: 0.9},
		Trace:    TraceOptions{TopN: 5}, Overflow: OverflowSlide,
	})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Version != trace.Version || tr.PromptLen != len(ids) || len(tr.Tokens) != len(ids)+steps || tr.Settings.Overflow != "slide" {
		t.Fatalf("version %d, prompt_len %d, %d tokens", tr.Version, tr.PromptLen, len(tr.Tokens))
	}
	for i, id := range ids {
		if tr.Tokens[i].ID != id || !tr.Tokens[i].Prompt {
			t.Fatalf("token %d = %+v, want prompt id %d", i, tr.Tokens[i], id)
		}
	}
	// Scores: the first token has no context; the others are P(w_i | w_<i).
	if len(tr.Scores) != tr.PromptLen || !tr.Scores[0].NoContext || tr.Scores[0].Prob != 0 {
		t.Fatalf("scores %d, first %+v", len(tr.Scores), tr.Scores[0])
	}
	scores, err := m.Score(ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range scores {
		got := tr.Scores[i+1]
		if d := got.Prob - s.Prob; d > 1e-6 || d < -1e-6 || len(got.Top) != 5 {
			t.Errorf("score %d: prob %g (top %d), Model.Score says %g", i+1, got.Prob, len(got.Top), s.Prob)
		}
	}
	if len(tr.Steps) != steps+1 || tr.Steps[0].Kind != trace.Prefill || tr.Steps[0].Next != nil {
		t.Fatalf("%d steps, first %q", len(tr.Steps), tr.Steps[0].Kind)
	}
	recomputes := 0
	for k, st := range tr.Steps {
		if len(st.Attention) != c.NLayer || len(st.ResidualNorm) != c.NLayer+1 || len(st.LogitLens) != c.NLayer {
			t.Fatalf("step %d: %d attention layers, %d norms, %d lens", k, len(st.Attention), len(st.ResidualNorm), len(st.LogitLens))
		}
		for _, la := range st.Attention {
			if len(la.Probs) != c.NHead || len(la.Probs[0]) != st.NQuery {
				t.Fatalf("step %d: attention %d heads × %d rows, want %d × %d", k, len(la.Probs), len(la.Probs[0]), c.NHead, st.NQuery)
			}
			if want := st.QueryStart + st.NQuery - st.WindowStart; len(la.Probs[0][st.NQuery-1]) != want {
				t.Fatalf("step %d: last row has %d keys, want %d", k, len(la.Probs[0][st.NQuery-1]), want)
			}
		}
		if k == 0 {
			continue
		}
		if st.NQuery != 1 || st.QueryStart != tr.PromptLen+k-1 || st.Next == nil {
			t.Fatalf("step %d: %+v", k, st)
		}
		if st.Kind == trace.Recompute {
			recomputes++
		}
		// The chosen token is the one written at this step's position.
		if st.Next.Chosen.ID != tr.Tokens[st.QueryStart].ID || st.Next.Position != st.QueryStart-1 {
			t.Fatalf("step %d: chose %d at %d, token there is %d", k, st.Next.Chosen.ID, st.Next.Position, tr.Tokens[st.QueryStart].ID)
		}
		if st.Next.Chosen.SampleProb <= 0 || len(st.Next.Filters) != 3 || st.Next.Filters[1].Kept != 20 {
			t.Fatalf("step %d: chosen %+v filters %+v", k, st.Next.Chosen, st.Next.Filters)
		}
		// Masses are on the tempered distribution that top-p compares with
		// P: the kept tokens hold at least P of what top-k kept.
		if f := st.Next.Filters; f[2].Mass < 0.9*f[1].Mass-1e-9 || f[2].Mass > f[1].Mass+1e-9 {
			t.Fatalf("step %d: top-p kept mass %g of top-k's %g, want ≥ 0.9 of it", k, f[2].Mass, f[1].Mass)
		}
		// The logit lens at the last layer is the model's own prediction.
		prev := tr.Steps[k-1]
		lens := prev.LogitLens[c.NLayer-1][prev.NQuery-1-prev.LensStart]
		if lens.ID != st.Next.Top[0].ID {
			t.Errorf("step %d: last-layer logit lens says %d, the prediction's top is %d", k, lens.ID, st.Next.Top[0].ID)
		}
		if n := st.KV.Positions[0]; n != st.QueryStart-st.WindowStart+1 || st.KV.Bytes != int64(2*c.NLayer*n*c.NEmbd*4) {
			t.Errorf("step %d: KV %+v", k, st.KV)
		}
	}
	wantEvicted := tr.PromptLen + steps - c.NPositions
	if len(tr.Evictions) != wantEvicted || recomputes != wantEvicted {
		t.Errorf("%d evictions and %d recomputes, want %d", len(tr.Evictions), recomputes, wantEvicted)
	}
	ch := tr.Checks
	if ch.MaxRowSumError > 1e-5 || ch.MaxCausalLeak != 0 || ch.CacheVsRecompute < 0 || ch.CacheVsRecompute > 1e-4 || !ch.ZeroTempIsGreedy {
		t.Errorf("checks %+v", ch)
	}
	if len(tr.Cache) != c.NLayer || len(tr.Cache[0].Keys[0]) != c.NPositions {
		t.Errorf("cache: %d layers, %d positions", len(tr.Cache), len(tr.Cache[0].Keys[0]))
	}

	// The Trace survives a JSON round trip.
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(tr); err != nil {
		t.Fatal(err)
	}
	var back trace.Trace
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Steps) != len(tr.Steps) || back.Tokens[5] != tr.Tokens[5] {
		t.Error("JSON round trip lost data")
	}
}

func TestRunReproducible(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	opts := RunOptions{Prompt: "你好，世界! 🙂", Steps: 10, Seed: 99, Sampling: SamplingParams{Temperature: 1.2, TopP: 0.95}}
	a, err := Run(context.Background(), m, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Tokens) != len(b.Tokens) || len(a.Tokens) != a.PromptLen+10 {
		t.Fatalf("identical runs gave %d and %d tokens, want %d", len(a.Tokens), len(b.Tokens), a.PromptLen+10)
	}
	for i := range a.Tokens {
		if a.Tokens[i] != b.Tokens[i] {
			t.Fatalf("token %d differs between identical runs", i)
		}
	}
}

func TestRunBounded(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	prompt := strings.Repeat("one two three four ", 10)
	n := len(m.Tokenizer.Encode(prompt))
	if n <= 2*16 || n > m.Config.NPositions {
		t.Fatalf("the prompt has %d tokens; the test needs 33..%d", n, m.Config.NPositions)
	}
	tr, err := Run(context.Background(), m, RunOptions{
		Prompt: prompt, Steps: 2, Sampling: SamplingParams{TopP: 1},
		Trace: TraceOptions{MaxAttention: 16, MaxQueries: 8, KVLayers: []int{1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := tr.Steps[0]
	if st.NQuery != 8 || st.QueryStart != tr.PromptLen-8 {
		t.Errorf("prefill recorded rows %d..+%d, want the last 8", st.QueryStart, st.NQuery)
	}
	// n keys in blocks of ⌈n/16⌉: ⌈n/stride⌉ ≤ 16 averages per row.
	stride := (n + 15) / 16
	la := st.Attention[0]
	if !la.Summarised || la.KeyStride != stride || len(la.Probs[0][0]) != (n+stride-1)/stride {
		t.Errorf("%d keys: attention summarised=%v stride=%d width=%d, want stride %d width %d",
			n, la.Summarised, la.KeyStride, len(la.Probs[0][0]), stride, (n+stride-1)/stride)
	}
	if len(tr.Notes) < 2 || len(tr.Cache) != 1 || tr.Cache[0].Layer != 1 {
		t.Errorf("notes %+v, cache layers %d", tr.Notes, len(tr.Cache))
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		ctx  context.Context
		opts RunOptions
		want string
	}{
		{context.Background(), RunOptions{Prompt: "x", Steps: -1, Sampling: SamplingParams{TopP: 1}}, "steps -1"},
		{context.Background(), RunOptions{Prompt: "x", Sampling: SamplingParams{TopP: 3}}, "top_p 3"},
		{ctx, RunOptions{Prompt: "x", Steps: 3, Sampling: SamplingParams{TopP: 1}}, "canceled"},
	} {
		_, err := Run(tc.ctx, m, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%+v): %v, want error containing %q", tc.opts, err, tc.want)
		}
	}
	// An empty prompt starts from <|endoftext|>.
	eot, ok := m.Tokenizer.EndOfText()
	if !ok {
		t.Fatal("the default model's tokenizer has no <|endoftext|>")
	}
	tr, err := Run(context.Background(), m, RunOptions{Steps: 1, Sampling: SamplingParams{TopP: 1}})
	if err != nil {
		t.Fatalf("empty prompt: %v", err)
	}
	if tr.PromptLen != 1 || tr.Tokens[0].ID != eot {
		t.Errorf("empty prompt: starts with %d tokens, the first id %d; want one, <|endoftext|> = %d", tr.PromptLen, tr.Tokens[0].ID, eot)
	}
}

// TestLensQueries: a prefill longer than LensQueries reads the lens out for
// its last LensQueries rows only, says so in a Note, and those rows equal
// the same rows of a run that reads every row out.
func TestLensQueries(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	prompt := strings.Repeat("In the beginning God created the heaven and the earth. ", 4)
	n := len(m.Tokenizer.Encode(prompt))
	run := func(lq int) *trace.Trace {
		tr, err := Run(context.Background(), m, RunOptions{Prompt: prompt, Steps: 2, Sampling: SamplingParams{TopP: 1}, Trace: TraceOptions{LensQueries: lq}})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	all, some := run(-1), run(5)
	for _, tc := range []struct {
		name  string
		tr    *trace.Trace
		start int
		note  bool
	}{{"every row", all, 0, false}, {"last 5", some, n - 5, true}} {
		pre := tc.tr.Steps[0]
		if pre.NQuery != n || pre.LensStart != tc.start || len(pre.LogitLens[0]) != n-tc.start {
			t.Errorf("%s: prefill of %d rows: lens_start %d, %d lens rows; want %d, %d", tc.name, pre.NQuery, pre.LensStart, len(pre.LogitLens[0]), tc.start, n-tc.start)
		}
		if d := tc.tr.Steps[1]; d.LensStart != 0 || len(d.LogitLens[0]) != 1 {
			t.Errorf("%s: decode step lens_start %d with %d rows, want 0 and 1", tc.name, d.LensStart, len(d.LogitLens[0]))
		}
		hasNote := slices.ContainsFunc(tc.tr.Notes, func(x trace.Note) bool {
			return x.Code == trace.NoteLensRows && slices.Equal(x.Args, []int{n, 5})
		})
		if hasNote != tc.note {
			t.Errorf("%s: lens-rows note %v, want %v (notes %+v)", tc.name, hasNote, tc.note, tc.tr.Notes)
		}
		if pre.LensMillis <= 0 || pre.LensMillis > pre.Millis {
			t.Errorf("%s: lens_ms %v of millis %v", tc.name, pre.LensMillis, pre.Millis)
		}
		if err := tc.tr.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// The same tokens; probabilities within float32 rounding, or equal
	// where the head's kernels sum a row alike however many rows go
	// through together (headRowsAgree).
	tol := 1e-5
	if headRowsAgree() {
		tol = 0
	}
	for l := range m.Config.NLayer {
		got, want := some.Steps[0].LogitLens[l], all.Steps[0].LogitLens[l][n-5:]
		for q := range got {
			if got[q].ID != want[q].ID || math.Abs(got[q].Prob-want[q].Prob) > tol {
				t.Errorf("layer %d row %d: %+v, want %+v", l, q, got[q], want[q])
			}
		}
	}
}

// TestEmptyPromptNote: an empty prompt starts from <|endoftext|> and the
// trace says so; a prompt with text has no such note.
func TestEmptyPromptNote(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	eot, _ := m.Tokenizer.EndOfText()
	for _, prompt := range []string{"", "The"} {
		tr, err := Run(context.Background(), m, RunOptions{Prompt: prompt, Steps: 1, Sampling: SamplingParams{TopP: 1}})
		if err != nil {
			t.Fatal(err)
		}
		noted := slices.ContainsFunc(tr.Notes, func(n trace.Note) bool { return n.Code == trace.NoteEmptyPrompt })
		if noted != (prompt == "") || prompt == "" && tr.Tokens[0].ID != eot {
			t.Errorf("prompt %q: note %v, first token %d (<|endoftext|> is %d)", prompt, noted, tr.Tokens[0].ID, eot)
		}
	}
}

// TestLensLastLayerIsOutput checks that the logit lens's last layer is the
// model's own output, bit for bit: ln_f and the head over the last block's
// output are the logits, so the lens reads them (lensFromLogits) rather
// than computing them again in another summation order. 42 prompt tokens
// put the last row where the multi-row head's order differs.
func TestLensLastLayerIsOutput(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	L := m.Config.NLayer
	ids := benchIDs(42, m.Config.VocabSize)
	tr := &trace.Trace{PromptLen: len(ids)}
	for _, id := range ids {
		tr.Tokens = append(tr.Tokens, trace.Token{ID: id})
	}
	s, err := NewSampler(SamplingParams{TopP: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(m, s, newTraceRecorder(m, tr, TraceOptions{LensQueries: -1}.withDefaults()))
	if err := r.Prefill(ids); err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 3; step++ {
		st := tr.Steps[len(tr.Steps)-1]
		lens := st.LogitLens[L-1]
		got := lens[len(lens)-1]
		id, p := topProb(r.LastLogits())
		if got.ID != id || got.Prob != p {
			t.Errorf("step %d: last layer's lens %d (p %v), output argmax %d (p %v)", step, got.ID, got.Prob, id, p)
		}
		if len(lens) != st.NQuery || len(st.LogitLens[0]) != st.NQuery {
			t.Errorf("step %d: %d and %d lens rows in the first and last layers, want %d", step, len(st.LogitLens[0]), len(lens), st.NQuery)
		}
		if _, err := r.Step(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRowStats checks the prompt scores' per-row statistics on the pool
// against softmaxSum and topIDs row by row.
func TestRowStats(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(4, 5))
	const rows, V, topN = 37, 1000, 7
	logits := make([]float32, rows*V)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	m, sum, top := make([]float64, rows), make([]float64, rows), make([]int32, rows*topN)
	var ws workspace
	ws.rowStats(m, sum, top, logits, rows, V, topN)
	for q := range rows {
		row := logits[q*V : (q+1)*V]
		wm, wsum := softmaxSum(row)
		wtop := topIDs(make([]int32, topN), row)
		if m[q] != wm || sum[q] != wsum || !slices.Equal(top[q*topN:(q+1)*topN], wtop) {
			t.Errorf("row %d: m %v sum %v top %v, want %v %v %v", q, m[q], sum[q], top[q*topN:(q+1)*topN], wm, wsum, wtop)
		}
	}
}
