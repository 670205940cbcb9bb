//go:build unix

package train

import (
	"errors"
	"testing"
)

// TestLock: a second Lock on a folder fails with ErrBusy until the first
// is released (two 'gptviz train --resume' on one folder once left it
// unresumable).
func TestLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(dir); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Lock: %v, want ErrBusy", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	again, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	again()
}
