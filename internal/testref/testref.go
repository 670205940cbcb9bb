// Package testref locates the shared reference data (../shared/reference
// beside the repository) for tests.
package testref

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the absolute path of ../shared/reference relative to the
// repository root (the folder holding go.mod). Where it is absent the test is
// skipped with a message saying so, except under CI (CI=true), where a
// missing reference is a failure.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("testref: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			ref := filepath.Join(dir, "..", "shared", "reference")
			if _, err := os.Stat(ref); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("testref: reference data %s is missing under CI", ref)
				}
				t.Skipf("testref: reference data %s is absent (a clone outside the project workspace); skipping", ref)
			}
			return ref
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("testref: no go.mod above %s", wd)
		}
	}
}

// Path joins elem onto Dir(t).
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}
