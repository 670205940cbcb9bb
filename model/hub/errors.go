package hub

import (
	"errors"
	"fmt"
	"strings"
)

// Errors Resolve and Pull wrap, for errors.Is. Each error's message says
// which repo, file and revision it is about and what is wrong, in this
// package's words (options, environment variables); the errors a program
// may turn into its own advice (the command that downloads a model, the
// flag that turned offline mode on) are also types with the facts as
// fields, for errors.As: *NotCachedError, *OfflineError, *DamagedError,
// *EndpointError and *UnreachableError.
var (
	// ErrOffline: offline mode is on and the model is not in the cache
	// (an *OfflineError).
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

// NotCachedError reports that a model name (not a local folder) is not
// completely in the Hugging Face cache: no models--… folder for any of its
// repo ids, no refs/<Revision>, or a snapshot with missing or unusable
// files. It wraps ErrNotCached. Pull downloads what is missing; a program
// may tell its user how to run it.
type NotCachedError struct {
	Name     string   // the model name as given to Resolve or Pull
	Repos    []string // the repo ids looked for, as RepoIDs(Name) returns them
	Revision string   // the revision looked for; never "" (DefaultRevision when none was given)
	Cache    string   // the hub cache folder looked in
	Problems []string // what is wrong with each snapshot found, if any
}

func (e *NotCachedError) Error() string {
	folders := make([]string, len(e.Repos))
	for i, r := range e.Repos {
		folders[i] = RepoFolder(r)
	}
	repo := e.Name
	if len(e.Repos) > 0 {
		repo = e.Repos[0]
	}
	msg := fmt.Sprintf("%v: %s (revision %s) is not in %s (looked for %s)", ErrNotCached, repo, e.Revision, e.Cache, strings.Join(folders, ", "))
	if len(e.Problems) > 0 {
		msg += ": " + strings.Join(e.Problems, "; ")
	}
	return msg
}

// Unwrap returns ErrNotCached.
func (e *NotCachedError) Unwrap() error { return ErrNotCached }

// OfflineError reports that Pull may not use the network (offline mode)
// and the cache cannot serve the model. It wraps ErrOffline and Err.
type OfflineError struct {
	Name string // the model name as given to Pull
	// Option reports that PullOptions.Offline turned offline mode on.
	Option bool
	// Env is the environment variable that turned it on ("HF_HUB_OFFLINE"),
	// or "" when that is unset or false. Both may be set.
	Env string
	Err error // why the cache cannot serve the model: a *NotCachedError
}

func (e *OfflineError) Error() string {
	on := ErrOffline.Error()
	if e.Env != "" {
		on += " (set by " + e.Env + ")"
	}
	return fmt.Sprintf("%s, so %s cannot be downloaded: %v", on, e.Name, e.Err)
}

// Unwrap returns ErrOffline and Err.
func (e *OfflineError) Unwrap() []error { return []error{ErrOffline, e.Err} }

// DamagedError reports files of a cached snapshot whose contents no longer
// hash to the name of their blob (see Pull). It wraps ErrIntegrity. A Pull
// with network access downloads them again.
type DamagedError struct {
	Name     string   // the model name as given to Pull
	Repo     string   // the repo id the snapshot was found under
	Revision string   // the revision asked for
	Snapshot string   // the snapshot folder
	Files    []string // each damaged file and what is wrong with it ("model.safetensors: its 1000 bytes have …")
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("%s (revision %s) in the cache is damaged (snapshot %s): %s",
		e.Repo, e.Revision, e.Snapshot, strings.Join(e.Files, "; "))
}

// Unwrap returns ErrIntegrity.
func (e *DamagedError) Unwrap() error { return ErrIntegrity }

// EndpointSource says where Pull's endpoint came from.
type EndpointSource int

const (
	EndpointDefault EndpointSource = iota // DefaultEndpoint
	EndpointEnv                           // $HF_ENDPOINT
	EndpointOption                        // PullOptions.Endpoint
)

// String names the source in messages: "the default endpoint",
// "HF_ENDPOINT", "the endpoint".
func (s EndpointSource) String() string {
	switch s {
	case EndpointEnv:
		return "HF_ENDPOINT"
	case EndpointOption:
		return "the endpoint"
	}
	return "the default endpoint"
}

// EndpointError reports an endpoint that is not an http(s) base URL. It
// wraps ErrBadName.
type EndpointError struct {
	Endpoint string         // the value as given
	Source   EndpointSource // EndpointEnv or EndpointOption
	Problem  string         // such as "not an http(s) URL such as https://huggingface.co"
}

func (e *EndpointError) Error() string {
	from := "endpoint"
	if e.Source == EndpointEnv {
		from = e.Source.String()
	}
	return fmt.Sprintf("%s %q: %s", from, e.Endpoint, e.Problem)
}

// Unwrap returns ErrBadName.
func (e *EndpointError) Unwrap() error { return ErrBadName }

// UnreachableError reports that Pull got no answer from the hub (an
// unknown host, a refused connection, a failed TLS handshake, a connection
// dropped before the headers), after its retries. Its message ends with
// what to check, naming the endpoint's source. It wraps Err.
type UnreachableError struct {
	Endpoint string         // the hub's base URL
	Source   EndpointSource // where Endpoint came from
	Err      error          // what failed, with the file it was about
}

func (e *UnreachableError) Error() string {
	if e.Source == EndpointDefault {
		return fmt.Sprintf("%v; check the network connection, or set HF_ENDPOINT to a reachable mirror", e.Err)
	}
	return fmt.Sprintf("%v; check the network connection and %s (%s)", e.Err, e.Source, e.Endpoint)
}

// Unwrap returns Err.
func (e *UnreachableError) Unwrap() error { return e.Err }

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
