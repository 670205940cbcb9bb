package viz

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz/viztest"
)

// tiny is a hand-made run whose chart data can be worked out on paper: 1
// layer, 2 heads, a context window of 3, prompt "A B", then C (decode) and
// D (recompute after A left the window).
func tiny() *trace.Trace {
	tok := func(id int, s string, prompt bool) trace.Token {
		return trace.Token{ID: id, Text: s, Display: s, Prompt: prompt}
	}
	cand := func(id int, s string, p, sp float64, removed string) trace.Candidate {
		return trace.Candidate{ID: id, Text: s, Display: s, Prob: p, SampleProb: sp, RemovedBy: removed}
	}
	return &trace.Trace{
		Version: trace.Version,
		Model: trace.ModelInfo{Config: arch.Config{
			ModelType: "gpt2", VocabSize: 10, NPositions: 3, NEmbd: 4, NLayer: 1, NHead: 2, NInner: 16,
			LayerNormEpsilon: 1e-5, Activation: "gelu_new", BOSTokenID: 0, EOSTokenID: 0,
		}},
		Settings:  trace.Settings{Steps: 2, Temperature: 0.8, TopK: 2, TopP: 1},
		Tokens:    []trace.Token{tok(1, "A", true), tok(2, "B", true), tok(3, "C", false), tok(4, "D", false)},
		PromptLen: 2,
		Scores: []trace.Score{
			{Position: 0, ID: 1, NoContext: true},
			{Position: 1, ID: 2, Prob: 0.25, Surprisal: 2},
		},
		Steps: []trace.Step{
			{Index: 0, Kind: trace.Prefill, QueryStart: 0, NQuery: 2,
				Attention:    []trace.LayerAttention{{Probs: [][][]float32{{{1, 0}, {0.25, 0.75}}, {{1, 0}, {0.5, 0.5}}}}},
				ResidualNorm: [][]float32{{1, 2}, {3, 4}},
				LogitLens:    [][]trace.LensEntry{{{ID: 2, Display: "B", Prob: 0.5}, {ID: 3, Display: "C", Prob: 0.25}}},
				KV:           trace.KVInfo{Positions: []int{2}, Bytes: 64}},
			{Index: 1, Kind: trace.Decode, QueryStart: 2, NQuery: 1,
				Attention:    []trace.LayerAttention{{Probs: [][][]float32{{{0.2, 0.3, 0.5}}, {{0.6, 0.2, 0.2}}}}},
				ResidualNorm: [][]float32{{5}, {6}},
				LogitLens:    [][]trace.LensEntry{{{ID: 4, Display: "D", Prob: 1}}},
				Next: &trace.Prediction{Position: 1, Entropy: 1.5, SampleEntropy: 1,
					Top:     []trace.Candidate{cand(3, "C", 0.5, 0.6, ""), cand(5, "E", 0.3, 0.4, ""), cand(6, "F", 0.2, 0, "top-k")},
					Filters: []trace.FilterResult{{Name: "temperature", Kept: 10, Mass: 1}, {Name: "top-k", Kept: 2, Mass: 0.8}, {Name: "top-p", Kept: 2, Mass: 0.8}},
					Chosen:  cand(3, "C", 0.5, 0.6, "")},
				KV: trace.KVInfo{Positions: []int{3}, Bytes: 96}},
			{Index: 2, Kind: trace.Recompute, QueryStart: 1, NQuery: 3, WindowStart: 1,
				Attention: []trace.LayerAttention{{Probs: [][][]float32{
					{{1, 0, 0}, {0.5, 0.5, 0}, {0.1, 0.1, 0.8}},
					{{1, 0, 0}, {0.5, 0.5, 0}, {0.3, 0.3, 0.4}},
				}}},
				ResidualNorm: [][]float32{{5, 5, 7}, {6, 6, 8}},
				LogitLens:    [][]trace.LensEntry{{{ID: 4, Display: "D", Prob: 1}, {ID: 4, Display: "D", Prob: 1}, {ID: 1, Display: "A", Prob: 0.125}}},
				Next: &trace.Prediction{Position: 2, Entropy: 2, SampleEntropy: 2, Greedy: true,
					Top:     []trace.Candidate{cand(5, "E", 0.6, 0.6, "")},
					Filters: []trace.FilterResult{{Name: "greedy", Kept: 1, Mass: 1}},
					Chosen:  cand(4, "D", 0.1, 0.1, "")},
				KV: trace.KVInfo{Positions: []int{3}, Bytes: 96}},
		},
		Evictions: []trace.Eviction{{Step: 2, Position: 0}},
		Cache: []trace.LayerKV{{Layer: 0, WindowStart: 1,
			Keys:   [][][]float32{{{1, -2}, {0.5, 0}, {0, 0}}, {{0, 0}, {0, 0}, {0, 0}}},
			Values: [][][]float32{{{0.001, 0}, {0, -0.004}, {0, 0}}, {{0, 0}, {0, 0}, {0, 0}}}}},
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 || math.IsNaN(a) && math.IsNaN(b) }

func nearAll(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestTinyIsValid(t *testing.T) {
	if err := tiny().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestPromptData(t *testing.T) {
	d, err := newPromptData(tiny())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.labels, []string{"0 A", "1 B"}) || !slices.Equal(d.noContext, []bool{true, false}) {
		t.Errorf("labels %q, no context %v", d.labels, d.noContext)
	}
	if !math.IsNaN(d.probs[0]) || !math.IsNaN(d.bits[0]) || d.probs[1] != 0.25 || d.bits[1] != 2 {
		t.Errorf("probs %v, bits %v; want NaN for the token without context", d.probs, d.bits)
	}
	if d.ppl != 4 || d.scored != 1 {
		t.Errorf("perplexity %v over %d, want 4 over 1", d.ppl, d.scored)
	}
	if got := d.axisLabels(settings{}); got[0] != "0 A (no context)" || got[1] != "1 B" {
		t.Errorf("axis labels %q", got)
	}
	if _, err := newPromptData(&trace.Trace{}); !errors.Is(err, ErrNoData) {
		t.Errorf("no scores: %v, want ErrNoData", err)
	}
}

func TestScaleToMax(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want []float64
		wantMax  float64
	}{
		{"plain", []float64{1, 2, 4}, []float64{0.25, 0.5, 1}, 4},
		{"gaps stay gaps", []float64{math.NaN(), 2}, []float64{math.NaN(), 1}, 2},
		{"all zero", []float64{0, 0}, []float64{0, 0}, 0},
		{"huge", []float64{1e300, 5e299}, []float64{1, 0.5}, 1e300},
	} {
		got, m := scaleToMax(tc.in)
		if m != tc.wantMax || !nearAll(got, tc.want) {
			t.Errorf("%s: scaleToMax(%v) = %v, %v; want %v, %v", tc.name, tc.in, got, m, tc.want, tc.wantMax)
		}
	}
}

// TestNextTokenRemoved: the grey bars are named after what removed them
// in this run, never after a filter that was off; a greedy run has no blue
// entry; a run with no filter has no grey one.
func TestNextTokenRemoved(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		set      trace.Settings
		grey     string
		blue     bool
		noLegend bool // no separate grey legend entry
	}{
		{trace.Settings{Temperature: 0, TopK: 0, TopP: 1}, "grey: not the most likely token (greedy decoding keeps only that one)", false, true},
		{trace.Settings{Temperature: 0.8, TopK: 40, TopP: 1}, "grey: removed by top-k ·", true, false},
		{trace.Settings{Temperature: 0.8, TopK: 0, TopP: 0.9}, "grey: removed by top-p ·", true, false},
		{trace.Settings{Temperature: 0.8, TopK: 40, TopP: 0.9}, "grey: removed by top-k / top-p ·", true, false},
		{trace.Settings{Temperature: 1, TopK: 0, TopP: 1}, "", true, true},
	} {
		tr := tiny()
		tr.Settings = tc.set
		ch, err := NextToken(tr)
		if err != nil {
			t.Fatal(err)
		}
		sub := ch.Subtitle
		if tc.grey == "" && strings.Contains(sub, "grey") || tc.grey != "" && !strings.Contains(sub, tc.grey) {
			t.Errorf("%+v: subtitle %q, want %q", tc.set, sub, tc.grey)
		}
		if got := strings.Contains(sub, "blue: could have been chosen"); got != tc.blue {
			t.Errorf("%+v: subtitle %q: blue entry %v, want %v", tc.set, sub, got, tc.blue)
		}
		legend := string(ch.Option)
		if got := strings.Contains(legend, `"name":"removed by`) || strings.Contains(legend, `"name":"not the most likely`); got == tc.noLegend {
			t.Errorf("%+v: separate grey legend entry %v, want %v", tc.set, got, !tc.noLegend)
		}
	}
}

func TestNextTokenData(t *testing.T) {
	d, err := newNextTokenData(tiny())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.steps) != 2 {
		t.Fatalf("%d steps, want 2 (decode and recompute)", len(d.steps))
	}
	for _, tc := range []struct {
		name            string
		s               nextStep
		step            int
		labels          []string
		chosen, removed []bool
		title, sub      string
	}{
		{"chosen among the top", d.steps[0], 1, []string{"C", "E", "F"}, []bool{true, false, false}, []bool{false, false, true},
			"step 1: chose “C” (P = 0.5, sampled)", "entropy 1.5 bits at T = 1, 1 bits after temperature and filters · T = 0.8 · top-k kept 2 tokens (mass 0.8) · top-p off"},
		{"chosen added after the top", d.steps[1], 2, []string{"E", "D (chosen)"}, []bool{false, true}, []bool{false, false},
			"step 2: chose “D” (P = 0.1, greedy: the most likely token)", "entropy 2 bits at T = 1 (greedy: no randomness left)"},
	} {
		s := tc.s
		var chosen, removed []bool
		for _, b := range s.bars {
			chosen, removed = append(chosen, b.chosen), append(removed, b.removed)
		}
		title, sub := s.title(settings{})
		if s.step != tc.step || !slices.Equal(s.labels(settings{}), tc.labels) || !slices.Equal(chosen, tc.chosen) || !slices.Equal(removed, tc.removed) {
			t.Errorf("%s: step %d, labels %q, chosen %v, removed %v; want %d, %q, %v, %v", tc.name, s.step, s.labels(settings{}), chosen, removed, tc.step, tc.labels, tc.chosen, tc.removed)
		}
		if title != tc.title || sub != tc.sub {
			t.Errorf("%s: title %q / %q, want %q / %q", tc.name, title, sub, tc.title, tc.sub)
		}
	}
	if got := []string{d.steps[0].bars[0].color(), d.steps[0].bars[1].color(), d.steps[0].bars[2].color()}; !slices.Equal(got, []string{chosenHex, keptHex, removedHex}) {
		t.Errorf("bar colours %q", got)
	}
	if _, err := newNextTokenData(&trace.Trace{Steps: tiny().Steps[:1]}); !errors.Is(err, ErrNoData) {
		t.Errorf("prefill only: %v, want ErrNoData", err)
	}
}

func TestGenerationData(t *testing.T) {
	d, err := newGenerationData(tiny())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.labels, []string{"1 C", "2 D"}) || !nearAll(d.entropy, []float64{1.5, 2}) ||
		!nearAll(d.sampled, []float64{1, 2}) || !nearAll(d.chosen, []float64{0.5, 0.1}) {
		t.Errorf("got %+v", d)
	}
}

func TestKVSizeData(t *testing.T) {
	d, err := newKVSizeData(tiny())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.labels(settings{}), []string{"0 prefill", "1", "2"}) || !nearAll(d.bytes, []float64{64, 96, 96}) ||
		!nearAll(d.positions, []float64{2, 3, 3}) || d.fullAt != 2 || d.lastPositions != 3 || d.lastBytes != 96 {
		t.Errorf("got %+v", d)
	}
	tr := tiny()
	tr.Evictions = nil
	if d, _ := newKVSizeData(tr); d.fullAt != -1 {
		t.Errorf("no evictions: fullAt %d, want -1", d.fullAt)
	}
}

func TestKVHeadData(t *testing.T) {
	for _, tc := range []struct {
		name       string
		layer, hd  int
		limK, limV float64
		err        error
	}{
		{"head 0", 0, 0, 2, 0.004, nil},
		{"all zero: limit 1", 0, 1, 1, 1, nil},
		{"head outside the model", 0, 2, 0, 0, ErrRange},
		{"layer outside the model", 1, 0, 0, 0, ErrRange},
	} {
		d, err := newKVHeadData(tiny(), tc.layer, tc.hd)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err == nil && (d.limK != tc.limK || d.limV != tc.limV || d.nPos != 3 || d.dHead != 2) {
			t.Errorf("%s: limits %v, %v, %d×%d; want %v, %v, 3×2", tc.name, d.limK, d.limV, d.nPos, d.dHead, tc.limK, tc.limV)
		}
	}
	d, _ := newKVHeadData(tiny(), 0, 0)
	if !slices.Equal(d.keys.rowLabels, []string{"1 B", "2 C", "3 D"}) {
		t.Errorf("rows %q, want the cached positions 1…3", d.keys.rowLabels)
	}
	tr := tiny()
	tr.Cache = nil
	if _, err := newKVHeadData(tr, 0, 0); !errors.Is(err, ErrNoData) {
		t.Errorf("no cache: %v, want ErrNoData", err)
	}
}

func TestLensData(t *testing.T) {
	d, err := newLensData(tiny())
	if err != nil {
		t.Fatal(err)
	}
	// Position 1 was recorded twice (prefill and recompute): the later wins.
	if !slices.Equal(d.positions, []int{0, 1, 2, 3}) || d.stride != 1 || !slices.Equal(d.tokens[0], []string{"B", "D", "D", "A"}) {
		t.Errorf("positions %v, stride %d, tokens %q", d.positions, d.stride, d.tokens)
	}
	var probs []float64
	for c := range d.positions {
		v, _ := d.prob.at(0, c)
		probs = append(probs, v)
	}
	if !nearAll(probs, []float64{0.5, 1, 1, 0.125}) {
		t.Errorf("probabilities %v", probs)
	}
}

func TestSampleEvery(t *testing.T) {
	for _, tc := range []struct {
		n, side, stride int
		first, last     int
	}{{10, 20, 1, 0, 9}, {10, 5, 2, 1, 9}, {1000, 256, 4, 3, 999}} {
		ps := make([]int, tc.n)
		for i := range ps {
			ps[i] = i
		}
		got, s := sampleEvery(ps, tc.side)
		if s != tc.stride || len(got) > tc.side || got[0] != tc.first || got[len(got)-1] != tc.last {
			t.Errorf("sampleEvery(%d positions, %d) = %d kept (%d…%d), stride %d; want stride %d, %d…%d", tc.n, tc.side, len(got), got[0], got[len(got)-1], s, tc.stride, tc.first, tc.last)
		}
	}
}

func TestResidualData(t *testing.T) {
	d, err := newResidualData(tiny())
	if err != nil {
		t.Fatal(err)
	}
	row := func(r int) []float64 {
		var out []float64
		for c := range d.norms.cols {
			v, _ := d.norms.at(r, c)
			out = append(out, v)
		}
		return out
	}
	if !nearAll(row(0), []float64{1, 5, 5, 7}) || !nearAll(row(1), []float64{3, 6, 6, 8}) {
		t.Errorf("norms %v / %v", row(0), row(1))
	}
	if d.lo != 1 || d.hi != 8 || d.top != 8 {
		t.Errorf("range [%v, %v], top %v; want [1, 8], 8", d.lo, d.hi, d.top)
	}
	if got := d.rowLabels(settings{}); !slices.Equal(got, []string{"embeddings", "after layer 0"}) {
		t.Errorf("rows %q", got)
	}
}

func TestResidualRange(t *testing.T) {
	fill := func(vs ...float64) *matrix {
		m := newMatrix(1, len(vs), 1, 1)
		for i, v := range vs {
			m.add(0, i, v)
		}
		return m
	}
	many := make([]float64, 100)
	for i := range many {
		many[i] = float64(i%10 + 1)
	}
	many[0] = 1000
	for _, tc := range []struct {
		name        string
		m           *matrix
		lo, hi, top float64
	}{
		{"spread", fill(1, 2, 8), 1, 8, 8},
		{"one outlier saturates", fill(many...), 1, 10, 1000},
		{"constant", fill(5, 5), 5, 6, 5},
		{"constant and huge", fill(1e20, 1e20), 1e20, 1.001e20, 1e20},
		{"all zero", fill(0, 0), 0, 1, 0},
	} {
		lo, hi, top := residualRange(tc.m)
		if !near(lo/max(1, math.Abs(tc.lo)), tc.lo/max(1, math.Abs(tc.lo))) || !near(hi/max(1, tc.hi), 1) || top != tc.top {
			t.Errorf("%s: range [%v, %v], top %v; want [%v, %v], %v", tc.name, lo, hi, top, tc.lo, tc.hi, tc.top)
		}
	}
}

func TestColorRange(t *testing.T) {
	for _, tc := range []struct {
		name           string
		lo, hi         float64
		wantLo, wantHi float64
	}{
		{"a range is kept", 0, 1, 0, 1},
		{"symmetric", -2, 2, -2, 2},
		{"empty", 5, 5, 5, 6},
		{"empty and huge", 1e20, 1e20, 1e20, 1.001e20},
		{"empty, negative and huge", -1e20, -1e20, -1e20, -0.999e20},
		{"reversed", 3, 2, 3, 4},
		{"too narrow to label", 1e20, 1e20 + 1e10, 1e20, 1.001e20},
		{"NaN", math.NaN(), math.NaN(), 0, 1},
		{"infinite", math.Inf(-1), math.Inf(1), 0, 1},
	} {
		lo, hi := colorRange(tc.lo, tc.hi)
		if lo != tc.wantLo || math.Abs(hi-tc.wantHi) > 1e-9*math.Abs(tc.wantHi) || !(hi > lo) {
			t.Errorf("%s: colorRange(%v, %v) = %v, %v; want %v, %v", tc.name, tc.lo, tc.hi, lo, hi, tc.wantLo, tc.wantHi)
		}
	}
}

func TestNewTokenAttentionData(t *testing.T) {
	d, err := newTokenAttentionData(tiny(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []newTokenRow{
		{step: 1, q: 2, window: 0, keyStride: 1, query: "2 C", keys: []string{"0 A", "1 B", "2 C"}, probs: []float64{0.2, 0.3, 0.5}, mean: []float64{0.4, 0.25, 0.35}},
		{step: 2, q: 3, window: 1, keyStride: 1, query: "3 D", keys: []string{"1 B", "2 C", "3 D"}, probs: []float64{0.1, 0.1, 0.8}, mean: []float64{0.2, 0.2, 0.6}},
	}
	if len(d.rows) != len(want) {
		t.Fatalf("%d rows, want %d: the recompute step generates a token too", len(d.rows), len(want))
	}
	for i, w := range want {
		g := d.rows[i]
		if g.step != w.step || g.q != w.q || g.window != w.window || g.query != w.query || !slices.Equal(g.keys, w.keys) ||
			!nearAll(g.probs, w.probs) || !nearAll(g.mean, w.mean) {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
	if d.grid.rows != 2 || d.grid.cols != 4 {
		t.Errorf("static grid %d×%d, want 2 steps × 4 positions", d.grid.rows, d.grid.cols)
	}
	if _, ok := d.grid.at(1, 0); ok {
		t.Error("static grid: position 0 had left the window at step 2 but is drawn")
	}
	// The recorder's block averages: one column per 2 keys.
	tr := tiny()
	tr.Steps[1].Attention[0] = trace.LayerAttention{Probs: [][][]float32{{{0.5, 0.5}}, {{0.5, 0.5}}}, Summarised: true, KeyStride: 2}
	d, err = newTokenAttentionData(tr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.rows[0].keys; !slices.Equal(got, []string{"0–1", "2–2"}) {
		t.Errorf("block-averaged keys %q, want 0–1 and 2–2", got)
	}
	for _, tc := range []struct {
		layer, head int
		want        error
	}{{0, 2, ErrRange}, {1, 0, ErrRange}} {
		if _, err := newTokenAttentionData(tiny(), tc.layer, tc.head); !errors.Is(err, tc.want) {
			t.Errorf("layer %d head %d: %v, want %v", tc.layer, tc.head, err, tc.want)
		}
	}
}

func TestAttentionHeadData(t *testing.T) {
	d, err := newAttentionHeadData(tiny(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.positions != 4 || d.keyStride != 1 || d.m.rows != 4 {
		t.Errorf("positions %d, key stride %d, rows %d", d.positions, d.keyStride, d.m.rows)
	}
	// Query 3 (D) at the recompute step: keys 1…3, key 0 evicted.
	for k, want := range []float64{math.NaN(), 0.3, 0.3, 0.4} {
		got, ok := d.m.at(3, k)
		if ok == math.IsNaN(want) || ok && !near(got, want) {
			t.Errorf("query 3, key %d: %v (drawn %v), want %v", k, got, ok, want)
		}
	}
	grid, err := newAttentionGridData(tiny(), 0, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if c, r := grid.tiles(); c != 2 || r != 1 || len(grid.ms) != 2 {
		t.Errorf("model view: %d×%d tiles for %d heads", c, r, len(grid.ms))
	}
}

// TestPerplexityTextAndChartAgree is the regression test for the report
// that printed perplexity 61195 in its text and 61190 in the chart: the
// chart's subtitle now formats it as the text does.
func TestPerplexityTextAndChartAgree(t *testing.T) {
	t.Parallel()
	tr := tiny()
	tr.Scores[1].Surprisal = math.Log2(61195.3)
	d, err := newPromptData(tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "zh"} {
		sub := d.subtitle(settingsOf([]Option{Lang(lang)}))
		if !strings.Contains(sub, "61195 ") && !strings.Contains(sub, "61195（") || strings.Contains(sub, "61190") {
			t.Errorf("%s subtitle %q: want the perplexity written 61195", lang, sub)
		}
	}
}

// TestNotRecordedIsNotMasked is the regression test for long prompts whose
// unrecorded attention rows (only the last MaxQueries rows are kept) were
// drawn in the grey the legend calls "masked": the chart data marks them
// unrecorded, the option draws them in their own colour with a legend
// entry, and masked cells of recorded rows stay masked.
func TestNotRecordedIsNotMasked(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, Prompt: 20, Steps: 2, NPositions: 32, MaxQueries: 8})
	d, err := newAttentionHeadData(tr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := d.m
	for r := 0; r < m.rows; r++ {
		if want := r < 12; m.unrecorded[r] != want {
			t.Errorf("row %d: unrecorded = %v, want %v", r, m.unrecorded[r], want)
		}
	}
	if _, ok := m.at(15, 16); ok {
		t.Error("a future key of a recorded row is drawn; want it masked")
	}
	if m.unrecorded[15] {
		t.Error("a recorded row is marked unrecorded")
	}
	if d.keptRows != 8 {
		t.Errorf("kept rows %d, want 8 (from the trace's note)", d.keptRows)
	}
	c, err := AttentionHead(tr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	opt := string(c.Option)
	for _, want := range []string{`"markArea"`, `"color":"` + notRecordedHex + `"`, `"name":"not recorded"`, `"data":["masked","not recorded"]`} {
		if !strings.Contains(opt, want) {
			t.Errorf("option lacks %s", want)
		}
	}
	if !strings.Contains(c.Subtitle, "not recorded") || !strings.Contains(c.Subtitle, "last 8 query rows") {
		t.Errorf("subtitle %q does not say which rows were not recorded", c.Subtitle)
	}
	if notRecordedHex == maskedHex {
		t.Error("not recorded and masked share a colour")
	}
	// A run that recorded every row has no such mark.
	c, err = AttentionHead(tiny(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(c.Option), "markArea") {
		t.Error("every row recorded, yet the option marks rows not recorded")
	}
}

// TestKVFullLabelNotClipped is the regression test for the KV-size chart's
// marker label, "context window full: the oldest token leaves", which was
// centred on a line near the right edge and clipped: the marker now carries
// a short label and the subtitle the explanation.
func TestKVFullLabelNotClipped(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh"} {
		c, err := KVSize(small(), Lang(lang))
		if err != nil {
			t.Fatal(err)
		}
		lc := settingsOf([]Option{Lang(lang)})
		label := lc.t("kv.full.short")
		if n := len([]rune(label)); n > 12 || !strings.Contains(string(c.Option), `"name":"`+label+`"`) {
			t.Errorf("%s: marker label %q (%d runes): want a short label on the marker", lang, label, n)
		}
		if !strings.Contains(c.Subtitle, lc.t("kv.full", 2)) {
			t.Errorf("%s: subtitle %q does not explain the marker", lang, c.Subtitle)
		}
	}
}

// TestKVSizeBlockPolicy: under block eviction the subtitle says that a
// block left at once and how many positions were recomputed (the cache
// shrinks, it does not stay full); evictions before the prefill are
// counted apart, and the marker stands at the first decode step that
// evicted, not at the prefill.
func TestKVSizeBlockPolicy(t *testing.T) {
	t.Parallel()
	tr := small()
	tr.Settings.Overflow = trace.OverflowBlock
	ev := tr.Evictions
	tr.Evictions = []trace.Eviction{{Step: 0, Position: 0}}
	for _, e := range ev {
		e.Step = ev[0].Step
		tr.Evictions = append(tr.Evictions, e)
	}
	d, err := newKVSizeData(tr)
	if err != nil {
		t.Fatal(err)
	}
	if d.dropped != 1 || d.decodeEvicted != len(ev) || d.evictSteps != 1 || d.fullEvicted != len(ev) || d.steps[d.fullAt] != ev[0].Step {
		t.Fatalf("got %+v", d)
	}
	lc := settingsOf(nil)
	sub := d.subtitle(lc)
	for _, want := range []string{lc.t("kv.dropped", 1), lc.t("kv.full.block", len(ev), int(d.positions[d.fullAt]), len(ev))} {
		if !strings.Contains(sub, want) {
			t.Errorf("subtitle %q lacks %q", sub, want)
		}
	}
	if strings.Contains(sub, lc.t("kv.full", len(ev))) {
		t.Errorf("subtitle %q: block eviction described as sliding", sub)
	}
}

// TestPromptSubtitleOneScoredToken: a prompt of two tokens has one scored
// token, and the subtitle says "1 scored token", not "1 scored tokens".
func TestPromptSubtitleOneScoredToken(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 2, Steps: 1})
	d, err := newPromptData(tr)
	if err != nil {
		t.Fatal(err)
	}
	if sub := d.subtitle(settingsOf(nil)); !strings.Contains(sub, "over 1 scored token") || strings.Contains(sub, "tokens") {
		t.Errorf("subtitle %q, want it to say 1 scored token", sub)
	}
}

// TestGridNotRecordedIsNotMasked is the same regression test for the model
// view (small multiples): rows of a long prompt that the trace did not
// record are drawn in their own colour in every head's thumbnail, with a
// legend entry, never in the masked grey; a run that recorded every row has
// no such mark.
func TestGridNotRecordedIsNotMasked(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 2, Prompt: 20, Steps: 2, NPositions: 32, MaxQueries: 8})
	d, err := newAttentionGridData(tr, 0, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range d.ms {
		for r := 0; r < m.rows; r++ {
			if want := r < 12; m.unrecorded[r] != want {
				t.Errorf("head %d, row %d: unrecorded = %v, want %v", i, r, m.unrecorded[r], want)
			}
		}
	}
	for _, lang := range []string{"en", "zh"} {
		cs, err := AttentionGrid(tr, Filter{}, Lang(lang))
		if err != nil {
			t.Fatal(err)
		}
		c := cs[0]
		var opt struct {
			Series []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				XAxisIndex int    `json:"xAxisIndex"`
				MarkArea   *struct {
					ItemStyle struct{ Color string } `json:"itemStyle"`
					Data      [][]map[string]string  `json:"data"`
				} `json:"markArea"`
			} `json:"series"`
			Legend    struct{ Data []string }       `json:"legend"`
			VisualMap []struct{ SeriesIndex []int } `json:"visualMap"`
		}
		if err := json.Unmarshal(c.Option, &opt); err != nil {
			t.Fatal(err)
		}
		lc := settingsOf([]Option{Lang(lang)})
		notRec, masked := lc.t("notrec.legend"), lc.t("masked.legend")
		var marked []int
		for _, s := range opt.Series {
			if s.MarkArea == nil {
				continue
			}
			if s.Name != notRec || s.MarkArea.ItemStyle.Color != notRecordedHex || s.MarkArea.ItemStyle.Color == maskedHex {
				t.Errorf("%s: mark %q in %s, want %q in %s", lang, s.Name, s.MarkArea.ItemStyle.Color, notRec, notRecordedHex)
			}
			if len(s.MarkArea.Data) != 1 || s.MarkArea.Data[0][0]["yAxis"] != d.ms[0].rowLabels[0] || s.MarkArea.Data[0][1]["yAxis"] != d.ms[0].rowLabels[11] {
				t.Errorf("%s: marked rows %v, want rows 0–11", lang, s.MarkArea.Data)
			}
			marked = append(marked, s.XAxisIndex)
		}
		if len(marked) != 2 || marked[0] != 0 || marked[1] != 1 {
			t.Errorf("%s: not-recorded marks on thumbnails %v, want [0 1]", lang, marked)
		}
		if len(opt.Legend.Data) != 2 || opt.Legend.Data[0] != masked || opt.Legend.Data[1] != notRec {
			t.Errorf("%s: legend %v, want [%s %s]", lang, opt.Legend.Data, masked, notRec)
		}
		if vm := opt.VisualMap[0].SeriesIndex; len(vm) != 2 {
			t.Errorf("%s: colour scale applies to series %v, want the 2 heatmaps", lang, vm)
		}
		if !strings.Contains(c.Subtitle, lc.t("notrec.legend")) || !strings.Contains(c.Subtitle, "8") {
			t.Errorf("%s: subtitle %q does not say which rows were not recorded", lang, c.Subtitle)
		}
	}
	cs, err := AttentionGrid(tiny(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if strings.Contains(string(c.Option), "markArea") || strings.Contains(c.Subtitle, "not recorded") {
			t.Errorf("%s: every row recorded, yet the chart marks rows not recorded", c.ID)
		}
	}
}

// TestShowEndLabels: every category axis shows its first and last labels
// unless it hides its labels or those two on purpose; value axes are left
// alone.
func TestShowEndLabels(t *testing.T) {
	t.Parallel()
	opt := map[string]any{
		"xAxis": []any{map[string]any{"type": "category"}, map[string]any{"type": "category", "axisLabel": map[string]any{"show": false}}},
		"yAxis": map[string]any{"type": "category", "axisLabel": map[string]any{"showMaxLabel": false}},
	}
	opt2 := map[string]any{"xAxis": map[string]any{"type": "value"}}
	showEndLabels(opt)
	showEndLabels(opt2)
	x := opt["xAxis"].([]any)
	if al := x[0].(map[string]any)["axisLabel"].(map[string]any); al["showMinLabel"] != true || al["showMaxLabel"] != true {
		t.Errorf("category x axis: %v", al)
	}
	if al := x[1].(map[string]any)["axisLabel"].(map[string]any); al["showMinLabel"] != nil {
		t.Errorf("hidden labels: %v", al)
	}
	if al := opt["yAxis"].(map[string]any)["axisLabel"].(map[string]any); al["showMinLabel"] != true || al["showMaxLabel"] != false {
		t.Errorf("y axis that hides its last label: %v", al)
	}
	if _, ok := opt2["xAxis"].(map[string]any)["axisLabel"]; ok {
		t.Errorf("value axis changed: %v", opt2)
	}
}

// TestLensDataFrom: a step whose lens starts at a later query row
// (Step.LensStart) places its readings at those rows' positions.
func TestLensDataFrom(t *testing.T) {
	tr := viztest.Trace(viztest.Options{Prompt: 10, Steps: 2, LensQueries: 4})
	if got := tr.Steps[0].LensStart; got != 6 {
		t.Fatalf("prefill lens_start %d, want 6", got)
	}
	d, err := newLensData(tr)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{6, 7, 8, 9, 10, 11}; !slices.Equal(d.positions, want) {
		t.Errorf("positions %v, want %v", d.positions, want)
	}
	if got, want := d.tokens[1][0], tr.Steps[0].LogitLens[1][0].Display; got != want {
		t.Errorf("position 6, layer 1: %q, want the prefill's first lens reading %q", got, want)
	}
}
