//go:build unix

package inputfile

import (
	"errors"
	"syscall"
)

// nonblock makes opening a named pipe return at once instead of waiting for
// a writer.
const nonblock = syscall.O_NONBLOCK

// isLoop reports whether err says a path's symbolic links never end.
func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }
