package viz

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"

	"gonum.org/v1/plot/cmpimg"
	"gonum.org/v1/plot/vg"

	"github.com/gptviz/gptviz/internal/golden"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz/viztest"
)

// everyChart builds every chart of tr that the trace has data for (charts
// whose data is absent return ErrNoData and are left out); any other error
// fails the test.
func everyChart(t *testing.T, tr *trace.Trace) []*Chart {
	t.Helper()
	var cs []*Chart
	for _, build := range []func() ([]*Chart, error){
		func() ([]*Chart, error) { return one(PromptProbs(tr)) },
		func() ([]*Chart, error) { return one(NextToken(tr)) },
		func() ([]*Chart, error) { return one(GenerationLines(tr)) },
		func() ([]*Chart, error) { return one(AttentionHead(tr, 0, 0)) },
		func() ([]*Chart, error) { return AttentionGrid(tr, Filter{}) },
		func() ([]*Chart, error) { return one(NewTokenAttention(tr, 0, 0)) },
		func() ([]*Chart, error) { return one(KVSize(tr)) },
		func() ([]*Chart, error) { return one(KVHeatmap(tr, 0, 0)) },
		func() ([]*Chart, error) { return one(LogitLens(tr)) },
		func() ([]*Chart, error) { return one(ResidualNorm(tr)) },
	} {
		c, err := build()
		if err != nil {
			if errors.Is(err, ErrNoData) {
				continue
			}
			t.Fatal(err)
		}
		cs = append(cs, c...)
	}
	return cs
}

func one(c *Chart, err error) ([]*Chart, error) {
	if err != nil {
		return nil, err
	}
	return []*Chart{c}, nil
}

// staticCases are valid traces with extreme but NaN-free values: each must
// pass trace validation and render every static figure.
func staticCases() map[string]func() *trace.Trace {
	base := func() *trace.Trace {
		return viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 8, Prompt: 6, Steps: 4, TopK: 3, Seed: 3})
	}
	norms := func(v float32) func() *trace.Trace {
		return func() *trace.Trace {
			tr := base()
			for si := range tr.Steps {
				for _, row := range tr.Steps[si].ResidualNorm {
					for i := range row {
						row[i] = v
					}
				}
			}
			return tr
		}
	}
	cache := func(v float32) func() *trace.Trace {
		return func() *trace.Trace {
			tr := base()
			for i := range tr.Cache {
				for _, x := range [][][][]float32{tr.Cache[i].Keys, tr.Cache[i].Values} {
					for _, head := range x {
						for _, row := range head {
							for j := range row {
								row[j] = v
							}
						}
					}
				}
			}
			return tr
		}
	}
	return map[string]func() *trace.Trace{
		"every residual norm 1e20":   norms(1e20),
		"every residual norm 0":      norms(0),
		"every residual norm 3.4e38": norms(math.MaxFloat32),
		"every residual norm 1e-45":  norms(math.SmallestNonzeroFloat32),
		"norms 0 and 3.4e38": func() *trace.Trace {
			tr := norms(0)()
			tr.Steps[0].ResidualNorm[0][0] = math.MaxFloat32
			return tr
		},
		"KV cache all 0":       cache(0),
		"KV cache all 3.4e38":  cache(-math.MaxFloat32),
		"KV cache all 1e-45":   cache(math.SmallestNonzeroFloat32),
		"one position":         func() *trace.Trace { return viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, Prompt: 1, Steps: 0}) },
		"one position, a step": func() *trace.Trace { return viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, Prompt: 1, Steps: 1}) },
		"huge surprisal and entropy": func() *trace.Trace {
			tr := base()
			for i := range tr.Scores {
				tr.Scores[i].Surprisal = 1e300
			}
			for _, st := range tr.Steps {
				if st.Next != nil {
					st.Next.Entropy, st.Next.SampleEntropy = 1e300, 1e300
				}
			}
			return tr
		},
		"every probability 0": func() *trace.Trace {
			tr := base()
			for i := range tr.Scores {
				tr.Scores[i].Prob = 0
			}
			for _, st := range tr.Steps {
				if p := st.Next; p != nil {
					p.Chosen.Prob, p.Chosen.SampleProb, p.Entropy, p.SampleEntropy = 0, 0, 0, 0
					for j := range p.Top {
						p.Top[j].Prob, p.Top[j].SampleProb = 0, 0
					}
				}
			}
			return tr
		},
		"no KV bytes": func() *trace.Trace {
			tr := base()
			for i := range tr.Steps {
				tr.Steps[i].KV.Bytes = 0
			}
			return tr
		},
	}
}

// TestStaticRendersEveryValidTrace is the regression test for a trace that
// passed validation but failed to render to ipynb or --figures (every
// residual norm 1e20 made gonum/plot panic "ColorMap Max==Min", exit 1)
// while HTML worked: every static figure renders every valid trace.
func TestStaticRendersEveryValidTrace(t *testing.T) {
	t.Parallel()
	for name, mk := range staticCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr := mk()
			if err := tr.Validate(); err != nil {
				t.Fatalf("the case is not a valid trace: %v", err)
			}
			cs := everyChart(t, tr)
			if len(cs) < 5 {
				t.Fatalf("%d charts built, want most kinds", len(cs))
			}
			// SVG is the faster backend; both draw with the same code,
			// and the reported case is checked as PNG too.
			formats := []string{"svg"}
			if name == "every residual norm 1e20" {
				formats = append(formats, "png")
			}
			for _, c := range cs {
				for _, format := range formats {
					var b bytes.Buffer
					if err := c.Static(&b, format); err != nil {
						t.Errorf("%s: %v", c.ID, err)
					}
				}
			}
		})
	}
}

// TestGoldenImages renders one chart of each kind as PNG and compares it
// with testdata/<id>.png the way gonum/plot's own tests do
// (cmpimg.EqualApprox, tolerant of small anti-aliasing differences). Run
// with -update to rewrite the images after an intended change, and look at
// them.
func TestGoldenImages(t *testing.T) {
	t.Parallel()
	const delta = 0.01 // as gonum/plot's tests of raster output
	// The fixture's words are Latin only, so that the images do not depend
	// on whether the machine has a CJK font (TestGoldenImagesChinese pins
	// the Chinese figures where it has one).
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 8, Prompt: 6, Steps: 4, TopK: 3, TopN: 5, Seed: 1,
		Words: []string{"The", "␣</script>", "␣\"", "␣&amp;", "␣<b>x</b>", "␣quick", "␣brown", "␣fox", "\\x", "␣jumps", "\\xe4"}})
	for _, c := range allCharts(t, tr) {
		if c.ID == "attn-grid-l1" { // one image per kind: attn-grid-l0 covers it
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := c.Static(&b, "png"); err != nil {
				t.Fatal(err)
			}
			golden.CheckFunc(t, filepath.Join("testdata", c.ID+".png"), b.Bytes(), func(want, got []byte) (bool, error) {
				return cmpimg.EqualApprox("png", got, want, delta)
			})
		})
	}
}

// TestWrapLine: a figure title wider than its canvas is broken between
// words, and a word wider than the canvas between runes, so that plot's
// centred title never runs off the image's edges (the KV-cache lesson's
// subtitle lost its first word in the notebook's PNG).
func TestWrapLine(t *testing.T) {
	t.Parallel()
	runes := func(s string) vg.Length { return vg.Length(utf8.RuneCountInString(s)) }
	for _, tc := range []struct {
		line string
		w    vg.Length
		want []string
	}{
		{"fits as it is", 20, []string{"fits as it is"}},
		{"cached: one new row reads the keys", 12, []string{"cached: one", "new row", "reads the", "keys"}},
		{"有缓存：只算新的一行，读取已存的键和值", 8, []string{"有缓存：只算新的", "一行，读取已存的", "键和值"}},
		{"a verylongword b", 4, []string{"a", "very", "long", "word", "b"}},
		{"xyz", 0.5, []string{"x", "y", "z"}}, // one rune a line, never an empty one
		{"", 3, []string{""}},
	} {
		got := wrapLine(tc.line, tc.w, runes)
		if !slices.Equal(got, tc.want) {
			t.Errorf("wrapLine(%q, %v) = %q, want %q", tc.line, tc.w, got, tc.want)
		}
		for _, l := range got {
			if runes(l) > tc.w && utf8.RuneCountInString(l) > 1 {
				t.Errorf("wrapLine(%q, %v): line %q is wider than %v", tc.line, tc.w, l, tc.w)
			}
		}
	}
}
