package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
)

// TestRenderSavedVersion1Trace renders a trace saved by gptviz before the
// Trace contract moved into model/trace (testdata/trace-v1-2026-12.json,
// written by `gptviz generate --steps 2 --trace` on the embedded model at
// commit f15329c): saved traces keep rendering in every format, and a
// trace of another version is refused with a message that names both
// versions.
func TestRenderSavedVersion1Trace(t *testing.T) {
	t.Parallel()
	const saved = "testdata/trace-v1-2026-12.json"
	dir := t.TempDir()
	for _, format := range []string{"html", "ipynb", "json"} {
		out := filepath.Join(dir, "run."+format)
		if _, stderr, code := gptviz(t, "render", "--format", format, "-o", out, saved); code != 0 {
			t.Fatalf("render --format %s: exit %d: %s", format, code, stderr)
		}
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Errorf("render --format %s wrote nothing: %v", format, err)
		}
	}
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	v2 := filepath.Join(dir, "v2.json")
	if err := os.WriteFile(v2, []byte(strings.Replace(string(data), `"version": 1,`, `"version": 2,`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := gptviz(t, "render", "-o", filepath.Join(dir, "v2.html"), v2)
	if code == 0 || !strings.Contains(stderr, "version 2") || !strings.Contains(stderr, "reads version 1") {
		t.Errorf("a version-2 trace: exit %d, stderr %q; want a failure naming version 2 and the version this gptviz reads", code, stderr)
	}
}

// TestRenderJSONDropsStoredCommand: render --format json copied a crafted
// trace's settings.command ("rm -rf / ; $(id)") into the trace it wrote,
// giving it fresh gptviz provenance. The written trace carries the command
// rebuilt from the checked settings instead.
func TestRenderJSONDropsStoredCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/trace-v1-2026-12.json")
	if err != nil {
		t.Fatal(err)
	}
	var tr map[string]any
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	tr["settings"].(map[string]any)["command"] = "rm -rf / ; $(id)"
	crafted, _ := json.Marshal(tr)
	in := filepath.Join(dir, "crafted.json")
	if err := os.WriteFile(in, crafted, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	if _, stderr, code := gptviz(t, "render", "--format", "json", "-o", out, in); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, err := trace.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Settings.Command; strings.Contains(c, "rm -rf") || !strings.HasPrefix(c, "gptviz report --steps 2 ") {
		t.Errorf("written trace's command %q, want the rebuilt gptviz report command", c)
	}
}
