//go:build unix

package model

import "syscall"

// addressSpaceLimit returns the soft RLIMIT_AS (ulimit -v, prlimit --as),
// bytes; ok is false where there is none (RLIM_INFINITY) or it cannot be
// read.
func addressSpaceLimit() (limit int64, ok bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil {
		return 0, false
	}
	cur := uint64(rl.Cur)
	if cur >= 1<<63 { // RLIM_INFINITY, or past any int64 size
		return 0, false
	}
	return int64(cur), true
}
