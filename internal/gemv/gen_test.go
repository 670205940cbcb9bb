package gemv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
)

// TestHalfKernelsGenerated: half_amd64.s is what gen/genhalf.py writes
// now, so an edit to either cannot drift from the other.
func TestHalfKernelsGenerated(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if testref.CI() {
			t.Fatal("python3 is needed to check gen/genhalf.py's output")
		}
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	script, err := filepath.Abs(filepath.Join("gen", "genhalf.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen/genhalf.py: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "half_amd64.s"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("half_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("half_amd64.s differs from gen/genhalf.py's output: run python3 gen/genhalf.py in internal/gemv")
	}
}
