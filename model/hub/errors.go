package hub

import (
	"errors"
	"strings"
)

// Errors Pull wraps, for errors.Is. Each error's message says which repo,
// file and revision it is about and what the user can do.
var (
	// ErrOffline: offline mode is on and the model is not in the cache.
	ErrOffline = errors.New("offline mode is on")
	// ErrNotFound: the hub has no such repository, revision or file.
	ErrNotFound = errors.New("not found on the hub")
	// ErrAccess: the hub answered 401 or 403; a token (HF_TOKEN) is needed
	// or lacks access.
	ErrAccess = errors.New("the hub denied access")
	// ErrIntegrity: a downloaded file's size or hash (SHA-256 for LFS
	// files, git SHA-1 for regular files) differs from what the hub
	// announced, and the partial file was deleted; or a cached file no
	// longer matches the hash its blob is named by (Pull's checks of
	// cached snapshots), and an online pull would download it again.
	ErrIntegrity = errors.New("download failed verification")
	// ErrNotGPT2: config.json is not a GPT-2 checkpoint gptviz can run
	// (model.ParseConfig rejected it); nothing else was downloaded.
	ErrNotGPT2 = errors.New("not a GPT-2 checkpoint gptviz can run")
)

// badNameError is a bad setting whose message says which setting and why
// without the generic "invalid name" of ErrBadName, which it wraps.
type badNameError struct{ msg string }

func (e *badNameError) Error() string { return e.msg }
func (e *badNameError) Unwrap() error { return ErrBadName }

// transientError marks a failure worth retrying: a network error, a dropped
// connection, HTTP 429 or 5xx.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func transient(err error) error { return &transientError{err} }

// netError is a failure to get any HTTP answer (DNS, connect, TLS, a
// dropped connection before the headers). msg, when set, replaces err's
// message.
type netError struct {
	msg string
	err error
}

func (e *netError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.err.Error()
}
func (e *netError) Unwrap() error { return e.err }

// notFoundError is a 404 (or the hub's X-Error-Code saying "not found").
// entry is set when the repository exists but the file does not.
type notFoundError struct {
	msg   string
	entry bool
}

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return ErrNotFound }

// redactedError hides a secret in an error's message while keeping its
// chain for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every occurrence of secret in its message
// replaced by "[REDACTED]".
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{strings.ReplaceAll(err.Error(), secret, "[REDACTED]"), err}
}
