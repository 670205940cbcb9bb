package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/train"
)

// checkpointFolder writes the embedded default model's checkpoint files
// (without its snapshots) into a new folder and returns it.
func checkpointFolder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "m")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{arch.ConfigFile, arch.WeightsFile, arch.VocabFile, arch.MergesFile} {
		b, err := fs.ReadFile(defaultmodel.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sums returns the SHA-256 of every file in dir, by name.
func sums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][32]byte{}
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		m[e.Name()] = sha256.Sum256(b)
	}
	return m
}

func sameSums(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRenderOutSymlinkToTrace: render -o through a symbolic link to its own
// input destroyed the trace (the guard compared path strings). Files are
// compared now: a link, a hard link or another spelling of the path is
// refused before anything is written, and the trace stays as it was.
func TestRenderOutSymlinkToTrace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeTrace(t, dir)
	before, _ := os.ReadFile(in)
	link := filepath.Join(dir, "report.html")
	if err := os.Symlink("run.json", link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.html")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	for _, out := range []string{link, hard, filepath.Join(sub, "..", "run.json"), dir + "/./run.json"} {
		_, stderr, code := gptviz(t, "render", "-o", out, in)
		if code != 2 || !strings.Contains(stderr, "would overwrite "+in) {
			t.Errorf("render -o %s: exit %d, %q; want exit 2 naming the trace", out, code, stderr)
		}
	}
	if after, _ := os.ReadFile(in); !bytes.Equal(after, before) {
		t.Errorf("the trace changed: %d bytes, was %d", len(after), len(before))
	}
}

// TestFiguresOntoInput: a file in --figures that is a link to the trace
// would be replaced by a figure; it is refused before anything is written.
func TestFiguresOntoInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeTrace(t, dir)
	before, _ := os.ReadFile(in)
	figs := filepath.Join(dir, "figs")
	os.Mkdir(figs, 0o755)
	if err := os.Symlink(in, filepath.Join(figs, "prompt-probs.svg")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.html")
	_, stderr, code := gptviz(t, "render", "--figures", figs, "-o", out, in)
	if code != 2 || !strings.Contains(stderr, "--figures") || !strings.Contains(stderr, "would overwrite "+in) {
		t.Errorf("exit %d, %q; want exit 2 naming --figures and the trace", code, stderr)
	}
	if after, _ := os.ReadFile(in); !bytes.Equal(after, before) {
		t.Error("the trace changed")
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the report was written")
	}
}

// TestWriteOntoCheckpoint: generate --trace m/model.safetensors and
// report -o onto the loaded checkpoint overwrote it. One guard refuses,
// before the run, any output that is one of the checkpoint's files, by any
// name.
func TestWriteOntoCheckpoint(t *testing.T) {
	t.Parallel()
	m := checkpointFolder(t)
	before := sums(t, m)
	link := filepath.Join(filepath.Dir(m), "link.json")
	if err := os.Symlink(filepath.Join(m, arch.VocabFile), link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"generate", "--steps", "1", "--trace", filepath.Join(m, arch.WeightsFile)},
		{"generate", "--steps", "1", "--trace", link},
		{"report", "--steps", "1", "-o", filepath.Join(m, arch.ConfigFile)},
		{"report", "--steps", "1", "--format", "json", "-o", filepath.Join(m, arch.MergesFile)},
		{"report", "--steps", "1", "-o", link},
	} {
		args = append(args, "--model", m, "The light")
		_, stderr, code := gptviz(t, args...)
		if code != 2 || !strings.Contains(stderr, "would overwrite "+m) {
			t.Errorf("gptviz %q: exit %d, %q; want exit 2 naming the checkpoint file", args, code, stderr)
		}
	}
	if !sameSums(before, sums(t, m)) {
		t.Error("the checkpoint folder changed")
	}
	// Writing beside the checkpoint is fine.
	if _, stderr, code := gptviz(t, "generate", "--steps", "1", "--model", m, "--trace", filepath.Join(m, "run.json"), "The light"); code != 0 {
		t.Errorf("generate --trace beside the checkpoint: exit %d: %s", code, stderr)
	}
}

// TestReportOutMissingFolderFailsFirst: report -o into a missing folder
// failed only after the whole run. The output path is checked before the
// model is loaded.
func TestReportOutMissingFolderFailsFirst(t *testing.T) {
	// Not parallel: it replaces loadDefault.
	loaded := false
	defer func(f func() (*model.Model, error)) { loadDefault = f }(loadDefault)
	loadDefault = func() (*model.Model, error) {
		loaded = true
		return nil, errors.New("loadDefault called")
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	if err := os.WriteFile(filepath.Join(dir, "file.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"report", "-o", filepath.Join(dir, "missing", "r.html"), "x"}, "does not exist"},
		{[]string{"report", "-o", dir, "x"}, "is a folder"},
		{[]string{"report", "--format", "json", "-o", filepath.Join(dir, "missing", "t.json"), "x"}, "does not exist"},
		{[]string{"generate", "--trace", filepath.Join(dir, "missing", "t.json"), "x"}, "does not exist"},
		// Found by the hostile round: "-o ./t.json/" said the folder t.json
		// did not exist, although it exists, as a file.
		{[]string{"report", "-o", filepath.Join(dir, "file.txt") + "/", "x"}, "ends in a path separator"},
		{[]string{"report", "-o", filepath.Join(dir, "file.txt", "r.html"), "x"}, "is a file, not a folder"},
	}
	if os.Geteuid() != 0 { // root may write anywhere
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"report", "-o", filepath.Join(ro, "r.html"), "x"}, "cannot write to the folder"})
	}
	for _, tc := range cases {
		_, stderr, code := gptviz(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("gptviz %q: exit %d, %q; want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
	if loaded {
		t.Error("the model was loaded before the output path was checked")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".gptviz-check-*")); len(m) != 0 {
		t.Errorf("probe files left: %v", m)
	}
}

// cancelAfter is a context that is cancelled once its Err has been asked n
// times: a Ctrl-C that lands at a chosen point of the work. seen, if set, is
// called with the index of every check.
type cancelAfter struct {
	context.Context
	n     atomic.Int64
	calls atomic.Int64
	seen  func(i int)
}

func (c *cancelAfter) Err() error {
	if c.seen != nil {
		c.seen(int(c.calls.Add(1) - 1))
	}
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestRenderInterruptedWhileWriting: Ctrl-C was ignored while render or
// report wrote (a big trace kept writing and exited 0). The writers check
// for cancellation while the report is being written; cancelled there (or
// before), render stops, leaves no report and no temporary file, and exits
// 130.
func TestRenderInterruptedWhileWriting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeTrace(t, dir)
	for _, format := range []string{"html", "ipynb"} {
		out := filepath.Join(dir, "r."+format)
		render := func(ctx context.Context) (int, string) {
			var stdout, stderr bytes.Buffer
			code := exitCode(run(ctx, []string{"render", "--format", format, "-o", out, in}, &stdout, &stderr), &stderr)
			return code, stderr.String()
		}
		// Find the checks made while the report's temporary file exists,
		// that is while it is being written.
		var writing []int
		ctx := &cancelAfter{Context: context.Background(), seen: func(i int) {
			if m, _ := filepath.Glob(filepath.Join(dir, ".r."+format+".tmp-*")); len(m) > 0 {
				writing = append(writing, i)
			}
		}}
		ctx.n.Store(1 << 40)
		if code, stderr := render(ctx); code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		if len(writing) < 2 {
			t.Fatalf("%s: render checked for cancellation %d times while writing, want one per chunk written", format, len(writing))
		}
		os.Remove(out)
		for _, n := range []int{0, writing[0], writing[len(writing)/2], writing[len(writing)-1]} {
			ctx := &cancelAfter{Context: context.Background()}
			ctx.n.Store(int64(n))
			code, stderr := render(ctx)
			if code != 130 || !strings.Contains(stderr, "interrupted") {
				t.Errorf("%s: cancelled at check %d: exit %d, %q; want 130", format, n, code, stderr)
			}
			ents, _ := os.ReadDir(dir)
			var left []string
			for _, e := range ents {
				if e.Name() != filepath.Base(in) {
					left = append(left, e.Name())
				}
			}
			if len(left) != 0 {
				t.Errorf("%s: cancelled at check %d: files left: %v", format, n, left)
				for _, l := range left {
					os.Remove(filepath.Join(dir, l))
				}
			}
		}
	}
}

// TestTrainCorpusIsOutput: train --resume with a --corpus that is one of
// the run's own files (by any name) would replace the text it trains on;
// it is refused before training.
func TestTrainCorpusIsOutput(t *testing.T) {
	t.Parallel()
	runDir := t.TempDir()
	state := filepath.Join(runDir, train.StateFile)
	os.WriteFile(state, []byte("{}"), 0o644)
	link := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.Symlink(state, link); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := gptviz(t, "train", "--out", runDir, "--resume", "--corpus", link)
	if code != 2 || !strings.Contains(stderr, "would overwrite "+link) {
		t.Errorf("exit %d, %q; want exit 2 naming the corpus", code, stderr)
	}
	if b, _ := os.ReadFile(state); string(b) != "{}" {
		t.Errorf("the run's state changed: %q", b)
	}
}

// TestFormatFromOut: without --format, --out's extension chooses the
// format (a new user's 'report -o run.ipynb' once wrote HTML into it);
// with both, an extension of another format is a usage error that writes
// nothing.
func TestFormatFromOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		args   []string
		out    string
		code   int
		starts string // the written file's first bytes
	}{
		{[]string{"report", "--steps", "1"}, "r.ipynb", 0, "{\n \"cells\""},
		{[]string{"report", "--steps", "1"}, "r.json", 0, "{\n  \"version\""},
		{[]string{"report", "--steps", "1"}, "r.HTML", 0, "<!DOCTYPE html>"},
		{[]string{"report", "--steps", "1"}, "r.txt", 0, "<!DOCTYPE html>"}, // unknown extension: the default
		{[]string{"report", "--steps", "1", "--format", "ipynb"}, "r2.ipynb", 0, "{\n \"cells\""},
		{[]string{"report", "--steps", "1", "--format", "json"}, "r.htm", 2, ""},
		{[]string{"compare", "--steps", "1", "--seeds", "1", "--format", "json"}, "c.html", 2, ""},
		{[]string{"compare", "--steps", "1", "--seeds", "1", "--sample", "greedy"}, "c.ipynb", 0, "{\n \"cells\""},
		{[]string{"lesson", "--format", "html"}, "l.ipynb", 2, ""},
		{[]string{"lesson"}, "l.json", 2, ""}, // lesson writes no JSON
		{[]string{"report", "--steps", "1", "--figures", "SAME"}, "SAME", 2, ""},
	} {
		out := filepath.Join(dir, tc.out)
		args := append(slices.Clone(tc.args), "-o", out)
		for i, a := range args {
			if a == "SAME" {
				args[i] = out // --figures the same path as --out
			}
		}
		if tc.args[0] == "lesson" {
			args = append(args, "1")
		} else {
			args = append(args, "Hi")
		}
		_, stderr, code := gptviz(t, args...)
		if code != tc.code {
			t.Errorf("gptviz %q: exit %d, want %d; stderr:\n%s", args, code, tc.code, stderr)
			continue
		}
		b, err := os.ReadFile(out)
		if tc.code != 0 {
			if err == nil || !strings.Contains(stderr, "the extension says") && !strings.Contains(stderr, "the same path as --out") {
				t.Errorf("gptviz %q: refused, but wrote %s (%v) or did not say why: %s", args, out, err, stderr)
			}
			continue
		}
		if err != nil || !strings.HasPrefix(string(b), tc.starts) {
			t.Errorf("gptviz %q: %s starts %.20q (%v), want %q", args, tc.out, b, err, tc.starts)
		}
	}
}

// TestOutputDeviceRefusedFirst: an output that is a device is refused
// before the run (it was refused only after it, by the atomic write,
// having printed a continuation or spent seconds computing).
func TestOutputDeviceRefusedFirst(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"report", "-o", os.DevNull, "Hi"},
		{"generate", "--trace", os.DevNull, "Hi"},
		{"compare", "-o", os.DevNull, "Hi"},
	} {
		stdout, stderr, code := gptviz(t, args...)
		if code != 2 || !strings.Contains(stderr, "not a regular file") || stdout != "" {
			t.Errorf("gptviz %q: exit %d, stdout %q, stderr %q; want 2 before any output", args, code, stdout, stderr)
		}
	}
}
