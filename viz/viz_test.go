package viz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg/draw"

	"github.com/gptviz/gptviz/internal/golden"
	"github.com/gptviz/gptviz/internal/i18n/i18ntest"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz/viztest"
)

// small is the trace of the golden tests: 2 layers, 2 heads, 6 prompt
// tokens, 4 decode steps, a context window of 8 (so two tokens are
// evicted), top-k 3, adversarial token strings.
func small() *trace.Trace {
	return viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 8, Prompt: 6, Steps: 4, TopK: 3, TopN: 5, Seed: 1})
}

// allCharts builds every chart kind from tr, for layer 1, head 0.
func allCharts(t testing.TB, tr *trace.Trace) []*Chart {
	t.Helper()
	return allChartsWith(t, tr)
}

func allChartsWith(t testing.TB, tr *trace.Trace, o ...Option) []*Chart {
	t.Helper()
	var cs []*Chart
	one := func(c *Chart, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	one(PromptProbs(tr, o...))
	one(NextToken(tr, o...))
	one(GenerationLines(tr, o...))
	one(AttentionHead(tr, 1, 0, o...))
	grid, err := AttentionGrid(tr, Filter{}, o...)
	if err != nil {
		t.Fatal(err)
	}
	cs = append(cs, grid...)
	one(NewTokenAttention(tr, 1, 0, o...))
	one(KVSize(tr, o...))
	one(KVHeatmap(tr, 1, 0, o...))
	one(KVOverTime(tr, o...))
	one(KVLayerSizes(tr, o...))
	one(LogitLens(tr, o...))
	one(ResidualNorm(tr, o...))
	return cs
}

// indent pretty-prints an option for readable golden files.
func indent(t testing.TB, raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", " "); err != nil {
		t.Fatalf("option is not valid JSON: %v", err)
	}
	return append(b.Bytes(), '\n')
}

func TestGoldenOptions(t *testing.T) {
	t.Parallel()
	for _, c := range allCharts(t, small()) {
		t.Run(c.ID, func(t *testing.T) {
			golden.Check(t, filepath.Join("testdata", c.ID+".golden"), indent(t, c.Option))
		})
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a, b := allCharts(t, small()), allCharts(t, small())
	if len(a) != len(b) {
		t.Fatalf("%d charts, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || !bytes.Equal(a[i].Option, b[i].Option) {
			t.Errorf("chart %d (%s): option differs between two builds of the same trace", i, a[i].ID)
		}
		var s1, s2 bytes.Buffer
		if err := a[i].Static(&s1, "svg"); err != nil {
			t.Fatal(err)
		}
		if err := b[i].Static(&s2, "svg"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s1.Bytes(), s2.Bytes()) {
			t.Errorf("chart %s: SVG differs between two builds", a[i].ID)
		}
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	var ids []string
	for _, c := range allCharts(t, small()) {
		ids = append(ids, c.ID)
		for _, r := range c.ID {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				t.Errorf("chart id %q: character %q outside [a-z0-9-]", c.ID, r)
			}
		}
	}
	want := []string{"prompt-probs", "next-token", "next-entropy", "attn-l1-h0", "attn-grid-l0", "attn-grid-l1",
		"attn-new-l1-h0", "kv-bytes", "kv-l1-h0", "kv-time-l1-h0", "kv-layers", "logit-lens", "residual-norm"}
	if !slices.Equal(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
}

// heatCell is one [x, y, v] item of heatmap data.
type heatCell struct{ x, y int }

// heatCells decodes the cells of every heatmap series of an option.
func heatCells(t *testing.T, raw json.RawMessage) (cells map[heatCell]float64, xs, ys []string) {
	t.Helper()
	var opt struct {
		XAxis  []struct{ Data []string } `json:"xAxis"`
		YAxis  []struct{ Data []string } `json:"yAxis"`
		Series []struct {
			Type string
			Data []json.RawMessage
		}
	}
	if err := json.Unmarshal(raw, &opt); err != nil {
		t.Fatal(err)
	}
	cells = map[heatCell]float64{}
	for _, s := range opt.Series {
		for _, item := range s.Data {
			var d [3]float64
			if err := json.Unmarshal(item, &d); err != nil {
				var named struct{ Value [3]float64 }
				if err := json.Unmarshal(item, &named); err != nil {
					t.Fatalf("heatmap item %s: %v", item, err)
				}
				d = named.Value
			}
			c := heatCell{int(d[0]), int(d[1])}
			if _, dup := cells[c]; dup {
				t.Fatalf("cell %v appears twice", c)
			}
			cells[c] = d[2]
		}
	}
	return cells, opt.XAxis[0].Data, opt.YAxis[0].Data
}

func TestAttentionMasking(t *testing.T) {
	t.Parallel()
	tr := small()
	c, err := AttentionHead(tr, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	cells, xs, ys := heatCells(t, c.Option)
	n := len(tr.Tokens) // every decode step's token is a query
	if len(xs) != n || len(ys) != n {
		t.Fatalf("axes have %d × %d labels, want %d × %d", len(ys), len(xs), n, n)
	}
	// The window of 8 positions: the query at position q sees keys
	// max(0, q-7)…q; everything else must be absent (grey), not zero.
	for q := 0; q < n; q++ {
		lo := max(0, q-7)
		for k := 0; k < n; k++ {
			_, ok := cells[heatCell{k, q}]
			visible := k >= lo && k <= q
			if ok != visible {
				t.Errorf("query %d, key %d: drawn = %v, want %v", q, k, ok, visible)
			}
		}
	}
	// Each drawn row sums to 1 (3 significant digits per cell).
	for q := 0; q < n; q++ {
		var sum float64
		for k := 0; k <= q; k++ {
			sum += cells[heatCell{k, q}]
		}
		if sum < 0.98 || sum > 1.02 {
			t.Errorf("row %d sums to %v", q, sum)
		}
	}
	if !strings.Contains(string(c.Option), `"backgroundColor":"`+maskedHex+`"`) {
		t.Error("masked cells are not drawn grey: grid has no masked background")
	}
	if !strings.Contains(string(c.Option), `"max":1`) {
		t.Error("visualMap range is not [0, 1]")
	}
}

func TestDownsampling(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, Prompt: 1024, Steps: 0, MaxQueries: 1024, MaxAttention: 1024})
	c, err := AttentionHead(tr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	cells, xs, ys := heatCells(t, c.Option)
	if len(xs) > MaxSide || len(ys) > MaxSide {
		t.Fatalf("axes have %d × %d cells, want at most %d × %d", len(ys), len(xs), MaxSide, MaxSide)
	}
	if len(xs) != 256 || !strings.HasPrefix(xs[0], "0–3 The") {
		t.Errorf("labels: %d, first %q; want 256 blocks of 4 positions, first \"0–3 …\"", len(xs), xs[0])
	}
	if len(cells) > MaxSide*(MaxSide+1)/2 {
		t.Errorf("%d cells drawn, more than the lower triangle of %d×%d", len(cells), MaxSide, MaxSide)
	}
	if !strings.Contains(c.Subtitle, "4 queries") || len(c.Notes) == 0 || !strings.Contains(c.Notes[0], "blocks of 4") {
		t.Errorf("the stride is not stated: subtitle %q, notes %q", c.Subtitle, c.Notes)
	}
	// Downsampled rows still sum to 1: attention summed over a block's
	// keys, averaged over its queries.
	for r := range 256 {
		var sum float64
		for c := 0; c <= r; c++ {
			sum += cells[heatCell{c, r}]
		}
		if sum < 0.97 || sum > 1.03 {
			t.Errorf("downsampled row %d sums to %v, want 1", r, sum)
		}
	}
	var static bytes.Buffer
	if err := c.Static(&static, "png"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(*trace.Trace, ...Option) (*Chart, error){LogitLens, ResidualNorm} {
		c, err := f(tr)
		if err != nil {
			t.Fatal(err)
		}
		_, xs, _ := heatCells(t, c.Option)
		if len(xs) > MaxSide || len(c.Notes) == 0 {
			t.Errorf("%s: %d columns, notes %q: want at most %d and a note", c.ID, len(xs), c.Notes, MaxSide)
		}
	}
}

// TestSummarisedAttention feeds attention the way the recorder stores long
// rows (block averages over KeyStride keys, last MaxQueries rows only).
func TestSummarisedAttention(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 2, Prompt: 600, Steps: 2, MaxQueries: 100, MaxAttention: 150})
	if !tr.Steps[0].Attention[0].Summarised || tr.Steps[0].NQuery != 100 {
		t.Fatalf("test trace is not summarised: %+v", tr.Steps[0].Attention[0].KeyStride)
	}
	c, err := AttentionHead(tr, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	cells, xs, _ := heatCells(t, c.Option)
	// Positions 0…499 were never queries: their rows are all masked.
	stride := (602 + MaxSide - 1) / MaxSide
	for cell := range cells {
		if q := cell.y * stride; q+stride <= 500 {
			t.Fatalf("row %d (positions %d…) drawn, but those were not recorded", cell.y, q)
		}
	}
	if len(xs) > MaxSide || len(c.Notes) < 2 {
		t.Errorf("%d columns, notes %q", len(xs), c.Notes)
	}
	if _, err := NewTokenAttention(tr, 0, 1); err != nil {
		t.Fatal(err)
	}
}

func TestFilteredLabels(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 4, NHead: 6, Prompt: 5, Steps: 1})
	cs, err := AttentionGrid(tr, Filter{Layers: []int{3, 1, 3}, Heads: []int{5, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != "attn-grid-l1" || cs[1].ID != "attn-grid-l3" {
		t.Fatalf("charts %v, want attn-grid-l1 and attn-grid-l3", []string{cs[0].ID})
	}
	if want := "Attention, layer 3, heads 2, 5 (model view)"; cs[1].Title != want {
		t.Errorf("title %q, want %q", cs[1].Title, want)
	}
	var opt struct {
		Title  []struct{ Text string }
		Series []struct{ Name string }
	}
	if err := json.Unmarshal(cs[1].Option, &opt); err != nil {
		t.Fatal(err)
	}
	var titles, names []string
	for _, x := range opt.Title {
		titles = append(titles, x.Text)
	}
	for _, s := range opt.Series {
		names = append(names, s.Name)
	}
	if !slices.Equal(titles, []string{"", "head 2", "head 5"}) {
		t.Errorf("small-multiple titles %q, want head 2 and head 5", titles)
	}
	if !slices.Equal(names, []string{"layer 3, head 2", "layer 3, head 5"}) {
		t.Errorf("series %q", names)
	}
	c, err := AttentionHead(tr, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "attn-l3-h5" || c.Title != "Attention, layer 3, head 5" {
		t.Errorf("id %q, title %q", c.ID, c.Title)
	}
}

func TestRangeAndNoData(t *testing.T) {
	t.Parallel()
	tr := small()
	for name, err := range map[string]error{
		"layer":     second(AttentionHead(tr, 2, 0)),
		"head":      second(AttentionHead(tr, 0, -1)),
		"filter":    second(AttentionGrid(tr, Filter{Heads: []int{0, 9}})),
		"new token": second(NewTokenAttention(tr, 0, 7)),
		"kv":        second(KVHeatmap(tr, 5, 0)),
	} {
		if !errors.Is(err, ErrRange) {
			t.Errorf("%s: err = %v, want ErrRange", name, err)
		}
	}
	empty := &trace.Trace{Model: tr.Model}
	for name, err := range map[string]error{
		"prompt":   second(PromptProbs(empty)),
		"next":     second(NextToken(empty)),
		"lines":    second(GenerationLines(empty)),
		"attn":     second(AttentionHead(empty, 0, 0)),
		"grid":     second(AttentionGrid(empty, Filter{})),
		"new":      second(NewTokenAttention(empty, 0, 0)),
		"kv bytes": second(KVSize(empty)),
		"kv":       second(KVHeatmap(empty, 0, 0)),
		"lens":     second(LogitLens(empty)),
		"residual": second(ResidualNorm(empty)),
	} {
		if !errors.Is(err, ErrNoData) {
			t.Errorf("%s: err = %v, want ErrNoData", name, err)
		}
	}
	noHeads := small()
	noHeads.Model.Config.NHead = 0 // found by FuzzCharts: the model view panicked
	if _, err := AttentionGrid(noHeads, Filter{}); !errors.Is(err, ErrNoData) {
		t.Errorf("model view of a model without heads: err = %v, want ErrNoData", err)
	}
	bad := small()
	bad.Steps[1].QueryStart = -3
	if _, err := AttentionHead(bad, 0, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative query start: err = %v, want ErrInvalid", err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestAdversarialTokens checks that token strings stay inert text: no raw
// <, > or & in any option (encoding/json escapes them), every payload
// present as a JSON string value, Chinese and emoji intact.
func TestAdversarialTokens(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, NPositions: 12, Prompt: len(viztest.Adversarial), Steps: 3, TopK: 3})
	for _, c := range allCharts(t, tr) {
		raw := string(c.Option)
		if i := strings.IndexAny(raw, "<>&"); i >= 0 {
			t.Errorf("%s: raw %q at byte %d of the option", c.ID, raw[i], i)
		}
		if strings.Contains(raw, "\u2028") || strings.Contains(raw, "\u2029") {
			t.Errorf("%s: raw line separator in the option", c.ID)
		}
	}
	// Decode and look for the payloads as whole strings or parts of labels.
	var strs []string
	for _, c := range allCharts(t, tr) {
		var v any
		if err := json.Unmarshal(c.Option, &v); err != nil {
			t.Fatal(err)
		}
		collectStrings(v, &strs)
	}
	all := strings.Join(strs, "\x00")
	for _, p := range []string{"␣</script>", "__f__alert(1)__f__", "␣\"", "␣&amp;", "␣工作", "记忆", "␣🦊", "↵", "{​@[2]}"} {
		if !strings.Contains(all, p) {
			t.Errorf("payload %q is not shown in any chart string", p)
		}
	}
}

func collectStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case []any:
		for _, e := range x {
			collectStrings(e, out)
		}
	case map[string]any:
		for _, e := range x {
			collectStrings(e, out)
		}
	}
}

// TestStatic renders every chart as SVG and PNG; PNGs decode, are at least
// 300×200 pixels and not blank.
func TestStatic(t *testing.T) {
	t.Parallel()
	for _, c := range allCharts(t, small()) {
		t.Run(c.ID, func(t *testing.T) {
			var svg, pngb bytes.Buffer
			if err := c.Static(&svg, "svg"); err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(svg.Bytes(), []byte("<svg")) {
				t.Errorf("SVG output has no <svg element")
			}
			if err := c.Static(&pngb, "png"); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&pngb)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if b.Dx() < 250 || b.Dy() < 150 {
				t.Errorf("PNG is %d×%d", b.Dx(), b.Dy())
			}
			colours := map[[4]uint32]bool{}
			for y := b.Min.Y; y < b.Max.Y; y += 3 {
				for x := b.Min.X; x < b.Max.X; x += 3 {
					r, g, bb, a := img.At(x, y).RGBA()
					colours[[4]uint32{r, g, bb, a}] = true
				}
			}
			if len(colours) < 4 {
				t.Errorf("PNG looks blank: %d colours", len(colours))
			}
			if err := c.Static(&svg, "gif"); err == nil {
				t.Error("format gif: no error")
			}
		})
	}
}

// TestStaticCrisp checks that a heatmap's cells are flat blocks of one
// colour (nearest neighbour), not blurred: inside a big 4×4 matrix each
// cell's centre region has a single colour.
func TestStaticCrisp(t *testing.T) {
	t.Parallel()
	m := newMatrix(4, 4, 1, 1)
	for r := 0; r < 4; r++ {
		for c := 0; c <= r; c++ {
			m.add(r, c, float64(r+c)/6)
		}
	}
	m.rowLabels = []string{"a", "b", "c", "d"}
	m.colLabels = m.rowLabels
	c := &Chart{ID: "crisp", static: &staticFig{w: 300, h: 300, draw: func(dc draw.Canvas) error {
		p := newPlot("", "", "")
		p.Add(&raster{m: m, cmap: newRamp(seqStops, 0, 1)})
		p.HideAxes()
		p.Draw(dc)
		return nil
	}}}
	var b bytes.Buffer
	if err := c.Static(&b, "png"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	// Count distinct colours on the middle row of pixels: a crisp image
	// has at most 4 cells + background + a few edge pixels.
	bd := img.Bounds()
	seen := map[[3]uint32]bool{}
	y := bd.Min.Y + bd.Dy()*7/8
	for x := bd.Min.X; x < bd.Max.X; x++ {
		r, g, bb, _ := img.At(x, y).RGBA()
		seen[[3]uint32{r, g, bb}] = true
	}
	if len(seen) > 10 {
		t.Errorf("%d colours on one pixel row through 4 cells: blurred", len(seen))
	}
}

func TestPerplexity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		scores []trace.Score
		want   float64
		n      int
	}{
		{"uniform 1/4", []trace.Score{{NoContext: true}, {Prob: 0.25, Surprisal: 2}, {Prob: 0.25, Surprisal: 2}}, 4, 2},
		{"mixed", []trace.Score{{Prob: 0.5, Surprisal: 1}, {Prob: 0.125, Surprisal: 3}}, 4, 2},
	} {
		got, n := Perplexity(tc.scores)
		if n != tc.n || got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("%s: Perplexity = %v, %d; want %v, %d", tc.name, got, n, tc.want, tc.n)
		}
	}
	if p, n := Perplexity([]trace.Score{{NoContext: true}}); n != 0 || p == p {
		t.Errorf("no scored tokens: %v, %d; want NaN, 0", p, n)
	}
}

func TestKVFormula(t *testing.T) {
	t.Parallel()
	cfg := arch.Config{NLayer: 12, NEmbd: 768, NHead: 12}
	if got := cfg.KVBytes(128); got != 9437184 {
		t.Errorf("KVBytes = %d, want 9437184", got)
	}
	if got, want := KVFormulaFor(cfg, 128), "2 × 12 × 128 × 768 × 4 = 9,437,184 bytes (9 MiB)"; got != want {
		t.Errorf("KVFormulaFor = %q, want %q", got, want)
	}
	c, err := KVSize(small())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Subtitle, KVFormula) || !strings.Contains(string(c.Option), KVFormula) {
		t.Errorf("formula missing: %q", c.Subtitle)
	}
}

// TestPhrases: every phrase has both languages with the same verbs, and
// every phrase key used in the package exists.
func TestPhrases(t *testing.T) {
	t.Parallel()
	i18ntest.Check(t, phrases, regexp.MustCompile(`\.t\("([a-z.]+)"`), "*.go")
}

// TestChinese: with Lang("zh") the text inside charts is Chinese, the IDs
// and data the same as in English.
func TestChinese(t *testing.T) {
	t.Parallel()
	tr := small()
	en := allCharts(t, tr)
	zh := allChartsWith(t, tr, Lang("zh"))
	for i := range en {
		if en[i].ID != zh[i].ID {
			t.Errorf("chart %d: id %q in English, %q in Chinese", i, en[i].ID, zh[i].ID)
		}
		if !regexp.MustCompile(`\p{Han}`).MatchString(zh[i].Title + string(zh[i].Option)) {
			t.Errorf("%s: no Chinese in the zh chart", zh[i].ID)
		}
		var s bytes.Buffer
		if err := zh[i].Static(&s, "png"); err != nil {
			t.Errorf("%s: static: %v", zh[i].ID, err)
		}
	}
}

func TestStaticText(t *testing.T) {
	t.Parallel()
	zh := "中" // drawn with the CJK font, when one was found
	if _, err := CJKFont(); err != nil {
		zh = "U+4E2D"
	}
	for in, want := range map[string]string{
		"␣fox": "␣fox", "↵": `\n`, "中": zh, "a\tb": `a\tb`, "Ωé": "Ωé", "🦊": "U+1F98A",
	} {
		if got := staticText(in); got != want {
			t.Errorf("staticText(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCharts feeds corrupt traces (decoded from JSON, as `gptviz render`
// reads them) to every chart: errors are fine, panics and hangs are not.
// A trace that passes validation must also render every chart it has data
// for as a static figure (issue 9, item 12: a valid trace failed in ipynb
// and --figures while HTML worked).
func FuzzCharts(f *testing.F) {
	for _, tr := range []*trace.Trace{small(), staticCases()["every residual norm 1e20"](), staticCases()["one position"]()} {
		seed, err := json.Marshal(tr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	f.Add([]byte(`{"model":{"config":{"n_layer":1,"n_head":1}},"steps":[{"query_start":0,"n_query":3,"attention":[{"probs":[[[1],[0.5,0.5,9],[]]],"key_stride":2}]}]}`))
	f.Add([]byte(`{"model":{"config":{"n_layer":1,"n_head":1}},"steps":[{"query_start":5,"n_query":1,"window_start":9}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tr trace.Trace
		if json.Unmarshal(data, &tr) != nil {
			return
		}
		valid := tr.Validate() == nil
		for _, c := range fuzzCharts(&tr) {
			if !json.Valid(c.Option) {
				t.Fatalf("%s: invalid option JSON", c.ID)
			}
			// SVG only: PNG draws with the same code at about three times
			// the cost (TestStaticRendersEveryValidTrace renders both).
			if err := c.Static(&bytes.Buffer{}, "svg"); err != nil && valid {
				t.Fatalf("valid trace: %s: static svg: %v", c.ID, err)
			}
		}
	})
}

// fuzzCharts builds every chart kind of tr for layer 0, head 0, leaving
// out those that return an error.
func fuzzCharts(tr *trace.Trace) []*Chart {
	var out []*Chart
	add := func(c *Chart, err error) {
		if err == nil {
			out = append(out, c)
		}
	}
	add(PromptProbs(tr))
	add(NextToken(tr))
	add(GenerationLines(tr))
	add(AttentionHead(tr, 0, 0))
	add(NewTokenAttention(tr, 0, 0))
	add(KVSize(tr))
	add(KVHeatmap(tr, 0, 0))
	add(LogitLens(tr))
	add(ResidualNorm(tr))
	if cs, err := AttentionGrid(tr, Filter{}); err == nil {
		out = append(out, cs[0])
	}
	return out
}

func Example() {
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, Prompt: 4, Steps: 1, Words: []string{"The", "␣quick", "␣brown", "␣fox"}})
	c, err := AttentionHead(tr, 1, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	var svg bytes.Buffer
	if err := c.Static(&svg, "svg"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.ID)
	fmt.Println(c.Title)
	fmt.Println(json.Valid(c.Option), svg.Len() > 0)
	// Output:
	// attn-l1-h0
	// Attention, layer 1, head 0
	// true true
}

func ExampleKVFormulaFor() {
	gpt2 := arch.Config{NLayer: 12, NHead: 12, NEmbd: 768}
	fmt.Println(KVFormula)
	fmt.Println(KVFormulaFor(gpt2, 1024))
	// Output:
	// bytes = 2 (keys and values) × n_layer × positions × n_embd × 4 (bytes per float32)
	// 2 × 12 × 1024 × 768 × 4 = 75,497,472 bytes (72 MiB)
}

// TestNewTokenAttentionKeepsRecomputeSteps is the regression test for new-token
// attention dropping every step after the context window filled: steps of
// kind recompute generate a token too, so the chart's step slider must have
// one entry per generated token, as the next-token chart does.
func TestNewTokenAttentionKeepsRecomputeSteps(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NPositions: 8, Prompt: 5, Steps: 9})
	recomputes := 0
	for _, st := range tr.Steps {
		if st.Kind == trace.Recompute {
			recomputes++
		}
	}
	if recomputes == 0 || len(tr.Evictions) != recomputes {
		t.Fatalf("fixture: %d recompute steps, %d evictions; want some of each, equal", recomputes, len(tr.Evictions))
	}
	c, err := NewTokenAttention(tr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var opt struct {
		BaseOption struct {
			Timeline struct {
				Data []string `json:"data"`
			} `json:"timeline"`
		} `json:"baseOption"`
	}
	if err := json.Unmarshal(c.Option, &opt); err != nil {
		t.Fatal(err)
	}
	want := make([]string, 0, 9)
	for s := 1; s <= 9; s++ {
		want = append(want, strconv.Itoa(s))
	}
	if got := opt.BaseOption.Timeline.Data; !slices.Equal(got, want) {
		t.Errorf("step slider %q, want every decode and recompute step %q", got, want)
	}
}
