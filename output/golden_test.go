package output

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// checkGolden compares got with testdata/name.golden. With -update it
// rewrites the file; on a mismatch it writes testdata/name.got beside it
// for diffing and fails.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./output -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gotPath := filepath.Join("testdata", name+".got")
		_ = os.WriteFile(gotPath, got, 0o644)
		t.Errorf("%s differs from %s; diff them, and run go test ./output -update if the change is intended", gotPath, path)
		return
	}
	os.Remove(filepath.Join("testdata", name+".got"))
}
