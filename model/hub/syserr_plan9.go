//go:build plan9

package hub

import "strings"

// isRefused reports whether err is a refused connection; Plan 9 has no
// errno values, only messages.
func isRefused(err error) bool {
	return strings.Contains(err.Error(), "connection refused")
}

// isSymlinkLoop reports false: Plan 9 has no symbolic links.
func isSymlinkLoop(error) bool { return false }
