package lessons

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gptviz/gptviz/internal/i18n/i18ntest"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/output/browsertest"
	"github.com/gptviz/gptviz/viz/viztest"
)

func TestPlaygroundTexts(t *testing.T) {
	t.Parallel()
	i18ntest.Check(t, pgTexts, regexp.MustCompile(`pt\("([a-z.]+)"`), "playground.go")
}

// TestPlaygroundCells: the cells for any trace with recorded logits, the
// caller's ID and heading, a note (not an error) for a trace without
// logits, and errors for bad options.
func TestPlaygroundCells(t *testing.T) {
	t.Parallel()
	tr := handMade()
	kinds := func(cs []output.Cell) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Kind.String())
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		name  string
		tr    *trace.Trace
		opt   PlaygroundOptions
		kinds string
		id    string
	}{
		{"defaults", tr, PlaygroundOptions{}, "markdown code playground", "sampling-playground"},
		{"own id and heading", tr, PlaygroundOptions{Lang: "zh", ID: "pg-run-2", Heading: "### 设置 2"}, "markdown code playground", "pg-run-2"},
		{"no heading", tr, PlaygroundOptions{Heading: "-"}, "markdown code playground", "sampling-playground"},
		{"no logits recorded", viztest.Trace(viztest.Options{Steps: 3}), PlaygroundOptions{}, "markdown note", ""},
		{"no steps", viztest.Trace(viztest.Options{Steps: 0, TopLogits: 8}), PlaygroundOptions{Heading: "-"}, "note", ""},
	} {
		cs, err := Playground(tc.tr, tc.opt)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := kinds(cs); got != tc.kinds {
			t.Errorf("%s: cells %q, want %q", tc.name, got, tc.kinds)
		}
		nb := &output.Notebook{Lang: tc.opt.Lang, Cells: cs}
		if err := nb.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		for _, c := range cs {
			if c.Playground != nil && c.Playground.ID != tc.id {
				t.Errorf("%s: id %q, want %q", tc.name, c.Playground.ID, tc.id)
			}
		}
		switch h := tc.opt.Heading; {
		case h == "-" && strings.HasPrefix(cs[0].Source, "#"):
			t.Errorf("%s: a heading, want none: %q", tc.name, cs[0].Source)
		case h != "-" && h != "" && !strings.HasPrefix(cs[0].Source, h+"\n"):
			t.Errorf("%s: first cell %q, want the heading %q", tc.name, cs[0].Source, h)
		}
	}
	// The text states the run's settings and what was recorded.
	cs, err := Playground(tr, PlaygroundOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"temperature 1, top-k 3, top-p off", "only the 32 highest logits of the 50257 tokens", "each of its 5 decode steps"} {
		if !strings.Contains(cs[0].Source, want) {
			t.Errorf("text lacks %q:\n%s", want, cs[0].Source)
		}
	}
	for _, bad := range []PlaygroundOptions{{ID: "Bad ID"}, {Lang: "fr"}} {
		if _, err := Playground(tr, bad); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: error %v, want an option error", bad, err)
		}
	}
	if _, err := Playground(nil, PlaygroundOptions{}); err == nil {
		t.Error("nil trace: no error")
	}
}

// sampleRun is one recorded run of the default model with every filter on
// (top-k 20 ≤ the 256 recorded logits, so the page is exact at its own
// settings), shared by the tests.
var sampleRun = sync.OnceValues(func() (*trace.Trace, error) {
	m, err := defaultmodel.Load()
	if err != nil {
		return nil, err
	}
	return model.Run(context.Background(), m, model.RunOptions{
		Prompt: "The Rays of Light are", Steps: 6, Seed: 7,
		Sampling: model.SamplingParams{Temperature: 0.8, TopK: 20, TopP: 0.9},
	})
})

// ulps is the distance between two non-negative float64s in units in the
// last place.
func ulps(a, b float64) uint64 {
	x, y := math.Float64bits(a), math.Float64bits(b)
	if x > y {
		return x - y
	}
	return y - x
}

// pgState is what the page's playground computed (window.gptvizPlayground
// …state()).
type pgState struct {
	Step        int       `json:"step"`
	Temperature float64   `json:"temperature"`
	TopK        int       `json:"top_k"`
	TopP        float64   `json:"top_p"`
	N           int       `json:"n"`
	Exact       bool      `json:"exact"`
	KeptK       int       `json:"keptK"`
	KeptP       int       `json:"keptP"`
	Tempered    []float64 `json:"tempered"`
	Final       []float64 `json:"final"`
	Entropy     float64   `json:"entropy"`
	ChosenRank  int       `json:"chosenRank"`
}

// setSliders moves the playground's sliders as a reader does (value, then
// an input event) and returns the state the page computed.
const setSliders = `(function (id, stepIndex, t, k, p) {
  function move(name, v) {
    var input = document.getElementById(id + "-" + name);
    input.value = String(v);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }
  move("step", stepIndex);
  move("temperature", t);
  move("top-k", k);
  move("top-p", p);
  return window.gptvizPlayground.playgrounds[id].state();
})`

// TestBrowserPlaygroundMatchesSampler opens a report of a real run of the
// default model offline in Chromium, moves the playground's sliders to
// several settings at every step and compares what the page computed with
// model.Sampler on the same recorded logits: probabilities within 4 ulp,
// entropy within 1e-12 relative, and exactly the same survivors after
// top-k and top-p. At the run's own settings the page also matches what
// the run's sampler did over the whole vocabulary (top-k 20 ≤ 256
// recorded). The page has no console errors, the bars change with the
// sliders, and a screenshot is written (GPTVIZ_SCREENSHOTS keeps it).
func TestBrowserPlaygroundMatchesSampler(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	tr, err := sampleRun()
	if err != nil {
		t.Fatal(err)
	}
	nb, err := Report(tr, ReportOptions{Commands: testCommands})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "playground.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := output.WriteHTML(f, nb); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p := browsertest.Open(t, path)
	settings := []model.SamplingParams{
		{Temperature: 0.8, TopK: 20, TopP: 0.9}, // the run's
		{Temperature: 0, TopP: 1},               // greedy
		{Temperature: 1, TopP: 1},               // plain softmax over the recorded tokens
		{Temperature: 0.5, TopK: 5, TopP: 1},
		{Temperature: 1.35, TopP: 0.6},
		{Temperature: 1, TopK: 40, TopP: 0.95},
		{Temperature: 0.05, TopK: 256, TopP: 0.3},
		{Temperature: 2, TopK: 1, TopP: 1}, // top-k 1 = greedy
	}
	var steps []trace.Step
	for _, st := range tr.Steps {
		if st.Next != nil && st.Kind.Generates() {
			steps = append(steps, st)
		}
	}
	if len(steps) != 6 {
		t.Fatalf("%d decode steps, want 6", len(steps))
	}
	checked := 0
	for si, st := range steps {
		tl := st.Next.Logits
		for _, sp := range settings {
			var got pgState
			js := fmt.Sprintf("%s(%q, %d, %v, %d, %v)", setSliders, "sampling-playground", si, sp.Temperature, sp.TopK, sp.TopP)
			if err := p.Eval(js, &got); err != nil {
				t.Fatal(err)
			}
			where := fmt.Sprintf("step %d, %+v", st.Index, sp)
			if got.Step != st.Index || got.Temperature != sp.Temperature || got.TopK != sp.TopK || got.TopP != sp.TopP {
				t.Fatalf("%s: the page shows step %d, T %v, top-k %d, top-p %v", where, got.Step, got.Temperature, got.TopK, got.TopP)
			}
			s, err := model.NewSampler(sp, 1)
			if err != nil {
				t.Fatal(err)
			}
			// The sampler on the recorded logits, indexed by rank (the
			// recorded order is the sampler's).
			r, err := s.Sample(append([]float32(nil), tl.Values...))
			if err != nil {
				t.Fatal(err)
			}
			if got.KeptK != r.KeptTopK || got.KeptP != r.KeptTopP {
				t.Errorf("%s: page keeps %d then %d, sampler %d then %d", where, got.KeptK, got.KeptP, r.KeptTopK, r.KeptTopP)
			}
			if len(got.Final) != len(tl.IDs) || len(got.Tempered) != len(tl.IDs) {
				t.Fatalf("%s: page has %d probabilities, want %d", where, len(got.Final), len(tl.IDs))
			}
			for i := range tl.IDs {
				if d := ulps(got.Tempered[i], r.Tempered[i]); d > 4 {
					t.Errorf("%s: rank %d: tempered %v in the page, %v in Go (%d ulp)", where, i+1, got.Tempered[i], r.Tempered[i], d)
				}
				if d := ulps(got.Final[i], r.Final(i)); d > 4 {
					t.Errorf("%s: rank %d: final %v in the page, %v in Go (%d ulp)", where, i+1, got.Final[i], r.Final(i), d)
				}
			}
			if d := math.Abs(got.Entropy - r.SampleEntropy); d > 1e-12*math.Max(1, r.SampleEntropy) {
				t.Errorf("%s: entropy %v in the page, %v in Go", where, got.Entropy, r.SampleEntropy)
			}
			wantExact := sp.Temperature == 0 || sp.TopK > 0 && sp.TopK <= len(tl.IDs)
			if got.Exact != wantExact {
				t.Errorf("%s: the page says exact = %v, want %v", where, got.Exact, wantExact)
			}
			checked++
		}
		// At the run's settings the page reproduces the run's own sampler
		// (whole vocabulary): survivors and the sampled probabilities.
		var got pgState
		js := fmt.Sprintf("%s(%q, %d, 0.8, 20, 0.9)", setSliders, "sampling-playground", si)
		if err := p.Eval(js, &got); err != nil {
			t.Fatal(err)
		}
		fs := st.Next.Filters
		if len(fs) != 3 || got.KeptK != fs[1].Kept || got.KeptP != fs[2].Kept {
			t.Errorf("step %d: page keeps %d then %d, the run %+v", st.Index, got.KeptK, got.KeptP, fs)
		}
		for i, c := range st.Next.Top {
			if d := math.Abs(got.Final[i] - c.SampleProb); d > 1e-13 {
				t.Errorf("step %d: %q: page %v, the run sampled with %v", st.Index, c.Display, got.Final[i], c.SampleProb)
			}
		}
		if got.ChosenRank < 0 || tl.IDs[got.ChosenRank] != st.Next.Chosen.ID {
			t.Errorf("step %d: the page marks rank %d, the run sampled id %d", st.Index, got.ChosenRank+1, st.Next.Chosen.ID)
		}
	}
	t.Logf("compared %d step × setting pairs with model.Sampler", checked)

	// Hand-made logits (in the sampler's order) at the filters' edges:
	// the page's sampler keeps what model.Sampler keeps.
	for _, tc := range []struct {
		name         string
		logits       []float32
		sp           model.SamplingParams
		keptK, keptP int
	}{
		{"top-p mass exactly p", []float32{0, 0, 0, 0}, model.SamplingParams{Temperature: 1, TopP: 0.5}, 4, 2},
		{"top-p mass exactly p, 3 of 8", []float32{0, 0, 0, 0, 0, 0, 0, 0}, model.SamplingParams{Temperature: 1, TopP: 0.375}, 8, 3},
		{"top-p just above a boundary", []float32{0, 0, 0, 0}, model.SamplingParams{Temperature: 1, TopP: 0.5000001}, 4, 3},
		{"top-p just below a boundary", []float32{0, 0, 0, 0}, model.SamplingParams{Temperature: 1, TopP: 0.4999999}, 4, 2},
		{"top-p 1 is off", []float32{0, 0, -100, -100}, model.SamplingParams{Temperature: 1, TopP: 1}, 4, 4},
		{"first token alone above p", []float32{8, 0, 0, 0}, model.SamplingParams{Temperature: 1, TopP: 0.9}, 4, 1},
		{"first token alone above a tiny p", []float32{3, 2, 1, 0}, model.SamplingParams{Temperature: 1, TopP: 1e-9}, 4, 1},
		{"top-p after top-k, renormalised", []float32{0, 0, 0, 0}, model.SamplingParams{Temperature: 1, TopK: 2, TopP: 0.5}, 2, 1},
		{"top-k cuts a tie", []float32{2, 2, 2, 1, 0}, model.SamplingParams{Temperature: 1, TopK: 2, TopP: 1}, 2, 2},
		{"greedy with a tie", []float32{5, 5, 5, 2}, model.SamplingParams{Temperature: 0, TopK: 3, TopP: 0.2}, 1, 1},
		{"top-k 1", []float32{3.25, 3.24, 3.2, 1, 0.5, -2}, model.SamplingParams{Temperature: 1, TopK: 1, TopP: 1}, 1, 1},
		{"T → 0", []float32{3.25, 3.24, 3.2, 1, 0.5, -2}, model.SamplingParams{Temperature: 1e-3, TopP: 1}, 6, 6},
		{"T large", []float32{3.25, 3.24, 3.2, 1, 0.5, -2}, model.SamplingParams{Temperature: 100, TopK: 4, TopP: 0.7}, 4, 3},
	} {
		var got pgState
		js := fmt.Sprintf("window.gptvizPlayground.sample(%s, %v, %d, %v)", jsArray(tc.logits), tc.sp.Temperature, tc.sp.TopK, tc.sp.TopP)
		if err := p.Eval(js, &got); err != nil {
			t.Fatal(err)
		}
		s, err := model.NewSampler(tc.sp, 1)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Sample(tc.logits)
		if err != nil {
			t.Fatal(err)
		}
		if got.KeptK != tc.keptK || got.KeptP != tc.keptP || r.KeptTopK != tc.keptK || r.KeptTopP != tc.keptP {
			t.Errorf("%s: page keeps %d then %d, sampler %d then %d, want %d then %d", tc.name, got.KeptK, got.KeptP, r.KeptTopK, r.KeptTopP, tc.keptK, tc.keptP)
		}
		var sum float64
		for i := range tc.logits {
			sum += got.Final[i]
			if d := ulps(got.Final[i], r.Final(i)); d > 4 {
				t.Errorf("%s: rank %d: %v in the page, %v in Go", tc.name, i+1, got.Final[i], r.Final(i))
			}
		}
		if math.Abs(sum-1) > 1e-15 {
			t.Errorf("%s: the page's distribution sums to %v", tc.name, sum)
		}
	}

	// The bars move with the sliders, and removed candidates say why.
	bars := `(function () {
  var rows = document.querySelectorAll("#sampling-playground tbody tr[data-rank]");
  return Array.prototype.map.call(rows, function (r) { return r.lastChild.textContent + "|" + (r.lastChild.querySelector(".pg-fill") || {style: {}}).style.width; });
})()`
	var before, after []string
	if err := p.Eval(fmt.Sprintf("%s(%q, 0, 1, 0, 1)", setSliders, "sampling-playground"), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(bars, &before); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(fmt.Sprintf("%s(%q, 0, 0.5, 3, 1)", setSliders, "sampling-playground"), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(bars, &after); err != nil {
		t.Fatal(err)
	}
	if len(before) < 4 || len(after) != len(before) || before[0] == after[0] || !strings.Contains(after[3], "removed by top-k") {
		t.Errorf("bars at T 1: %q; at T 0.5, top-k 3: %q", before, after)
	}
	p.AssertClean(t)
	// Screenshots of the playground itself: at the run's settings on step
	// 3, and with the sliders moved (top-p removing, top-k off: the page
	// says it is approximate).
	for _, shot := range []struct{ name, settings string }{
		{"lessons-playground.png", "2, 0.8, 20, 0.9"},
		{"lessons-playground-moved.png", "2, 1.35, 0, 0.6"},
	} {
		if err := p.Eval(fmt.Sprintf("%s(%q, %s)", setSliders, "sampling-playground", shot.settings), nil); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(p.Context(), chromedp.Screenshot("#sampling-playground"))
		if err != nil {
			t.Fatal(err)
		}
		path := browsertest.ScreenshotPath(t, shot.name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Error(err)
		}
	}
}

// jsArray writes float32 logits as a JavaScript array of their exact
// values.
func jsArray(xs []float32) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 64))
	}
	return b.String() + "]"
}

// TestPlaygroundDirective: ::playground in a lesson source renders the
// run's playground; a bad id is an error naming the line.
func TestPlaygroundDirective(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 16, Prompt: 5, Steps: 3, Seed: 1, TopLogits: 8})
	for _, tc := range []struct{ src, id, heading, err string }{
		{"::playground\n", "sampling-playground", "", ""},
		{"::playground id=second heading=\"### Try it\"\n", "second", "### Try it", ""},
		{"::playground id=Bad\n", "", "", "f.md:7"},
		{"::playground extra\n", "", "", "unexpected argument"},
	} {
		src, err := parseSource("f.md", []byte(front+tc.src))
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		l := &Lesson{ID: "f", Number: 1, Runs: src.front.runs}
		l.src = [2]*source{src, src}
		runs := map[string]*Run{}
		for _, r := range src.front.runs {
			runs[r] = &Run{Trace: tr, Command: "gptviz report x"}
		}
		nb, err := l.Render(LessonOptions{Runs: runs})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.src, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		id, heading := "", false
		for _, c := range nb.Cells {
			if c.Playground != nil {
				id = c.Playground.ID
			}
			heading = heading || c.Kind == output.KindMarkdown && strings.HasPrefix(c.Source, "### Try it\n")
		}
		if id != tc.id || heading != (tc.heading != "") {
			t.Errorf("%q: playground %q, heading %v; want %q, %q", tc.src, id, heading, tc.id, tc.heading)
		}
	}
}
