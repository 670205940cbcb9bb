//go:build !unix

package model

// addressSpaceLimit reports no address-space limit: RLIMIT_AS is unix's.
func addressSpaceLimit() (limit int64, ok bool) { return 0, false }
