package output

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
	"github.com/gptviz/gptviz/output/browsertest"
)

// writePage writes nb as HTML into a temporary folder and returns the path.
func writePage(t *testing.T, nb *Notebook, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := WriteFileAtomic(context.Background(), path, func(w io.Writer) error { return WriteHTML(w, nb) }); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserSample opens the sample notebook offline in Chromium: no
// console errors or network requests, every chart drawn, the timeline moves,
// and a screenshot is written ($GPTVIZ_SCREENSHOTS/output-sample.png to keep
// it).
func TestBrowserSample(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	p := browsertest.Open(t, writePage(t, sampleNotebook(t), "sample.html"))
	if err := p.ChartsDrawn(); err != nil {
		t.Error(err)
	}
	if err := p.ChartsDrawn("prob-bar", "attn-heatmap", "step-slider", "attn-grid-png", "static-svg"); err != nil {
		t.Error(err)
	}
	if err := p.ChartsDrawn("no-such-chart"); err == nil {
		t.Error("ChartsDrawn accepted a chart that does not exist")
	}

	// The timeline slider changes the shown step.
	var step int
	move := `(function () {
  var c = gptviz.charts["step-slider"];
  c.dispatchAction({ type: "timelineChange", currentIndex: 2 });
  return c.getOption().timeline[0].currentIndex;
})()`
	if err := p.Eval(move, &step); err != nil {
		t.Fatal(err)
	}
	if step != 2 {
		t.Errorf("timeline at step %d after moving it to 2", step)
	}
	var title string
	if err := p.Eval(`gptviz.charts["step-slider"].getOption().title[0].text`, &title); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "step 3") {
		t.Errorf("shown title %q after moving to step 3", title)
	}

	// Chinese is drawn with real glyphs in the page's font stack: each
	// character must look different from a character no font has (a
	// private-use code point, drawn as the "tofu" box).
	var tofu []string
	if err := p.Eval(`(function () {
  var font = "32px " + getComputedStyle(document.body).fontFamily;
  function pixels(ch) {
    var c = document.createElement("canvas");
    c.width = 48; c.height = 48;
    var x = c.getContext("2d");
    x.font = font; x.fillStyle = "#000"; x.fillText(ch, 4, 36);
    return Array.prototype.join.call(x.getImageData(0, 0, 48, 48).data, ",");
  }
  var none = pixels("\uE000");
  return Array.prototype.filter.call("中文说明词元", function (ch) { return pixels(ch) === none; });
})()`, &tofu); err != nil {
		t.Fatal(err)
	}
	shot := browsertest.ScreenshotPath(t, "output-sample.png")
	if err := p.Screenshot(shot); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", shot)
	p.AssertClean(t)

	if len(tofu) > 0 {
		msg := fmt.Sprintf("no glyphs for %q in the page's fonts: install a CJK font (Debian: fonts-wqy-microhei or fonts-noto-cjk)", tofu)
		if !testref.CI() {
			// The page is right; this machine lacks the font. CI
			// installs it and fails here instead.
			t.Skip(msg)
		}
		t.Error(msg)
	}
}

// TestBrowserAdversarial opens a page whose every text holds script
// payloads: nothing runs (no alert), nothing is requested, the chart is
// drawn with the payloads as labels, and its tooltip shows them as text.
func TestBrowserAdversarial(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	p := browsertest.Open(t, writePage(t, adversarialNotebook(t), "adversarial.html"))
	if err := p.ChartsDrawn(); err != nil {
		t.Error(err)
	}
	// Labels reach ECharts unchanged.
	var labels []string
	if err := p.Eval(`gptviz.charts["evil"].getOption().xAxis[0].data`, &labels); err != nil {
		t.Fatal(err)
	}
	if strings.Join(labels, "|") != strings.Join(payloads, "|") {
		t.Errorf("axis labels in the browser:\n%q\nwant\n%q", labels, payloads)
	}
	// Show the tooltip of each bar; ECharts renders tooltips as HTML, so
	// check that no element came from a label.
	var tip struct {
		Text     string
		Elements []string
	}
	show := `new Promise(function (resolve) {
  var c = gptviz.charts["evil"];
  var n = c.getOption().xAxis[0].data.length, i = 0, els = [], text = "";
  function tipEl() {
    return Array.prototype.filter.call(document.querySelectorAll("#evil div"), function (d) {
      return d.style.position === "absolute" && d.textContent.length > 0;
    }).pop();
  }
  (function next() {
    var el = tipEl();
    if (el) {
      text = el.textContent;
      Array.prototype.forEach.call(el.querySelectorAll("*"), function (e) { els.push(e.tagName.toLowerCase()); });
    }
    if (i < n) { c.dispatchAction({ type: "showTip", seriesIndex: 0, dataIndex: i++ }); setTimeout(next, 50); return; }
    resolve({ Text: text, Elements: els });
  })();
})`
	if err := p.Eval(show, &tip); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tip.Text, "{b}<br/>{c}") {
		t.Errorf("tooltip text %q lacks the last label shown as text", tip.Text)
	}
	for _, e := range tip.Elements {
		if e == "img" || e == "script" || e == "br" {
			t.Errorf("tooltip contains a <%s> element made from a label", e)
		}
	}
	// Chips and table show the payloads as text.
	var chips []string
	if err := p.Eval(`Array.prototype.map.call(document.querySelectorAll(".chip"), function (e) { return e.textContent; })`, &chips); err != nil {
		t.Fatal(err)
	}
	if strings.Join(chips, "|") != strings.Join(payloads, "|") {
		t.Errorf("chips in the browser:\n%q\nwant\n%q", chips, payloads)
	}
	var imgs int
	if err := p.Eval(`document.querySelectorAll("img:not(.static)").length`, &imgs); err != nil {
		t.Fatal(err)
	}
	if imgs != 0 {
		t.Errorf("%d <img> elements came from text", imgs)
	}
	if err := p.Screenshot(browsertest.ScreenshotPath(t, "output-adversarial.png")); err != nil {
		t.Error(err)
	}
	p.AssertClean(t)
}

// TestBrowserCSP shows the page's Content-Security-Policy at work: a script
// injected at run time does not run, and a remote image is not loaded, even
// if some text had escaped the escaping.
func TestBrowserCSP(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	p := browsertest.Open(t, writePage(t, &Notebook{Cells: []Cell{MarkdownCell("csp")}}, "csp.html"))
	var ran bool
	if err := p.Eval(`(function () {
  var s = document.createElement("script");
  s.textContent = "window.__ran = true";
  document.body.appendChild(s);
  var d = document.createElement("div");
  d.innerHTML = '<img src="x" onerror="window.__ran = true">';
  document.body.appendChild(d);
  var i = document.createElement("img");
  i.src = "https://example.com/x.png";
  document.body.appendChild(i);
  return new Promise(function (r) { setTimeout(function () { r(window.__ran === true); }, 300); });
})()`, &ran); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("an injected script or handler ran despite the CSP")
	}
	// The browser reports the image request (and its blocking); the console
	// says why.
	errs := strings.Join(p.ConsoleErrors(), "\n")
	for _, want := range []string{"Executing inline script violates", "Executing inline event handler violates", "Loading the image 'https://example.com/x.png' violates"} {
		if !strings.Contains(errs, want) {
			t.Errorf("console errors lack %q:\n%s", want, errs)
		}
	}
}
