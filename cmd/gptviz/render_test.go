package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tracepkg "github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/output/browsertest"
	"github.com/gptviz/gptviz/viz/viztest"
)

// writeTrace saves a synthetic trace (adversarial token strings) as JSON
// and returns its path.
func writeTrace(t *testing.T, dir string) string {
	t.Helper()
	tr := viztest.Trace(viztest.Options{Prompt: 10, Steps: 4, NLayer: 2, NHead: 3, Seed: 1})
	path := filepath.Join(dir, "run.json")
	if err := output.WriteFileAtomic(context.Background(), path, func(w io.Writer) error { return output.WriteJSON(w, tr) }); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trace := writeTrace(t, dir)

	// Default: run.html beside the trace, its path printed.
	stdout, stderr, code := gptviz(t, "render", trace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	html := filepath.Join(dir, "run.html")
	if strings.TrimSpace(stdout) != html {
		t.Errorf("stdout %q, want the path %s", stdout, html)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", `<html lang="en">`, `data-chart="`, "__f__alert(1)__f__"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(string(page), "<script>alert") || strings.Contains(string(page), "<b>x</b>") {
		t.Error("report holds a token unescaped")
	}

	// ipynb in Chinese, figures.
	nbPath := filepath.Join(dir, "zh.ipynb")
	figs := filepath.Join(dir, "figs")
	stdout, stderr, code = gptviz(t, "render", "--format", "ipynb", "--lang", "zh", "-o", nbPath, "--figures", figs, "--layers", "1", "--heads", "0,2", "--focus", "1,2", trace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.TrimSpace(stdout) != nbPath {
		t.Errorf("stdout %q, want the path %s", stdout, nbPath)
	}
	svgs, _ := filepath.Glob(filepath.Join(figs, "*.svg"))
	pngs, _ := filepath.Glob(filepath.Join(figs, "*.png"))
	if len(svgs) == 0 || len(pngs) == 0 {
		t.Errorf("figures: %d SVG and %d PNG files in %s", len(svgs), len(pngs), figs)
	}
	var nb struct {
		NBFormat int `json:"nbformat"`
		Cells    []struct {
			CellType string `json:"cell_type"`
		} `json:"cells"`
	}
	b, err := os.ReadFile(nbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &nb); err != nil || nb.NBFormat != 4 || len(nb.Cells) == 0 {
		t.Errorf("ipynb: nbformat %d, %d cells, %v", nb.NBFormat, len(nb.Cells), err)
	}
	if !strings.Contains(string(b), `"image/png"`) {
		t.Error("ipynb has no chart image")
	}

	// json re-writes the trace, with the command rebuilt from its settings
	// (TestRenderJSONDropsStoredCommand) and nothing else changed.
	again := filepath.Join(dir, "again.json")
	if _, stderr, code := gptviz(t, "render", "--format", "json", "-o", again, trace); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a, err := tracepkg.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tracepkg.ReadFile(again)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Settings.Command, "gptviz report ") {
		t.Errorf("re-written command %q, want a gptviz report command", c.Settings.Command)
	}
	a.Settings.Command, c.Settings.Command = "", ""
	ja, _ := json.Marshal(a)
	jc, _ := json.Marshal(c)
	if string(ja) != string(jc) {
		t.Error("render --format json does not give back the same trace")
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trace := writeTrace(t, dir)
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"render"}, 2, "exactly one TRACE.json"},
		{[]string{"render", "--format", "pdf", trace}, 2, `--format "pdf"`},
		{[]string{"render", "--lang", "fr", trace}, 2, `--lang "fr"`},
		{[]string{"render", "--focus", "1", trace}, 2, "--focus [1]: want LAYER,HEAD"},
		{[]string{"render", "--layers", "7", trace}, 2, "--layers 7"},
		{[]string{"render", "--focus", "0,9", trace}, 2, "--focus 0,9"},
		{[]string{"render", "--format", "json", trace}, 2, "would overwrite " + trace + ", which this command reads"},
		{[]string{"render", "page.html"}, 2, "page.html already has the extension .html that the output would get: render reads a trace (.json)"},
		{[]string{"render", filepath.Join(dir, "missing.json")}, 1, "missing.json"},
		{[]string{"render", write("empty.json", "")}, 1, "empty.json"},
		{[]string{"render", write("list.json", "[1]")}, 1, "list.json"},
		{[]string{"render", write("noversion.json", "{}")}, 1, "version 0"},
		{[]string{"render", write("v9.json", `{"version":9}`)}, 1, "version 9"},
		{[]string{"render", write("two.json", string(must(os.ReadFile(trace)))+"{}")}, 1, "after the trace"},
		{[]string{"render", write("badfield.json", `{"version":1,"tokens":"x"}`)}, 1, "badfield.json"},
		{[]string{"render", write("unknown.json", `{"version":1,"colour":"x"}`)}, 1, "unknown field"},
		{[]string{"render", write("neg.json", `{"version":1,"model":{"config":{"n_layer":-1}}}`)}, 1, "neg.json"},
	} {
		_, stderr, code := gptviz(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("gptviz %q: exit %d, stderr %q; want exit %d with %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	// A failed render leaves an existing report untouched.
	out := write("keep.html", "old report")
	if _, _, code := gptviz(t, "render", "-o", out, write("bad.json", `{"version":9}`)); code != 1 {
		t.Errorf("exit %d", code)
	}
	if b, _ := os.ReadFile(out); string(b) != "old report" {
		t.Errorf("existing report changed to %.40q", b)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRenderBrowser opens a rendered report of a trace whose tokens are
// script payloads in headless Chromium, offline: no console errors, no
// alert, no request, every chart drawn, the step slider moves, and the
// tokens show as text.
func TestRenderBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	dir := t.TempDir()
	trace := writeTrace(t, dir)
	if _, stderr, code := gptviz(t, "render", trace); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p := browsertest.Open(t, filepath.Join(dir, "run.html"))
	if err := p.ChartsDrawn(); err != nil {
		t.Error(err)
	}
	// Every chart with a timeline moves to its last step when asked.
	var moved []string
	if err := p.Eval(`Object.keys(gptviz.charts).filter(function (id) {
  var c = gptviz.charts[id], tl = c.getOption().timeline;
  if (!tl || !tl.length || tl[0].data.length < 2) return false;
  var last = tl[0].data.length - 1;
  c.dispatchAction({ type: "timelineChange", currentIndex: last });
  return c.getOption().timeline[0].currentIndex === last;
})`, &moved); err != nil {
		t.Fatal(err)
	}
	if len(moved) == 0 {
		t.Error("no chart has a step slider that moves")
	}
	var chips []string
	if err := p.Eval(`Array.prototype.map.call(document.querySelectorAll(".chip"), function (e) { return e.textContent; })`, &chips); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(chips, "")
	for _, tok := range []string{"␣</script>", "__f__alert(1)__f__", "␣<b>x</b>", "␣工作", "␣🦊"} {
		if !strings.Contains(joined, tok) {
			t.Errorf("token %q not shown as text in the chips %q", tok, chips)
		}
	}
	if err := p.Screenshot(browsertest.ScreenshotPath(t, "render-report.png")); err != nil {
		t.Error(err)
	}
	p.AssertClean(t)
}

// FuzzRender feeds arbitrary trace files to render: bad input must give an
// error, never a panic, and a report written must be a page.
func FuzzRender(f *testing.F) {
	tr := viztest.Trace(viztest.Options{Prompt: 3, Steps: 1, NLayer: 1, NHead: 1, Seed: 2})
	good, err := json.Marshal(tr)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"prompt_len":5,"tokens":[{"id":1}]}`))
	f.Add([]byte(`{"version":1,"model":{"config":{"n_layer":-1,"n_head":0}},"steps":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		in := filepath.Join(dir, "t.json")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "t.html")
		done := make(chan int, 1)
		go func() {
			_, _, code := gptviz(t, "render", "-o", out, in)
			done <- code
		}()
		var code int
		select {
		case code = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("render still running after 20 s on %q", data)
		}
		if code == 0 {
			b, err := os.ReadFile(out)
			if err != nil || !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
				t.Errorf("render succeeded but wrote no page (%v)", err)
			}
		}
	})
}
