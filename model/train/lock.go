package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LockFile is the file in a run folder that a training process holds
// locked (an advisory lock, released by the system when the process ends,
// however it ends) while it reads, recovers and writes checkpoints there.
const LockFile = ".gptviz-train.lock"

// ErrBusy reports a run folder that another process holds locked.
var ErrBusy = errors.New("in use by another training process")

// Lock takes dir's training lock, creating dir and LockFile if missing,
// and returns the function that releases it. Two processes training into
// one folder would interleave their checkpoint saves and recoveries (one
// removing the other's staging folder) and leave it unresumable, so the
// second one is refused: Lock returns an error wrapping ErrBusy while
// another process (or another Lock in this one) holds it. On systems
// without flock it locks nothing.
func Lock(dir string) (release func() error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: lock: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("train: %s: %w (%s is locked)", dir, ErrBusy, path)
		}
		return nil, fmt.Errorf("train: lock %s: %w", path, err)
	}
	return f.Close, nil
}
