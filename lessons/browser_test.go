package lessons

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/output/browsertest"
	"github.com/gptviz/gptviz/viz"
	"github.com/gptviz/gptviz/viz/viztest"
)

// TestBrowserReport opens the report of the hand-made adversarial trace in
// headless Chromium, offline from file://, in both languages: no console
// errors, network requests or dialogs; every chart drawn; the step sliders
// change the step shown; screenshots written (GPTVIZ_SCREENSHOTS keeps them).
func TestBrowserReport(t *testing.T) {
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			nb, err := Report(handMade(), ReportOptions{Lang: lang})
			if err != nil {
				t.Fatal(err)
			}
			var page bytes.Buffer
			if err := output.WriteHTML(&page, nb); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "report-"+lang+".html")
			if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			p := browsertest.Open(t, path)
			if err := p.ChartsDrawn(); err != nil {
				t.Error(err)
			}
			for _, id := range []string{"next-token", "attn-new-l0-h0", "kv-time-l2-h0"} {
				var titles []string
				js := `(function (id) {
  var c = window.gptviz.charts[id], out = [];
  [0, 3].forEach(function (i) {
    c.dispatchAction({type: "timelineChange", currentIndex: i});
    out.push(c.getOption().title[0].text);
  });
  return out;
})("` + id + `")`
				if err := p.Eval(js, &titles); err != nil {
					t.Fatal(err)
				}
				if len(titles) != 2 || titles[0] == titles[1] || titles[0] == "" {
					t.Errorf("%s: moving the slider from step 1 to 4 shows titles %q", id, titles)
				}
			}
			// The playground's context at the first step ends with the token
			// the step read (at the prediction's position); the token the
			// step sampled comes after a label, outside the context.
			tr := handMade()
			var first *trace.Prediction
			for _, st := range tr.Steps {
				if st.Next != nil && st.Kind.Generates() {
					first = st.Next
					break
				}
			}
			var ctx []string
			if err := p.Eval(`Array.prototype.map.call(document.querySelectorAll(".pg-context > span"), function (s) { return s.className + "|" + s.textContent; })`, &ctx); err != nil {
				t.Fatal(err)
			}
			pg, err := viz.SamplingPlayground(tr, viz.Lang(lang))
			if err != nil {
				t.Fatal(err)
			}
			var d viz.PlaygroundData
			if err := json.Unmarshal(pg.Data, &d); err != nil {
				t.Fatal(err)
			}
			want := d.Tokens[first.Position-d.TokensFrom]
			if n := len(ctx); n < 4 || ctx[n-3] != "pg-tok|"+want || !strings.HasPrefix(ctx[n-2], "pg-context-label|") || !strings.HasPrefix(ctx[n-1], "pg-tok pg-chosen-tok|") {
				t.Errorf("playground context at step 1: %q, want it to end with %q, then a label, then the sampled token", ctx, want)
			}
			p.AssertClean(t)
			if err := p.Screenshot(browsertest.ScreenshotPath(t, "lessons-report-"+lang+".png")); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestLongPromptPageScrolls: the token-by-token table of a 1,024-token
// prompt made the page about 63,000 px tall. It now shows the 20 most
// surprising tokens and folds the whole table (<details>): the page is
// under 20,000 px in headless Chromium.
func TestLongPromptPageScrolls(t *testing.T) {
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 2048, Prompt: 1024, Steps: 3, Seed: 1})
	nb, err := Report(tr, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var folded, open int
	for _, c := range nb.Cells {
		if c.Table != nil && len(c.Table.Header) == 6 { // the token-by-token tables
			if c.Table.Folded {
				folded = len(c.Table.Rows)
			} else {
				open = len(c.Table.Rows)
			}
		}
	}
	if folded != 1024 || open != topSurprising {
		t.Errorf("token tables: %d rows open, %d folded; want %d and 1024", open, folded, topSurprising)
	}
	var page bytes.Buffer
	if err := output.WriteHTML(&page, nb); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "long.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	p := browsertest.Open(t, path)
	var h float64
	if err := p.Eval(`document.documentElement.scrollHeight`, &h); err != nil {
		t.Fatal(err)
	}
	t.Logf("1,024-token report: %d bytes, page height %.0f px", page.Len(), h)
	if h > 20000 {
		t.Errorf("page height %.0f px, want under 20,000", h)
	}
	p.AssertClean(t)
}
