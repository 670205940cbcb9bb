package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
