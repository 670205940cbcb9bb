package findings_test

import (
	"math"
	"slices"
	"testing"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz/viztest"
)

// pattern gives one attention row: the query's key index qk in a window of
// nk keys (the row's length), for the query at absolute position j.
type pattern func(tr *trace.Trace, ws, j, qk, nk int) []float32

// onKey puts all attention on the key at index f(qk).
func onKey(f func(qk int) int) pattern {
	return func(_ *trace.Trace, _, _, qk, nk int) []float32 {
		row := make([]float32, nk)
		row[max(0, f(qk))] = 1
		return row
	}
}

var (
	prevPat  = onKey(func(qk int) int { return qk - 1 })
	firstPat = onKey(func(int) int { return 0 })
	selfPat  = onKey(func(qk int) int { return qk })
)

// evenPat spreads attention evenly over the visible keys.
func evenPat(_ *trace.Trace, _, _, qk, nk int) []float32 {
	row := make([]float32, nk)
	for k := 0; k <= qk; k++ {
		row[k] = 1 / float32(qk+1)
	}
	return row
}

// inductionPat reads the token after each earlier copy of the current
// bigram, evenly; the previous token where there is none.
func inductionPat(tr *trace.Trace, ws, j, qk, nk int) []float32 {
	row := make([]float32, nk)
	var targets []int
	for i := max(ws, 1); i+1 <= j-2; i++ {
		if tr.Tokens[i].ID == tr.Tokens[j].ID && tr.Tokens[i-1].ID == tr.Tokens[j-1].ID {
			targets = append(targets, i+1-ws)
		}
	}
	if len(targets) == 0 {
		row[max(qk-1, 0)] = 1
		return row
	}
	for _, t := range targets {
		row[t] = 1 / float32(len(targets))
	}
	return row
}

// setHead replaces every recorded row of layer l, head h by pat, keeping
// the recorded row lengths.
func setHead(tr *trace.Trace, l, h int, pat pattern) {
	for si := range tr.Steps {
		st := &tr.Steps[si]
		rows := st.Attention[l].Probs[h]
		for q := range rows {
			j := st.QueryStart + q
			rows[q] = pat(tr, st.WindowStart, j, j-st.WindowStart, len(rows[q]))
		}
	}
}

// run is a one-layer, one-head trace of a 12-token prompt that repeats a
// sequence of 4 tokens, and 3 decode steps.
func run(pat pattern) *trace.Trace {
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, Prompt: 12, Steps: 3, Seed: 3, Words: []string{"a", "b", "c", "d"}})
	setHead(tr, 0, 0, pat)
	return tr
}

func roles(hs []findings.HeadRole) []findings.Role {
	var out []findings.Role
	for _, h := range hs {
		out = append(out, h.Role)
	}
	return out
}

// TestHeadRoles: each role is found on a head that has it, with its score,
// and on no other.
func TestHeadRoles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		pat   pattern
		want  []findings.Role
		score float64 // of want[0]
	}{
		{"previous token", prevPat, []findings.Role{findings.PreviousToken}, 1},
		{"first token", firstPat, []findings.Role{findings.FirstToken}, 1},
		{"self", selfPat, []findings.Role{findings.SelfToken}, 1},
		{"induction", inductionPat, []findings.Role{findings.Induction}, 1},
		{"even spread", evenPat, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := findings.HeadRoles(run(tc.pat))
			if !slices.Equal(roles(got), tc.want) {
				t.Fatalf("roles %v, want %v (%+v)", roles(got), tc.want, got)
			}
			if len(got) > 0 {
				h := got[0]
				if h.Layer != 0 || h.Head != 0 || math.Abs(h.Score-tc.score) > 1e-6 || h.Rows < findings.MinRows || h.Baseline <= 0 || h.Baseline >= h.Score {
					t.Errorf("%+v: want head 0.0 with score %v over ≥ %d rows above its baseline", h, tc.score, findings.MinRows)
				}
			}
		})
	}
}

// TestHeadRolesNeedLongRows: a 4-token prompt's rows see fewer than
// MinKeys keys, where any head looks like a previous-token head by chance:
// no role holds.
func TestHeadRolesNeedLongRows(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, Prompt: 3, Steps: 1, Seed: 3})
	setHead(tr, 0, 0, prevPat)
	if got := findings.HeadRoles(tr); len(got) != 0 {
		t.Errorf("roles %+v on rows of at most 4 keys", got)
	}
	if _, ok := findings.Strongest(findings.Heads(tr)); ok {
		t.Error("Strongest found a head without rows")
	}
}

// TestHeadRolesBelowThreshold: a head that gives the previous token a bit
// less than RoleThreshold plays no role, and Strongest names it with its
// score.
func TestHeadRolesBelowThreshold(t *testing.T) {
	t.Parallel()
	share := float32(findings.RoleThreshold - 0.05)
	tr := run(func(_ *trace.Trace, _, _, qk, nk int) []float32 {
		row := make([]float32, nk)
		if qk < 2 {
			row[qk] = 1
			return row
		}
		row[qk-1] = share
		for k := 0; k < qk-1; k++ {
			row[k] = (1 - share - 0.01) / float32(qk-1)
		}
		row[qk] = 0.01
		return row
	})
	if got := findings.HeadRoles(tr); len(got) != 0 {
		t.Errorf("roles %+v below the threshold", got)
	}
	best, ok := findings.Strongest(findings.Heads(tr))
	if !ok || best.Role != findings.PreviousToken || math.Abs(best.Score-float64(share)) > 1e-6 || best.Holds() {
		t.Errorf("Strongest = %+v, %v: want the previous-token score %v, not holding", best, ok, share)
	}
}

// TestDistance: how far back a head reads.
func TestDistance(t *testing.T) {
	t.Parallel()
	// Rows of 5..15 keys (prompt positions 4..11, then 3 decode steps).
	qks := []int{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	mean := 0.0
	for _, qk := range qks {
		mean += float64(qk)
	}
	mean /= float64(len(qks))
	for _, tc := range []struct {
		name     string
		pat      pattern
		beyond   float64
		mean     float64
		farthest int
	}{
		{"previous token", prevPat, 0, 1, 1},
		{"self", selfPat, 0, 0, 0},
		{"first token", firstPat, 1, mean, 14},
	} {
		d := findings.Heads(run(tc.pat))[0].Distance
		if d.Rows != len(qks) || math.Abs(d.Beyond-tc.beyond) > 1e-6 || math.Abs(d.Mean-tc.mean) > 1e-6 || d.Farthest != tc.farthest {
			t.Errorf("%s: %+v, want %d rows, beyond %v, mean %v, farthest %d", tc.name, d, len(qks), tc.beyond, tc.mean, tc.farthest)
		}
	}
}

// TestDistanceBlockAveraged: rows stored as block averages count for the
// distances (each block at its middle key), not for the roles.
func TestDistanceBlockAveraged(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, Prompt: 16, Steps: 0, MaxAttention: 4, Seed: 3})
	la := &tr.Steps[0].Attention[0]
	if !la.Summarised || la.KeyStride != 4 {
		t.Fatalf("attention not block-averaged: %v/%d", la.Summarised, la.KeyStride)
	}
	for q := range la.Probs[0] {
		row := make([]float32, 16)
		row[0] = 1 // the first token
		la.Probs[0][q] = trace.BlockAverage(row, 4)
	}
	s := findings.Heads(tr)[0]
	if s.Rows != 0 || len(s.Roles()) != 0 {
		t.Errorf("roles counted on block averages: %+v", s)
	}
	// Queries 4..15; block 0 (keys 0..3) sits at key 1.
	want := 0.0
	for qk := 4; qk <= 15; qk++ {
		want += float64(qk - 1)
	}
	want /= 12
	if d := s.Distance; d.Rows != 12 || math.Abs(d.Mean-want) > 1e-6 || d.Farthest != 14 || d.Beyond < 0.5 {
		t.Errorf("distance %+v, want 12 rows, mean %v, farthest 14", d, want)
	}
}

func TestHeadsWithoutAttention(t *testing.T) {
	t.Parallel()
	tr := run(prevPat)
	for i := range tr.Steps {
		tr.Steps[i].Attention = nil
	}
	if hs := findings.Heads(tr); hs != nil {
		t.Errorf("Heads = %+v without attention", hs)
	}
	if _, ok := findings.FarthestReader(nil); ok {
		t.Error("FarthestReader of no heads")
	}
	if _, ok := findings.MeanBeyond(nil); ok {
		t.Error("MeanBeyond of no heads")
	}
}

// lensTrace is a 3-layer trace whose logit lens reads ids[l] at every
// recorded position.
func lensTrace(ids ...int) *trace.Trace {
	tr := viztest.Trace(viztest.Options{NLayer: len(ids), NHead: 1, Prompt: 4, Steps: 2, Seed: 3})
	for si := range tr.Steps {
		for l := range tr.Steps[si].LogitLens {
			for q := range tr.Steps[si].LogitLens[l] {
				tr.Steps[si].LogitLens[l][q] = trace.LensEntry{ID: ids[l], Display: "x", Prob: 0.5}
			}
		}
	}
	return tr
}

func TestLogitLens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ids         []int
		layer       int
		early, late int
	}{
		{[]int{7, 7, 7}, 0, 6, 0},
		{[]int{5, 7, 7}, 1, 0, 0},
		{[]int{7, 5, 7}, 2, 0, 6}, // agreeing at layer 0 does not count: it changed after
		{[]int{1, 2, 3}, 2, 0, 6},
	} {
		l, ok := findings.LogitLens(lensTrace(tc.ids...))
		if !ok || len(l.Positions) != 6 || l.Median != tc.layer || l.Early != tc.early || l.Late != tc.late || l.NLayer != 3 {
			t.Errorf("%v: %+v, %v; want 6 positions settling at layer %d", tc.ids, l, ok, tc.layer)
			continue
		}
		if last := l.Last(); last.Position != 5 || last.Step != 2 || last.Top.ID != tc.ids[2] || last.Layer != tc.layer {
			t.Errorf("%v: last %+v", tc.ids, last)
		}
	}
	tr := lensTrace(1, 2, 3)
	for i := range tr.Steps {
		tr.Steps[i].LogitLens = nil
	}
	if l, ok := findings.LogitLens(tr); ok {
		t.Errorf("lens %+v without a recorded lens", l)
	}
	if l, ok := findings.LogitLens(lensTrace(4)); ok {
		t.Errorf("lens %+v of one layer", l)
	}
}

// scored is a trace of a prompt whose scored tokens have the surprisals
// given (bits), with vocab_size v.
func scored(v int, bits ...float64) *trace.Trace {
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, Prompt: len(bits) + 1, Steps: 0, Seed: 3, Words: []string{"a", "b"}})
	tr.Model.Config.VocabSize = v
	for i, b := range bits {
		tr.Scores[i+1].Surprisal, tr.Scores[i+1].Prob = b, math.Exp2(-b)
	}
	return tr
}

func TestPromptPerplexity(t *testing.T) {
	t.Parallel()
	p, ok := findings.PromptPerplexity(scored(384, 2, 4, 6))
	if !ok || p.Scored != 3 || p.MeanSurprisal != 4 || p.Value != 16 || p.WorseThanUniform || math.Abs(p.UniformBits-math.Log2(384)) > 1e-12 {
		t.Errorf("%+v", p)
	}
	// The report once said "as unsure as choosing among 1.767e+10 tokens"
	// with a 384-token vocabulary: a perplexity above vocab_size is worse
	// than a uniform guess.
	p, ok = findings.PromptPerplexity(scored(384, 34, 34.1, 34.2))
	if !ok || !p.WorseThanUniform || p.Value < 1e10 {
		t.Errorf("%+v: want worse than uniform", p)
	}
	if _, ok := findings.PromptPerplexity(scored(384)); ok {
		t.Error("perplexity of a one-token prompt")
	}
}

func TestMostSurprising(t *testing.T) {
	t.Parallel()
	s, ok := findings.MostSurprising(scored(384, 2, 9, 1, 9))
	if !ok || s.Position != 2 || s.Index != 2 || s.Surprisal != 9 || s.Prob != math.Exp2(-9) || s.MeanSurprisal != 5.25 || s.Scored != 4 {
		t.Errorf("%+v", s)
	}
	if s, ok := findings.MostSurprising(scored(384, 3)); ok {
		t.Errorf("%+v: a most surprising token of one", s)
	}
}

func TestOutOfDistribution(t *testing.T) {
	t.Parallel()
	bytesOf := func(tr *trace.Trace, n int, roundTrip bool) *trace.Trace {
		for i := range n {
			tr.Tokens[i].Text, tr.Tokens[i].Display = "\xe4", "<e4>"
			if roundTrip {
				tr.Tokens[i].Text = "\ufffd"
			}
		}
		return tr
	}
	for _, tc := range []struct {
		name                string
		tr                  *trace.Trace
		bytes, surprisal    bool
		byteTokens, tokens  int
		medianProbBelow1e10 bool
	}{
		{"english", scored(384, 3, 5, 4, 6), false, false, 0, 5, false},
		{"all bytes, worse than uniform", bytesOf(scored(384, 36, 37, 35, 36), 5, false), true, true, 5, 5, true},
		{"bytes after a JSON round trip", bytesOf(scored(50257, 5, 6, 7, 8), 5, true), true, false, 5, 5, false},
		{"a few bytes", bytesOf(scored(384, 3, 5, 4, 6), 2, false), false, false, 2, 5, false},
		{"worse than uniform", scored(384, 9, 10, 9, 10), false, true, 0, 5, false},
		{"worse than uniform, too few tokens", scored(384, 40, 40), false, false, 0, 3, true},
		{"a real U+FFFD is text", func() *trace.Trace {
			tr := scored(384, 3, 5, 4, 6)
			for i := range tr.Tokens {
				tr.Tokens[i].Text, tr.Tokens[i].Display = "\ufffd", "\ufffd"
			}
			return tr
		}(), false, false, 0, 5, false},
	} {
		o, ok := findings.PromptOutOfDistribution(tc.tr)
		if ok != (tc.bytes || tc.surprisal) || o.ByBytes != tc.bytes || o.BySurprisal != tc.surprisal || o.ByteTokens != tc.byteTokens || o.Tokens != tc.tokens || (o.MedianProb < 1e-10) != tc.medianProbBelow1e10 {
			t.Errorf("%s: %+v, %v", tc.name, o, ok)
		}
	}
}

func TestKVWindow(t *testing.T) {
	t.Parallel()
	if w, ok := findings.KVWindow(viztest.Trace(viztest.Options{NPositions: 64, Prompt: 6, Steps: 3})); ok {
		t.Errorf("%+v: the window never filled", w)
	}
	w, ok := findings.KVWindow(viztest.Trace(viztest.Options{NPositions: 8, Prompt: 6, Steps: 5}))
	if !ok || w.Evicted != 3 || w.FirstStep != 3 || w.LastStep != 5 || !slices.Equal(w.Recomputed, []int{3, 4, 5}) || !w.Rewritten() || w.Policy != trace.OverflowSlide || w.NPositions != 8 {
		t.Errorf("%+v, %v", w, ok)
	}
}

func TestFirstResidual(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 2, Prompt: 6, Steps: 1, Seed: 3}) // position 0 is 20× the rest
	r, ok := findings.FirstResidual(tr)
	if !ok || r.Position != 0 || r.Ratio < 10 || r.Others != 5 || r.Layer < 1 {
		t.Errorf("%+v, %v", r, ok)
	}
	for l := range tr.Steps[0].ResidualNorm {
		tr.Steps[0].ResidualNorm[l][0] = tr.Steps[0].ResidualNorm[l][1]
	}
	if r, ok := findings.FirstResidual(tr); ok {
		t.Errorf("%+v: an ordinary first position", r)
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 4, Steps: 1})
	if f := findings.Failed(findings.Checks(tr)); len(f) != 0 {
		t.Errorf("failed %+v", f)
	}
	tr.Checks = trace.Checks{MaxRowSumError: 1e-2, MaxCausalLeak: 1e-9, CacheVsRecompute: -1, ZeroTempIsGreedy: false}
	cs := findings.Checks(tr)
	var names []findings.CheckName
	for _, c := range findings.Failed(cs) {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []findings.CheckName{findings.CheckRowSums, findings.CheckCausal, findings.CheckGreedy}) || cs[2].Measured {
		t.Errorf("failed %v, checks %+v", names, cs)
	}
}

// blockRun is a hand-made block-eviction run in a window of 8: a prompt of
// 10 tokens (2 dropped before the first step), then 4 decode steps; the
// first finds the window full, evicts 2 and recomputes 7 positions.
func blockRun() *trace.Trace {
	tr := &trace.Trace{Model: trace.ModelInfo{Config: arch.Config{NPositions: 8}}, Settings: trace.Settings{Overflow: trace.OverflowBlock}}
	kv := func(n int) trace.KVInfo { return trace.KVInfo{Positions: []int{n, n}} }
	tr.Steps = []trace.Step{
		{Index: 0, Kind: trace.Prefill, QueryStart: 2, NQuery: 8, WindowStart: 2, KV: kv(8)},
		{Index: 1, Kind: trace.Recompute, QueryStart: 10, NQuery: 1, WindowStart: 4, KV: kv(7), KVWrite: &trace.KVWrite{Start: 4, N: 7}},
		{Index: 2, Kind: trace.Decode, QueryStart: 11, NQuery: 1, WindowStart: 4, KV: kv(8)},
		{Index: 3, Kind: trace.Recompute, QueryStart: 12, NQuery: 1, WindowStart: 6, KV: kv(7)},
	}
	for p, s := range []int{0, 0, 1, 1, 3, 3} {
		tr.Evictions = append(tr.Evictions, trace.Eviction{Step: s, Position: p})
	}
	return tr
}

func TestOverflow(t *testing.T) {
	t.Parallel()
	if w, ok := findings.Overflow(viztest.Trace(viztest.Options{NPositions: 64, Prompt: 6, Steps: 3})); ok {
		t.Errorf("%+v: the window never filled", w)
	}
	w, ok := findings.Overflow(blockRun())
	want := []findings.EvictionBlock{{Step: 0, Tokens: 2, From: 0}, {Step: 1, Tokens: 2, From: 2, Recomputed: 7}, {Step: 3, Tokens: 2, From: 4, Recomputed: 7}}
	if !ok || !slices.Equal(w.Blocks, want) || w.Total != 6 || w.PromptDropped != 2 || w.Decoding != 4 || w.DecodeBlocks != 2 || w.BlockSize != 2 ||
		w.Recomputed != 14 || w.FinalStart != 6 || w.FinalCached != 7 || w.MinCached != 7 || w.Policy != trace.OverflowBlock || w.NPositions != 8 {
		t.Errorf("block: %+v, %v", w, ok)
	}
	// Sliding: one token per step, the window stays full.
	w, ok = findings.Overflow(viztest.Trace(viztest.Options{NPositions: 8, Prompt: 6, Steps: 5}))
	if !ok || w.Total != 3 || w.PromptDropped != 0 || w.DecodeBlocks != 3 || w.BlockSize != 1 || w.FinalCached != 8 || w.MinCached != 8 || w.Policy != trace.OverflowSlide {
		t.Errorf("slide: %+v, %v", w, ok)
	}
}

func TestContinuationLead(t *testing.T) {
	t.Parallel()
	tr := &trace.Trace{PromptLen: 300}
	if l, ok := findings.ContinuationLead(tr); ok {
		t.Errorf("%+v: no continuation", l)
	}
	tr.Continuation = &trace.Continuation{Tokens: make([]trace.Token, 2), Log2Prob: -3,
		Scores: []trace.Score{{Position: 300, Prob: 0.25, Context: 100}, {Position: 301, Prob: 0.5, Context: 101}}}
	l, ok := findings.ContinuationLead(tr)
	if !ok || l.Prob != 0.25 || math.Abs(l.Nats-math.Log(4)) > 1e-12 || l.Whole != 0.125 || math.Abs(l.WholeNats-math.Log(8)) > 1e-12 ||
		l.Tokens != 2 || l.Context != 100 || l.FirstSeen != 200 || l.TopKnown {
		t.Errorf("%+v, %v", l, ok)
	}
	if o := (findings.Lead{Whole: 0.05}); !l.Over(o) || o.Over(l) || l.Over(findings.Lead{Whole: 0.1}) {
		t.Errorf("Over: 0.125 against 0.05 and 0.1")
	}
	// The prediction after the prompt: the continuation's first token is
	// its top candidate, then not.
	tr.Continuation.Tokens[0].ID = 7
	tr.Steps = []trace.Step{{Index: 0}, {Index: 1, Next: &trace.Prediction{Position: 299, Top: []trace.Candidate{{ID: 7}, {ID: 8}}}}}
	if l, _ := findings.ContinuationLead(tr); !l.TopKnown || !l.IsTop {
		t.Errorf("%+v: the top candidate", l)
	}
	tr.Steps[1].Next.Top[0].ID = 9
	if l, _ := findings.ContinuationLead(tr); !l.TopKnown || l.IsTop {
		t.Errorf("%+v: not the top candidate", l)
	}
	tr.Continuation.Scores[0].NoContext = true
	if _, ok := findings.ContinuationLead(tr); ok {
		t.Error("a first token without context has no lead")
	}
}

func TestCacheSpeed(t *testing.T) {
	t.Parallel()
	tr := &trace.Trace{}
	if r, ok := findings.CacheSpeed(tr); ok {
		t.Errorf("%+v: nothing measured", r)
	}
	// 2 steps: cached 1e6 FLOPs in 1 ms each, uncached 3e7 in 10 ms each.
	tr.CacheCost = &trace.CacheCost{Steps: []trace.CostStep{
		{Context: 5, CachedFLOPs: 1e6, UncachedFLOPs: 3e7, CachedMillis: 1, UncachedMillis: 10},
		{Context: 6, CachedFLOPs: 1e6, UncachedFLOPs: 3e7, CachedMillis: 1, UncachedMillis: 10}}}
	r, ok := findings.CacheSpeed(tr)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !ok || !near(r.CachedGFLOPS, 1) || !near(r.UncachedGFLOPS, 3) || !near(r.FLOPRatio, 30) || !near(r.TimeRatio, 10) ||
		!near(r.SpeedRatio, 1.0/3) || !near(r.FLOPRatio*r.SpeedRatio, r.TimeRatio) || !r.SlowerPerFLOP() {
		t.Errorf("%+v, %v", r, ok)
	}
	// The time saved equals the work saved: not slower per FLOP.
	for i := range tr.CacheCost.Steps {
		tr.CacheCost.Steps[i].UncachedMillis = 30
	}
	if r, ok := findings.CacheSpeed(tr); !ok || r.SlowerPerFLOP() {
		t.Errorf("%+v: equal speeds", r)
	}
	// Timings cleared.
	for i := range tr.CacheCost.Steps {
		tr.CacheCost.Steps[i].CachedMillis = 0
	}
	if r, ok := findings.CacheSpeed(tr); ok {
		t.Errorf("%+v: no times", r)
	}
}

// entropies is a trace of a vocab-token model whose prefill is followed
// by one decode step per entropy (bits); NaN leaves a step without a
// next-token distribution.
func entropies(vocab int, bits ...float64) *trace.Trace {
	tr := &trace.Trace{Model: trace.ModelInfo{Config: arch.Config{VocabSize: vocab}}}
	tr.Steps = append(tr.Steps, trace.Step{Index: 0, Kind: trace.Prefill})
	for i, b := range bits {
		st := trace.Step{Index: i + 1, Kind: trace.Decode}
		if !math.IsNaN(b) {
			st.Next = &trace.Prediction{Entropy: b}
		}
		tr.Steps = append(tr.Steps, st)
	}
	return tr
}

// TestFlat: a step counts as flat at ≥ 95% of log2 vocab_size bits (13 bits
// for 8,192 tokens, so 12.35), and FromOn only when the run stayed flat to
// its end.
func TestFlat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		tr       *trace.Trace
		ok       bool
		steps    []int
		min, max float64
		fromOn   bool
	}{
		{"none", entropies(8192, 7, 9.5, 12.3), false, nil, 0, 0, false},
		{"from step 3 on", entropies(8192, 7.3, 9.5, 12.83, 12.4, 12.9), true, []int{3, 4, 5}, 12.4, 12.9, true},
		{"one flat step, then recovered", entropies(8192, 12.9, 5), true, []int{1}, 12.9, 12.9, false},
		{"flat, recovered, flat again", entropies(8192, 12.9, 5, 12.5, 12.6), true, []int{1, 3, 4}, 12.5, 12.9, false},
		{"a single flat last step", entropies(8192, 5, 12.5), true, []int{2}, 12.5, 12.5, false},
		{"steps without a distribution are skipped", entropies(8192, 12.8, math.NaN(), 12.7), true, []int{1, 3}, 12.7, 12.8, true},
		{"GPT-2's vocabulary: 13 bits is not flat", entropies(50257, 13, 14.9), true, []int{2}, 14.9, 14.9, false},
		{"NaN entropy is not flat", entropies(8192, math.NaN()), false, nil, 0, 0, false},
		{"no vocabulary", entropies(0, 1), false, nil, 0, 0, false},
	} {
		f, ok := findings.Flat(tc.tr)
		if ok != tc.ok || !slices.Equal(f.Steps, tc.steps) || f.MinBits != tc.min || f.MaxBits != tc.max || f.FromOn != tc.fromOn {
			t.Errorf("%s: Flat = %+v, %v; want steps %v [%g, %g] from-on %v, %v", tc.name, f, ok, tc.steps, tc.min, tc.max, tc.fromOn, tc.ok)
		}
		if ok && math.Abs(f.UniformBits-math.Log2(float64(tc.tr.Model.Config.VocabSize))) > 1e-12 {
			t.Errorf("%s: UniformBits %g", tc.name, f.UniformBits)
		}
	}
}
