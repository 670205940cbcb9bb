package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model/trace"
)

// TestReproducibleFilesByteIdentical: HTML, ipynb and JSON reports and
// traces differed on every run because wall-clock timings were embedded.
// With --reproducible, two runs of the same command (to different files)
// write the same bytes, and the report says the timings were left out.
func TestReproducibleFilesByteIdentical(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const prompt = "The light of the Sun"
	for _, format := range []string{"html", "ipynb", "json", "trace"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			var files [2][]byte
			for i := range files {
				out := filepath.Join(dir, format+"-"+string(rune('a'+i)))
				args := []string{"report", "--reproducible", "--steps", "5", "--format", format, "-o", out, prompt}
				if format == "trace" {
					args = []string{"generate", "--reproducible", "--steps", "5", "--trace", out, prompt}
				}
				if _, stderr, code := gptviz(t, args...); code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, stderr)
				}
				files[i] = must(os.ReadFile(out))
			}
			if !bytes.Equal(files[0], files[1]) {
				t.Fatalf("two --reproducible runs differ at byte %d", firstDiff(files[0], files[1]))
			}
			if format == "html" || format == "ipynb" {
				if !bytes.Contains(files[0], []byte("left out, so that the same run writes the same files")) {
					t.Error("the report does not say the timings were left out")
				}
			}
		})
	}
}

// TestTimingsKeptWithoutReproducible: timings stay available without the
// flag, and the rerun command of a reproducible trace asks for the flag.
func TestTimingsKeptWithoutReproducible(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, repro := range []bool{false, true} {
		out := filepath.Join(dir, "run.json")
		args := []string{"generate", "--steps", "3", "--trace", out, "The light"}
		if repro {
			args = append(args[:1], append([]string{"--reproducible"}, args[1:]...)...)
		}
		if _, stderr, code := gptviz(t, args...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
		tr := must(trace.ReadFile(out))
		measured := tr.Timings.PrefillMillis > 0 && tr.Timings.DecodeMillis > 0 && tr.Steps[1].Millis > 0
		if measured == repro {
			t.Errorf("--reproducible=%v: timings %+v, step 1 %v ms", repro, tr.Timings, tr.Steps[1].Millis)
		}
		if timingsOmitted(tr) != repro {
			t.Errorf("--reproducible=%v: note %s present = %v", repro, lessons.NoteTimingsOmitted, !repro)
		}
		if r := must(rerunOfTrace(tr)); r.reproducible != repro || strings.Contains(r.command("report"), "--reproducible") != repro {
			t.Errorf("--reproducible=%v: rerun command %s", repro, r.command("report"))
		}
	}
}

// TestSourceDateEpoch: SOURCE_DATE_EPOCH set turns reproducible mode on;
// a malformed value is a usage error naming it.
func TestSourceDateEpoch(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	out := filepath.Join(dir, "run.json")
	if _, stderr, code := gptviz(t, "report", "--steps", "2", "--format", "json", "-o", out, "The light"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if tr := must(trace.ReadFile(out)); !timingsOmitted(tr) || tr.Timings != (trace.Timings{}) {
		t.Errorf("SOURCE_DATE_EPOCH set: timings %+v kept", tr.Timings)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	for _, sub := range []string{"report", "generate"} {
		_, stderr, code := gptviz(t, sub, "--steps", "1", "The light")
		if code != 2 || !strings.Contains(stderr, `SOURCE_DATE_EPOCH "yesterday"`) {
			t.Errorf("%s with a malformed SOURCE_DATE_EPOCH: exit %d, %q", sub, code, stderr)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
