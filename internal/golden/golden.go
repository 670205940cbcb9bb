// Package golden compares test output with golden files in testdata.
//
// A test calls Check (or CheckFunc, for formats such as PNG where equal
// content can differ in bytes). Running the tests with -update rewrites
// the golden files with the current output:
//
//	go test ./viz/ -run TestGoldenOptions -update
//
// On a mismatch the output is written beside the golden file as
// path+".got" (ignored by git) for diffing; on a match a stale .got file
// is removed.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

// Update is the -update flag: rewrite golden files instead of comparing.
var Update = flag.Bool("update", false, "rewrite golden files in testdata with the current output")

// Check compares got with the golden file at path, byte for byte.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	CheckFunc(t, path, got, func(want, got []byte) (bool, error) { return bytes.Equal(want, got), nil })
}

// CheckFunc compares got with the golden file at path using equal, which
// reports whether the two contents match or why they cannot be compared.
// With -update it writes got to path (creating it) instead.
func CheckFunc(t testing.TB, path string, got []byte, equal func(want, got []byte) (bool, error)) {
	t.Helper()
	gotPath := path + ".got"
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
			return
		}
		os.Remove(gotPath)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run the test with -update to create it)", err)
		return
	}
	ok, err := equal(want, got)
	if err != nil {
		t.Fatalf("compare with %s: %v", path, err)
		return
	}
	if !ok {
		if err := os.WriteFile(gotPath, got, 0o644); err != nil {
			t.Errorf("output differs from %s; could not write it for a look: %v", path, err)
			return
		}
		t.Errorf("output differs from %s; wrote %s: diff them, and rerun with -update if the change is intended", path, gotPath)
		return
	}
	os.Remove(gotPath)
}
