//go:build !plan9

package hub

import (
	"errors"
	"runtime"
	"syscall"
)

// isRefused reports whether err is a refused TCP connection (ECONNREFUSED,
// or WSAECONNREFUSED, 10061, on Windows).
func isRefused(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == syscall.ECONNREFUSED || runtime.GOOS == "windows" && errno == 10061)
}

// isSymlinkLoop reports whether err says a path has too many levels of
// symbolic links (ELOOP).
func isSymlinkLoop(err error) bool {
	return errors.Is(err, syscall.ELOOP)
}
