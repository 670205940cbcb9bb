package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output/browsertest"
)

// adversarialPrompt holds text that would become live code if any layer
// forgot to escape: closing script tags, go-echarts' __f__ function
// markers, HTML, quotes, ampersands, Chinese, emoji and a newline.
const adversarialPrompt = "</script><script>alert(1)</script> __f__alert(2)__f__ <img src=x onerror=alert(3)> \"q\" & 你好，世界 🙂\nnext"

func TestReportFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, format := range []string{"html", "ipynb", "json"} {
		out := filepath.Join(dir, "r."+format)
		stdout, stderr, code := gptviz(t, "report", "--steps", "4", "--format", format, "-o", out, adversarialPrompt)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		if strings.TrimSpace(stdout) != out {
			t.Errorf("%s: printed %q, want the path %s", format, stdout, out)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		switch format {
		case "html":
			for _, bad := range []string{"<script>alert", "<img src=x", `src="http`, `href="http`, `src='http`, `href='http`} {
				if bytes.Contains(data, []byte(bad)) {
					t.Errorf("html contains %q", bad)
				}
			}
		case "ipynb":
			var nb struct {
				NBFormat int               `json:"nbformat"`
				Cells    []json.RawMessage `json:"cells"`
			}
			if err := json.Unmarshal(data, &nb); err != nil || nb.NBFormat != 4 || len(nb.Cells) < 10 {
				t.Errorf("ipynb: nbformat %d, %d cells, %v", nb.NBFormat, len(nb.Cells), err)
			}
		case "json":
			tr, err := trace.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Prompt != adversarialPrompt || len(tr.Steps) != 5 {
				t.Errorf("trace: prompt %q, %d steps", tr.Prompt, len(tr.Steps))
			}
		}
	}
}

// TestRenderDeterministic renders one saved trace twice: the pages must be
// byte for byte equal (fixed chart ids, no timestamps), and --figures
// writes one SVG and one PNG per chart.
func TestRenderDeterministic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trace := filepath.Join(dir, "run.json")
	if _, stderr, code := gptviz(t, "generate", "--steps", "3", "--trace", trace, "The light"); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	var pages [2][]byte
	for i := range pages {
		out := filepath.Join(dir, "page.html")
		args := []string{"render", "--lang", "zh", "-o", out, trace}
		if i == 1 {
			args = append(args[:1], append([]string{"--figures", filepath.Join(dir, "figs")}, args[1:]...)...)
		}
		if _, stderr, code := gptviz(t, args...); code != 0 {
			t.Fatalf("render: %s", stderr)
		}
		pages[i], _ = os.ReadFile(out)
	}
	if !bytes.Equal(pages[0], pages[1]) {
		t.Error("rendering the same trace twice gave different pages")
	}
	svgs, _ := filepath.Glob(filepath.Join(dir, "figs", "*.svg"))
	pngs, _ := filepath.Glob(filepath.Join(dir, "figs", "*.png"))
	if len(svgs) < 5 || len(svgs) != len(pngs) {
		t.Errorf("--figures wrote %d SVG and %d PNG files", len(svgs), len(pngs))
	}
}

// TestReportKeepsOldFileOnError checks that a failing report leaves an
// existing output file untouched and that bad flags exit 2.
func TestReportKeepsOldFileOnError(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "r.html")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--focus", "9,0"}, 2, "--focus 9,0"},
		{[]string{"--layers", "7"}, 2, "--layers 7"},
		{[]string{"--heads", "-1"}, 2, "--heads -1"},
		{[]string{"--figures", "FIGURES=OUT"}, 2, "--figures"},
		{[]string{"--focus", "1"}, 2, "--focus"},
		{[]string{"--lang", "fr"}, 2, "--lang"},
		{[]string{"--format", "pdf"}, 2, "--format"},
		{[]string{"--max-attention", "0"}, 2, "--max-attention"},
		{[]string{"--top-p", "1.5"}, 2, "--top-p"},
	} {
		if len(tc.args) == 2 && tc.args[1] == "FIGURES=OUT" {
			tc.args = []string{"--figures", out} // a file, not a folder
		}
		args := append([]string{"report", "--steps", "2", "-o", out}, tc.args...)
		_, stderr, code := gptviz(t, append(args, "x")...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if data, _ := os.ReadFile(out); string(data) != "old" {
			t.Fatalf("%v: the old report was changed", tc.args)
		}
	}
	if _, stderr, code := gptviz(t, "render", "-o", out, "/no/such/trace.json"); code != 1 || !strings.Contains(stderr, "trace.json") {
		t.Errorf("render of a missing trace: exit %d, %q", code, stderr)
	}
	// A figures folder that cannot be made is found before the report is
	// replaced (regression: --figures failed after -o was written).
	dir := filepath.Dir(out)
	blocker := filepath.Join(dir, "blocker")
	os.WriteFile(blocker, []byte("x"), 0o644)
	if _, stderr, code := gptviz(t, "report", "--steps", "1", "-o", out, "--figures", filepath.Join(blocker, "figs"), "x"); code == 0 {
		t.Errorf("--figures under a file succeeded: %s", stderr)
	}
	if data, _ := os.ReadFile(out); string(data) != "old" {
		t.Fatal("a failing --figures replaced the report")
	}
	// -o "" and --trace into a missing folder are usage errors, before any work.
	if _, stderr, code := gptviz(t, "report", "-o", "", "x"); code != 2 || !strings.Contains(stderr, "--out") {
		t.Errorf(`-o "": exit %d, %q`, code, stderr)
	}
	if _, stderr, code := gptviz(t, "generate", "--trace", "/no/such/dir/t.json", "x"); code != 2 || !strings.Contains(stderr, "--trace") {
		t.Errorf("--trace into a missing folder: exit %d, %q", code, stderr)
	}
}

// TestRenderRefusesSpecialFiles: a FIFO or an empty file is refused at once
// (regression: a FIFO hung render forever).
func TestRenderRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "f.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, nil, 0o644)
	for path, want := range map[string]string{fifo: "not a regular file", empty: "empty file", dir: "not a regular file"} {
		_, stderr, code := gptviz(t, "render", "-o", filepath.Join(dir, "o.html"), path)
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("render %s: exit %d, %q; want 1 and %q", path, code, stderr, want)
		}
	}
}

// TestReportInBrowser opens a real report in headless Chromium, offline:
// no console errors, no alert fired by the adversarial prompt, every chart
// drawn, the step slider moves, and a screenshot is written.
func TestReportInBrowser(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.html")
	if _, stderr, code := gptviz(t, "report", "--steps", "6", "--temperature", "0.8", "--top-k", "20", "-o", out, adversarialPrompt); code != 0 {
		t.Fatalf("report: %s", stderr)
	}
	p := browsertest.Open(t, out)
	if err := p.ChartsDrawn(); err != nil {
		t.Error(err)
	}
	p.AssertClean(t)
	var titles [2]string
	for i, step := range []int{0, 3} {
		js := `(function () {
  var c = gptviz.charts["next-token"];
  c.dispatchAction({ type: "timelineChange", currentIndex: ` + string(rune('0'+step)) + ` });
  var o = c.getOption();
  return o.timeline[0].currentIndex + ":" + o.title[0].text;
})()`
		if err := p.Eval(js, &titles[i]); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(titles[i], string(rune('0'+step))+":") {
			t.Errorf("slider at %q after moving it to %d", titles[i], step)
		}
	}
	if titles[0] == titles[1] {
		t.Errorf("moving the step slider did not change the shown step: %q", titles[0])
	}
	var text string
	if err := p.Eval(`document.body.innerText`, &text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"</script>", "__f__alert(2)__f__", "你好", "🙂"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	if err := p.Screenshot(browsertest.ScreenshotPath(t, "report.png")); err != nil {
		t.Error(err)
	}
}
