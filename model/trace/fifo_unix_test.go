//go:build unix

package trace_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/trace"
)

// TestReadFileTraceFIFO: a named pipe or /dev/zero given as the trace is
// refused at once instead of blocking or reading without end.
func TestReadFileTraceFIFO(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "run.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{fifo}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths = append(paths, "/dev/zero")
	}
	for _, p := range paths {
		done := make(chan error, 1)
		go func() { _, err := trace.ReadFile(p); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, inputfile.ErrNotRegular) {
				t.Errorf("%s: error %v, want ErrNotRegular", p, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ReadFile blocked", p)
		}
	}
}
