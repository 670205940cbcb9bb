package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/output/browsertest"
)

func TestLessonsList(t *testing.T) {
	t.Parallel()
	ls, err := lessons.Lessons()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "zh"} {
		stdout, stderr, code := gptviz(t, "lessons", "--lang", lang)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, l := range ls {
			if !strings.Contains(stdout, l.ID) || !strings.Contains(stdout, l.Title(lang)) {
				t.Errorf("%s: list lacks %s %q:\n%s", lang, l.ID, l.Title(lang), stdout)
			}
		}
	}
}

func TestLessonUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lesson"}, "want exactly one lesson"},
		{[]string{"lesson", "nope"}, `no lesson "nope" (the lessons are 1 working-memory`},
		{[]string{"lesson", "--lang", "fr", "1"}, `--lang "fr"`},
		{[]string{"lesson", "--format", "json", "1"}, `--format "json"`},
		{[]string{"lesson", "-o", dir, "1"}, "is a folder"},
		{[]string{"lessons", "-o", dir}, "--out: only with --all"},
		{[]string{"lessons", "x"}, "takes no arguments"},
		{[]string{"lessons", "--all", "--lang", "de"}, `--lang "de"`},
	} {
		_, stderr, code := gptviz(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestLessonDeterministic renders one lesson twice (HTML and ipynb): the
// same bytes, with the run's exact command and the lesson's model in the
// try-it commands.
func TestLessonDeterministic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, format := range []string{"html", "ipynb"} {
		var pages [2][]byte
		for i := range pages {
			out := filepath.Join(dir, format+string(rune('a'+i)))
			if _, stderr, code := gptviz(t, "lesson", "--format", format, "-o", out, "1"); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			pages[i], _ = os.ReadFile(out)
		}
		if !bytes.Equal(pages[0], pages[1]) {
			t.Errorf("%s: two renderings differ", format)
		}
		if !bytes.Contains(pages[0], []byte("gptviz report --steps 12 --temperature 0")) {
			t.Errorf("%s: the run's command is missing", format)
		}
	}
}

// TestLessonReproducible: lesson 7 shows the times it measures, so two
// renderings differ, unless --reproducible (or SOURCE_DATE_EPOCH) leaves
// them out; then the bytes are the same and the FLOPs remain.
func TestLessonReproducible(t *testing.T) {
	dir := t.TempDir()
	render := func(name string, args ...string) []byte {
		out := filepath.Join(dir, name)
		if _, stderr, code := gptviz(t, append(append([]string{"lesson", "-o", out}, args...), "kv-cache")...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, _ := os.ReadFile(out)
		return b
	}
	timed := render("timed.html")
	if !bytes.Contains(timed, []byte("milliseconds (measured)")) {
		t.Error("lesson 7 without --reproducible shows no measured times")
	}
	a, b := render("a.html", "--reproducible"), render("b.html", "--reproducible")
	if !bytes.Equal(a, b) {
		t.Error("two --reproducible renderings of lesson 7 differ")
	}
	if bytes.Contains(a, []byte("milliseconds (measured)")) || !bytes.Contains(a, []byte(`id="cache-flops"`)) {
		t.Error("--reproducible: want the FLOPs and no measured times")
	}
	t.Setenv("SOURCE_DATE_EPOCH", "0")
	if c := render("c.html"); !bytes.Equal(a, c) {
		t.Error("SOURCE_DATE_EPOCH=0 does not render as --reproducible does")
	}
}

// siteLessons writes the whole site for model ("" is the default) into a
// new folder and returns it.
func siteLessons(t testing.TB, model string, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	args := append([]string{"lessons", "--all", "-o", dir}, extra...)
	if model != "" {
		args = append(args, "--model", model)
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "lessons: 1/") {
		t.Errorf("no progress on stderr: %q", errb.String())
	}
	return dir
}

// sitePages returns every HTML page of a site folder.
func sitePages(t testing.TB, dir string) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(dir, "*", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(dir, "index.html")}, pages...)
}

// checkSite checks that every lesson is there in both languages, linked
// from the index and to its neighbours, and offline.
func checkSite(t *testing.T, dir string) {
	t.Helper()
	ls, err := lessons.Lessons()
	if err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "zh"} {
		for i, l := range ls {
			page, err := os.ReadFile(filepath.Join(dir, lang, l.Name()+".html"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(index, []byte(`href="`+lang+"/"+l.Name()+`.html"`)) {
				t.Errorf("index does not link %s/%s", lang, l.Name())
			}
			if i+1 < len(ls) && !bytes.Contains(page, []byte(`href="`+ls[i+1].Name()+`.html"`)) {
				t.Errorf("%s/%s does not link the next lesson", lang, l.Name())
			}
			for _, bad := range []string{`src="http`, `href="http`, "class=\"math-error\"", "{{"} {
				if bytes.Contains(page, []byte(bad)) {
					t.Errorf("%s/%s contains %q", lang, l.Name(), bad)
				}
			}
		}
	}
}

func TestLessonsSiteDefaultModel(t *testing.T) {
	t.Parallel()
	checkSite(t, siteLessons(t, ""))
}

func TestLessonsSiteTinyRandom(t *testing.T) {
	t.Parallel()
	dir, ok := testref.Lookup(t, "gpt2-tiny-random")
	if !ok {
		t.Skip("../shared/reference is absent")
	}
	checkSite(t, siteLessons(t, dir))
}

// TestBrowserLessonsSite opens every page of the site (default model) in
// headless Chromium, offline: no console errors or network requests,
// every chart drawn, MathML present on every lesson page, answers folded.
func TestBrowserLessonsSite(t *testing.T) {
	dir := siteLessons(t, "")
	for _, path := range sitePages(t, dir) {
		name, _ := filepath.Rel(dir, path)
		t.Run(name, func(t *testing.T) {
			p := browsertest.Open(t, path)
			p.AssertClean(t)
			if name == "index.html" {
				return
			}
			if err := p.ChartsDrawn(); err != nil {
				t.Error(err)
			}
			var counts [2]int
			if err := p.Eval(`[document.querySelectorAll("math").length, document.querySelectorAll("details:not([open])").length]`, &counts); err != nil {
				t.Fatal(err)
			}
			if counts[0] == 0 || counts[1] < 2 {
				t.Errorf("%d formulas, %d folded answers: want some and ≥ 2", counts[0], counts[1])
			}
			if strings.HasSuffix(name, "01-working-memory.html") {
				if err := p.Screenshot(browsertest.ScreenshotPath(t, "lesson-"+strings.ReplaceAll(name, string(filepath.Separator), "-")+".png")); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// BenchmarkLessonsSite renders the whole site, both languages, on the
// default model (runs included) and reports its total size.
func BenchmarkLessonsSite(b *testing.B) {
	var size int64
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "site")
		if err := run(context.Background(), []string{"lessons", "--all", "-o", dir}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
		size = 0
		for _, p := range sitePages(b, dir) {
			fi, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			size += fi.Size()
		}
	}
	b.ReportMetric(float64(size), "site-bytes")
}
