// Package testref locates, for tests, the shared reference data
// (../shared/reference beside the repository) and the embedded default
// model's checkpoint folder, and says whether the tests run under CI.
//
// Only tests that compare with the independent reference values may need
// ../shared/reference: everything else runs on a plain clone, with the
// default model where it needs a real model.
package testref

import (
	"os"
	"path/filepath"
	"testing"
)

// CI reports whether the tests run under CI, that is the environment
// variable CI is exactly "true" (.ci/run sets it). Under CI whatever a test
// would otherwise skip for lack of it — ../shared/reference, a browser, a
// CJK font — is a failure instead. Any other value (unset, "", "1",
// "false") is not CI.
func CI() bool { return os.Getenv("CI") == "true" }

// Root returns the repository root: the nearest folder at or above the
// working directory that holds go.mod. It fails t if there is none.
func Root(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("testref: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("testref: no go.mod above %s", wd)
		}
	}
}

// Lookup returns the path of elem under ../shared/reference and true when
// the reference folder exists. Where it is absent Lookup fails t under CI
// and otherwise returns "", false (with a log line), so that a test can
// still run its cases that need no reference.
func Lookup(t testing.TB, elem ...string) (string, bool) {
	t.Helper()
	ref := filepath.Join(Root(t), "..", "shared", "reference")
	if _, err := os.Stat(ref); err != nil {
		if CI() {
			t.Fatalf("testref: reference data %s is missing under CI=true", ref)
		}
		t.Logf("testref: reference data %s is absent (a clone outside the project workspace); its cases are left out", ref)
		return "", false
	}
	return filepath.Join(append([]string{ref}, elem...)...), true
}

// Dir returns the absolute path of ../shared/reference relative to the
// repository root (the folder holding go.mod). Where it is absent the test
// is skipped with a message saying so, except under CI (CI=true), where a
// missing reference is a failure. Call it only from tests that compare with
// the reference values.
func Dir(t testing.TB) string {
	t.Helper()
	ref := filepath.Join(Root(t), "..", "shared", "reference")
	if _, err := os.Stat(ref); err != nil {
		if CI() {
			t.Fatalf("testref: reference data %s is missing under CI=true", ref)
		}
		t.Skipf("testref: reference data %s is absent (a clone outside the project workspace); skipping this comparison with the reference values", ref)
	}
	return ref
}

// Path joins elem onto Dir(t).
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}

// DefaultModelDir returns the checkpoint folder of the default model that
// package model/defaultmodel embeds (config.json, model.safetensors,
// vocab.json, merges.txt): for tests of the packages that defaultmodel
// itself imports (model, bpe, hub), which cannot import it.
func DefaultModelDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(t), "model", "defaultmodel", "gptviz-default")
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Fatalf("testref: the default model's checkpoint: %v", err)
	}
	return dir
}
