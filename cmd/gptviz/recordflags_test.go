package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

// defaultConfig is the embedded default model's config.
func defaultConfig(t *testing.T) arch.Config {
	t.Helper()
	c, err := model.ReadConfigFS(defaultmodel.FS(), defaultmodel.Name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestKVFlagsBadValues: a bad --kv-rows, --kv-focus or --lens-positions, on report or
// generate --trace, is a usage error (exit 2) naming the flag and the value,
// found before any work; on generate they need --trace.
func TestKVFlagsBadValues(t *testing.T) {
	t.Parallel()
	tracePath := filepath.Join(t.TempDir(), "t.json")
	c := defaultConfig(t)
	L, H := c.NLayer, c.NHead
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--kv-rows", "-1"}, "--kv-rows -1: must be ≥ 0"},
		{[]string{"report", "--kv-rows", "many"}, "kv-rows"},
		{[]string{"report", "--kv-focus", "1"}, "--kv-focus 1: want LAYER,HEAD"},
		{[]string{"report", "--kv-focus", "1,2,3"}, "--kv-focus 1,2,3: want LAYER,HEAD"},
		{[]string{"report", "--kv-focus", "a,b"}, "kv-focus"},
		{[]string{"report", "--kv-focus", fmt.Sprintf("%d,0", L)}, fmt.Sprintf("--kv-focus %d,0: the model has layers 0..%d and heads 0..%d", L, L-1, H-1)},
		{[]string{"report", "--kv-focus", fmt.Sprintf("0,%d", H)}, fmt.Sprintf("--kv-focus 0,%d: the model has layers 0..%d", H, L-1)},
		{[]string{"report", "--kv-focus", "-1,0"}, "--kv-focus -1,0"},
		{[]string{"generate", "--trace", tracePath, "--kv-rows", "-5"}, "--kv-rows -5"},
		{[]string{"generate", "--trace", tracePath, "--kv-focus", "0,9"}, "--kv-focus 0,9: the model has"},
		{[]string{"generate", "--kv-rows", "8"}, "--kv-rows: records into the trace; give --trace FILE too"},
		{[]string{"generate", "--kv-focus", "0,1"}, "--kv-focus: records into the trace"},
		{[]string{"report", "--lens-positions", "0"}, "--lens-positions 0: must be ≥ 1"},
		{[]string{"report", "--lens-positions", "x"}, "lens-positions"},
		{[]string{"generate", "--trace", tracePath, "--lens-positions", "-2"}, "--lens-positions -2: must be ≥ 1"},
		{[]string{"generate", "--lens-positions", "4"}, "--lens-positions: records into the trace"},
	} {
		args := append(slices.Clone(tc.args), "--steps", "1", "x")
		if tc.args[0] == "report" {
			args = append(args[:len(args)-1], "-o", filepath.Join(t.TempDir(), "r.html"), "x")
		}
		_, stderr, code := gptviz(t, args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 naming %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestKVFlagsRecorded: --kv-rows and --kv-focus reach the trace (the focus
// head's rows, at most N a step; with 0 only the norms) and its command
// line, from report and from generate --trace.
func TestKVFlagsRecorded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	L := defaultConfig(t).NLayer
	for _, tc := range []struct {
		args        []string
		rows        int
		layer, head int
		line        string // in the recorded command line
	}{
		{[]string{"report", "--format", "json", "--kv-rows", "3", "--kv-focus", "2,1"}, 3, 2, 1, "--kv-rows 3 --kv-focus 2,1"},
		{[]string{"report", "--format", "json", "--kv-rows", "0"}, 0, L - 1, 0, "--kv-rows 0"},
		{[]string{"generate", "--kv-rows", "2", "--kv-focus", "0,3", "--trace"}, 2, 0, 3, "gptviz generate"},
	} {
		out := filepath.Join(dir, tc.args[0]+tc.args[len(tc.args)-1]+".json")
		args := slices.Clone(tc.args)
		if args[0] == "report" {
			args = append(args, "-o")
		}
		args = append(args, out, "--steps", "2", "--reproducible", "the quick brown fox jumps over the lazy dog")
		if _, stderr, code := gptviz(t, args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", tc.args, code, stderr)
		}
		tr, err := trace.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(tr.Settings.Command, tc.line) || tc.args[0] == "generate" && !strings.Contains(tr.Settings.Command, "--kv-rows 2 --kv-focus 0,3") {
			t.Errorf("%q: command line %q lacks %q", tc.args, tr.Settings.Command, tc.line)
		}
		for i, s := range tr.Steps {
			w := s.KVWrite
			if w == nil {
				t.Fatalf("%q: step %d has no KVWrite", tc.args, i)
			}
			if w.Layer != tc.layer || w.Head != tc.head || len(w.Keys) != min(w.N, tc.rows) || len(w.KeyNorm) != L {
				t.Errorf("%q: step %d recorded layer %d head %d, %d full rows of %d, %d layers of norms; want layer %d head %d, %d rows",
					tc.args, i, w.Layer, w.Head, len(w.Keys), w.N, len(w.KeyNorm), tc.layer, tc.head, min(w.N, tc.rows))
			}
		}
	}
}

// TestKVFlagsRerunDefaults: values equal to the defaults (256 rows; the
// last layer, head 0; 16 lens positions) are left out of the command line; --kv-rows 0 is kept.
func TestKVFlagsRerunDefaults(t *testing.T) {
	t.Parallel()
	c := arch.Config{NLayer: 12, NHead: 12}
	for _, tc := range []struct {
		f    recordFlags
		want []string
	}{
		{recordFlags{rows: defaultKVRows, lens: model.DefaultLensQueries}, nil},
		{recordFlags{rows: defaultKVRows, lens: model.DefaultLensQueries, focus: []int{11, 0}}, nil},
		{recordFlags{rows: 0, lens: model.DefaultLensQueries}, []string{"--kv-rows", "0"}},
		{recordFlags{rows: 1000, lens: model.DefaultLensQueries, focus: []int{11, 1}}, []string{"--kv-rows", "1000", "--kv-focus", "11,1"}},
		{recordFlags{rows: defaultKVRows, lens: model.DefaultLensQueries, focus: []int{0, 0}}, []string{"--kv-focus", "0,0"}},
		{recordFlags{rows: defaultKVRows, lens: 64}, []string{"--lens-positions", "64"}},
	} {
		if got := tc.f.view(rerun{}, c).kvArgs(); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: arguments %q, want %q", tc.f, got, tc.want)
		}
	}
}

// TestLensPositionsRecorded: --lens-positions bounds the prefill's logit
// lens rows in the trace and is in its command line.
func TestLensPositionsRecorded(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "r.json")
	prompt := "the quick brown fox jumps over the lazy dog"
	if _, stderr, code := gptviz(t, "report", "--format", "json", "--lens-positions", "3", "-o", out, "--steps", "1", "--reproducible", prompt); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	tr, err := trace.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pre := tr.Steps[0]
	if len(pre.LogitLens[0]) != 3 || pre.LensStart != pre.NQuery-3 || !strings.Contains(tr.Settings.Command, "--lens-positions 3") {
		t.Errorf("prefill of %d rows: %d lens rows from %d, command %q; want 3 rows and --lens-positions 3", pre.NQuery, len(pre.LogitLens[0]), pre.LensStart, tr.Settings.Command)
	}
}
