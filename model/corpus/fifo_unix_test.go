//go:build unix

package corpus

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gptviz/gptviz/internal/inputfile"
)

// TestReadFileFIFO: train --corpus on a named pipe blocked forever (and
// swallowed Ctrl-C); it is refused at once.
func TestReadFileFIFO(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "corpus.txt")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := ReadFile(fifo, 1); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, inputfile.ErrNotRegular) {
			t.Fatalf("error %v, want ErrNotRegular", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile blocked on a named pipe")
	}
}
