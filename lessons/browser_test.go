package lessons

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/output/browsertest"
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
			for _, id := range []string{"next-token", "attn-new-l0-h0"} {
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
			p.AssertClean(t)
			if err := p.Screenshot(browsertest.ScreenshotPath(t, "lessons-report-"+lang+".png")); err != nil {
				t.Error(err)
			}
		})
	}
}
