package lessons

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gptviz/gptviz/internal/i18n/i18ntest"
	"github.com/gptviz/gptviz/internal/numfmt"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/output/browsertest"
)

var (
	cmpOnce sync.Once
	cmpRun  *trace.Comparison
	cmpErr  error
)

// comparison is the default model's comparison of compare's five default
// settings with three seeds, 12 steps (made once; read-only).
func comparison(t testing.TB) *trace.Comparison {
	t.Helper()
	cmpOnce.Do(func() {
		m, err := defaultmodel.Load()
		if err != nil {
			cmpErr = err
			return
		}
		settings := []model.SamplingParams{{TopP: 1}, {Temperature: 0.7, TopP: 1}, {Temperature: 1, TopP: 1}, {Temperature: 1, TopK: 40, TopP: 1}, {Temperature: 1, TopP: 0.9}}
		runs, err := model.Compare(context.Background(), m, model.CompareOptions{
			Prompt: "The light", Steps: 12, Settings: settings, Seeds: []uint64{1, 2, 3}, Version: "test",
			Trace: model.TraceOptions{NoAttention: true, NoLogitLens: true, KVLayers: []int{}},
		})
		if err != nil {
			cmpErr = err
			return
		}
		for _, row := range runs {
			for _, tr := range row {
				tr.ClearTimings()
			}
		}
		cmpRun, cmpErr = trace.NewComparison("gptviz compare", []string{"greedy", "temperature=0.7", "temperature=1", "temperature=1,top-k=40", "temperature=1,top-p=0.9"}, runs)
	})
	if cmpErr != nil {
		t.Fatal(cmpErr)
	}
	return cmpRun
}

// TestComparePage: the page holds every section and chart, the command as
// given, a chip per generated token shaded by its probability with the
// alternatives on hover, and the statements computed from the run, in
// both languages; it is the same notebook when built twice.
func TestComparePage(t *testing.T) {
	t.Parallel()
	c := comparison(t)
	const cmd = "gptviz compare --steps 12 --seeds 1,2,3 --sample greedy 'The light'"
	for _, lang := range []string{"en", "zh"} {
		nb, err := Compare(c, CompareOptions{Lang: lang, Rerun: cmd})
		if err != nil {
			t.Fatal(err)
		}
		var page bytes.Buffer
		if err := output.WriteHTML(&page, nb); err != nil {
			t.Fatal(err)
		}
		html := page.String()
		var charts []string
		var chips, shaded, playgrounds int
		var text strings.Builder
		for _, cell := range nb.Cells {
			switch cell.Kind {
			case output.KindChart:
				charts = append(charts, cell.Chart.ID)
			case output.KindChips:
				chips++
				for _, it := range cell.Chips.Items {
					if it.Shade > 0 {
						shaded++
						if !strings.Contains(it.Title, "·") {
							t.Errorf("chip %q: title %q lacks the alternatives", it.Label, it.Title)
						}
					}
				}
			case output.KindPlayground:
				playgrounds++
				if cell.Playground.ID != "compare-playground" {
					t.Errorf("%s: playground id %q", lang, cell.Playground.ID)
				}
			case output.KindCode:
				if !strings.Contains(cell.Source, cmd) && !strings.Contains(cell.Source, "viz.SamplingPlayground(") {
					t.Errorf("code cell %q lacks the command", cell.Source)
				}
			}
			text.WriteString(cell.Source + "\n")
		}
		want := []string{"compare-steps", "compare-lines", "compare-summary", "compare-divergence"}
		if strings.Join(charts, ",") != strings.Join(want, ",") {
			t.Errorf("%s: charts %v, want %v", lang, charts, want)
		}
		if playgrounds != 1 || !strings.Contains(html, `id="compare-playground"`) {
			t.Errorf("%s: %d playgrounds; want 1, drawn in the page", lang, playgrounds)
		}
		if chips != 5 || shaded != 5*12 {
			t.Errorf("%s: %d chip rows, %d shaded chips; want 5 and 60", lang, chips, shaded)
		}
		s := text.String()
		for _, w := range map[string][]string{
			"en": {"Temperature → 0 is greedy", "Top-p adapts the number of candidates", "temperature → top-k → top-p", "renormalised", "Greedy decoding wrote the same text with all 3 seeds", "different texts", "$$"},
			"zh": {"温度 → 0 就是贪心", "top-p 会随分布的形状调整候选数量", "重新归一化", "贪心解码在全部 3 个种子下写出了同样的文本"},
		}[lang] {
			if !strings.Contains(s, w) && !strings.Contains(html, w) {
				t.Errorf("%s: the page lacks %q", lang, w)
			}
		}
		if lang == "en" {
			// The top-p count reads as English: "1 token", "3 tokens".
			if m := regexp.MustCompile(`(kept only|happened to keep) (\d+) (tokens?)\b`).FindStringSubmatch(s); m == nil {
				t.Errorf("en: no top-p count in the page")
			} else if (m[2] == "1") != (m[3] == "token") {
				t.Errorf("en: %q", m[0])
			}
		}
		if lang == "zh" && !regexp.MustCompile(`\p{Han}`).MatchString(nb.Title) {
			t.Errorf("zh title %q", nb.Title)
		}
		again, err := Compare(c, CompareOptions{Lang: lang, Rerun: cmd})
		if err != nil {
			t.Fatal(err)
		}
		var page2 bytes.Buffer
		if err := output.WriteHTML(&page2, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(page.Bytes(), page2.Bytes()) {
			t.Errorf("%s: the page differs when built twice", lang)
		}
	}
	// The numbers the page states are the run's.
	nb, err := Compare(c, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	for _, cell := range nb.Cells {
		if cell.Kind == output.KindMarkdown {
			md.WriteString(cell.Source)
		}
	}
	step := c.Diverges[1][0]
	if step > 0 && !strings.Contains(md.String(), "at step "+strconv.Itoa(step)) {
		t.Errorf("the page does not say where T = 0.7 parts from greedy (step %d)", step)
	}
}

// TestCompareOptions: bad options are *OptionErrors.
func TestCompareOptions(t *testing.T) {
	t.Parallel()
	c := comparison(t)
	for _, opt := range []CompareOptions{{Lang: "fr"}, {Static: []string{"gif"}}, {Seed: 3}, {Seed: -1}, {Rerun: "a\nb"}} {
		if _, err := Compare(c, opt); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", opt, err)
		}
	}
	if _, err := Compare(nil, CompareOptions{}); err == nil {
		t.Error("nil comparison: no error")
	}
	nb, err := Compare(c, CompareOptions{Static: []string{"svg"}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, cell := range nb.Cells {
		if cell.Kind == output.KindChart && len(cell.Chart.SVG) == 0 {
			t.Errorf("%s: no SVG", cell.Chart.ID)
		}
	}
}

// TestCompareTexts: every text has both languages with the same verbs, and
// every key used exists.
func TestCompareTexts(t *testing.T) {
	t.Parallel()
	i18ntest.Check(t, compareTexts, regexp.MustCompile(`b\.t\("([a-z0-9.\-]+)"`), "compare.go")
}

// TestBrowserCompare opens the comparison page in headless Chromium,
// offline from file://, in both languages: no console errors, network
// requests or dialogs; every chart drawn; the step slider moves every
// setting's column; a screenshot written (GPTVIZ_SCREENSHOTS keeps it).
func TestBrowserCompare(t *testing.T) {
	c := comparison(t)
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			nb, err := Compare(c, CompareOptions{Lang: lang, Rerun: "gptviz compare 'The light'"})
			if err != nil {
				t.Fatal(err)
			}
			var page bytes.Buffer
			if err := output.WriteHTML(&page, nb); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "compare-"+lang+".html")
			if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			p := browsertest.Open(t, path)
			if err := p.ChartsDrawn(); err != nil {
				t.Error(err)
			}
			var labels []string
			js := `(function () {
  var c = window.gptviz.charts["compare-steps"], out = [];
  [0, 5].forEach(function (i) {
    c.dispatchAction({type: "timelineChange", currentIndex: i});
    var o = c.getOption();
    out.push(o.title[0].text + "|" + o.yAxis.map(function (y) { return y.data.join(","); }).join("|"));
  });
  return out;
})()`
			if err := p.Eval(js, &labels); err != nil {
				t.Fatal(err)
			}
			if len(labels) != 2 || labels[0] == labels[1] || !strings.Contains(labels[1], "6") {
				t.Errorf("moving the slider from step 1 to 6 shows %q", labels)
			}
			p.AssertClean(t)
			if err := p.Screenshot(browsertest.ScreenshotPath(t, "lessons-compare-"+lang+".png")); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCompareNoSteps: a comparison of zero steps is a page that says there
// is nothing generated to compare, not an error.
func TestCompareNoSteps(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	runs, err := model.Compare(context.Background(), m, model.CompareOptions{Prompt: "The light", Steps: 0,
		Settings: []model.SamplingParams{{TopP: 1}, {Temperature: 1, TopP: 1}}, Seeds: []uint64{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := trace.NewComparison("", []string{"greedy", "temperature=1"}, runs)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := Compare(c, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := nb.Cells[len(nb.Cells)-1]
	if last.Kind != output.KindNote || !strings.Contains(last.Source, "generated no tokens") {
		t.Errorf("last cell %v %q", last.Kind, last.Source)
	}
}

// TestSpread: a mean and, over several seeds, the interval of the values,
// which stays readable when they are negative.
func TestSpread(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want string
	}{
		{[]float64{0.52}, "0.52"},
		{[]float64{0.41, 0.52, 0.63}, "0.52 [0.41, 0.63]"},
		{[]float64{-2.49, -1.53}, "-2.01 [-2.49, -1.53]"},
	} {
		if got := spread(c.v); got != c.want {
			t.Errorf("spread(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestCompareNumbers: the summary table's caption fits the seed count
// (one seed has no interval to promise); the perplexity column is e to the
// minus mean log-probability (the formula the page shows), with the
// seeds' own perplexities as its interval; the sentence naming the
// likeliest text states the same perplexity, and a tie for the most varied
// text names every setting that ties.
func TestCompareNumbers(t *testing.T) {
	t.Parallel()
	c := comparison(t)
	// Without greedy, whose seeds all write the same text, the likeliest
	// setting's seeds differ, and a mean of perplexities is not the
	// perplexity of the mean log-probability.
	sampled := *c
	sampled.Settings, sampled.Runs, sampled.Summaries, sampled.Diverges = c.Settings[1:], c.Runs[1:], c.Summaries[1:], c.Diverges[1:]
	one, err := c.Seed(0)
	if err != nil {
		t.Fatal(err)
	}
	// Two settings with the most varied text: the first two sampled ones,
	// their distinct-2 raised to 2 (above any real share).
	tie := sampled
	tie.Summaries = make([][]trace.Summary, len(sampled.Summaries))
	for i, row := range sampled.Summaries {
		tie.Summaries[i] = slices.Clone(row)
		for j := range row {
			if i < 2 {
				tie.Summaries[i][j].Distinct2 = 2
			}
		}
	}
	for _, tc := range []struct {
		name, caption string
		c             *trace.Comparison
		varied        string
	}{
		{"three seeds", "Per setting: mean over the 3 seeds [lowest, highest]", c, ""},
		{"three seeds, sampled settings only", "Per setting: mean over the 3 seeds [lowest, highest]", &sampled, ""},
		{"one seed", "Per setting, seed 1", one, ""},
		{"a tie for the most varied", "Per setting: mean over the 3 seeds [lowest, highest]", &tie,
			"The most varied came from **T = 0.7** and **T = 1** (distinct-2 2)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nb, err := Compare(tc.c, CompareOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var table *output.Table
			var md strings.Builder
			for _, cell := range nb.Cells {
				switch {
				case cell.Kind == output.KindTable && strings.HasPrefix(cell.Table.Caption, "Per setting"):
					table = cell.Table
				case cell.Kind == output.KindMarkdown:
					md.WriteString(cell.Source)
				}
			}
			if table == nil || !strings.HasPrefix(table.Caption, tc.caption) {
				t.Fatalf("no summary table captioned %q", tc.caption)
			}
			best, bestLP := 0, math.Inf(-1)
			for i := range tc.c.Settings {
				var lp []float64
				for _, s := range tc.c.Summaries[i] {
					lp = append(lp, s.MeanLogProb)
				}
				m := numfmt.Mean(lp)
				if want := num(math.Exp(-m), 3); !strings.HasPrefix(table.Rows[i][2], want) {
					t.Errorf("%s: perplexity %q, want e^−(mean log-prob) = %s first", tc.c.Settings[i].Spec, table.Rows[i][2], want)
				}
				if m > bestLP {
					best, bestLP = i, m
				}
			}
			if want := "perplexity " + strings.Fields(table.Rows[best][2])[0] + ")"; !strings.Contains(md.String(), want) {
				t.Errorf("the likeliest-text sentence lacks the table's %q", want)
			}
			if tc.varied != "" && !strings.Contains(md.String(), tc.varied) {
				t.Errorf("the page lacks %q", tc.varied)
			}
		})
	}
}
