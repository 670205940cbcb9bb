//go:build !unix

package inputfile

// nonblock is 0 where opening cannot be made non-blocking; Open checks the
// file type before opening.
const nonblock = 0

// isLoop reports whether err says a path's symbolic links never end: off
// unix the loop is reported as the system's own error.
func isLoop(err error) bool { return false }
