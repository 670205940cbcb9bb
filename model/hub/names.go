package hub

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultRevision is the branch Resolve and Pull use when no revision is given.
const DefaultRevision = "main"

// knownModels maps the short names of the GPT-2 family to their current repo
// ids on the hub. The hub redirects the short names to these ids, and Python
// tools cache under whichever of the two the user typed, so both are looked
// up.
var knownModels = []struct{ short, repo string }{
	{"gpt2", "openai-community/gpt2"},
	{"gpt2-medium", "openai-community/gpt2-medium"},
	{"gpt2-large", "openai-community/gpt2-large"},
	{"gpt2-xl", "openai-community/gpt2-xl"},
	{"distilgpt2", "distilbert/distilgpt2"},
}

// KnownModels returns the short names of the GPT-2 checkpoints gptviz knows
// by name (gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2), in order of
// size.
func KnownModels() []string {
	names := make([]string, len(knownModels))
	for i, k := range knownModels {
		names[i] = k.short
	}
	return names
}

// ErrBadName reports a model name or revision that is not a valid Hugging
// Face repo id or git revision, or an endpoint that is not an http(s) URL:
// input the user must correct (a usage error). Every such error from
// RepoIDs, ValidateRevision, Resolve and Pull wraps it.
var ErrBadName = errors.New("invalid name")

// RepoIDs validates a model name and returns the repo ids under which it may
// be stored, the name as given first. A known short name and its current repo
// id map to each other: RepoIDs("gpt2") is ["gpt2", "openai-community/gpt2"]
// and RepoIDs("distilbert/distilgpt2") is ["distilbert/distilgpt2",
// "distilgpt2"]. Any other valid repo id ("org/name" or "name") maps to
// itself.
//
// A repo id follows huggingface_hub's validate_repo_id: at most one "/", each
// part at most 96 bytes of ASCII letters, digits, "_", "-" and ".", starting
// and ending with a letter, digit or "_", with no "--" or "..". Anything else
// (paths, "..", absolute paths, spaces, control characters) is an error
// wrapping ErrBadName.
func RepoIDs(name string) ([]string, error) {
	if err := validateRepoID(name); err != nil {
		return nil, err
	}
	for _, k := range knownModels {
		switch name {
		case k.short:
			return []string{k.short, k.repo}, nil
		case k.repo:
			return []string{k.repo, k.short}, nil
		}
	}
	return []string{name}, nil
}

func validateRepoID(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: model %q is not a Hugging Face repo id (org/name): %s", ErrBadName, name, why)
	}
	if name == "" {
		return bad("it is empty")
	}
	if len(name) > 96 {
		return bad("it is longer than 96 characters")
	}
	parts := strings.Split(name, "/")
	if len(parts) > 2 {
		return bad(`it has more than one "/"`)
	}
	if strings.Contains(name, "--") || strings.Contains(name, "..") {
		return bad(`it contains "--" or ".."`)
	}
	for _, p := range parts {
		if p == "" {
			return bad("a part is empty")
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !isWordByte(c) && c != '-' && c != '.' {
				return bad(fmt.Sprintf("character %q is not allowed", c))
			}
		}
		if !isWordByte(p[0]) || !isWordByte(p[len(p)-1]) {
			return bad(`a part starts or ends with "-" or "."`)
		}
	}
	return nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// ValidateRevision checks a git revision given by the user: a branch or tag
// name (such as "main", "v1.0" or "refs/pr/1") or a commit hash. It allows
// ASCII letters, digits, "_", "-", "." and "/", at most 255 bytes, and follows
// git's check-ref-format where it matters for file paths: no "..", no empty
// or "."-leading path component, no leading or trailing "/", no ".lock"
// suffix. Errors wrap ErrBadName.
func ValidateRevision(rev string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: revision %q: %s", ErrBadName, rev, why)
	}
	if rev == "" {
		return bad("it is empty")
	}
	if len(rev) > 255 {
		return bad("it is longer than 255 characters")
	}
	for i := 0; i < len(rev); i++ {
		c := rev[i]
		if !isWordByte(c) && c != '-' && c != '.' && c != '/' {
			return bad(fmt.Sprintf("character %q is not allowed", c))
		}
	}
	if strings.Contains(rev, "..") {
		return bad(`it contains ".."`)
	}
	if strings.HasSuffix(rev, ".lock") {
		return bad(`it ends with ".lock"`)
	}
	for _, p := range strings.Split(rev, "/") {
		if p == "" {
			return bad(`it has an empty path component (leading, trailing or doubled "/")`)
		}
		if p[0] == '.' {
			return bad(`a path component starts with "."`)
		}
	}
	return nil
}

// IsCommitHash reports whether rev is a full git commit hash (40 lowercase
// hex digits), the form the hub sends in X-Repo-Commit and the name of a
// snapshot folder.
func IsCommitHash(rev string) bool {
	return isHex(rev, 40)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// RepoFolder returns the cache folder name of a model repo id, as
// huggingface_hub names it: "models--" + repoID with "/" replaced by "--"
// ("openai-community/gpt2" → "models--openai-community--gpt2").
func RepoFolder(repoID string) string {
	return "models--" + strings.ReplaceAll(repoID, "/", "--")
}
