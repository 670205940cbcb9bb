package main

import (
	"strings"
	"testing"
)

// TestInvalidUTF8Prompt: an invalid-UTF-8 prompt was recorded as U+FFFD, so
// the trace's prompt and rerun command differed from the tokens used. It is
// a usage error now, before any model is loaded.
func TestInvalidUTF8Prompt(t *testing.T) {
	for _, args := range [][]string{
		{"generate", "The \xff light"},
		{"report", "-o", "/nonexistent/never-written.html", "The \xff light"},
		{"tokens", "The \xff light"},
	} {
		_, stderr, code := gptviz(t, args...)
		if code != 2 || !strings.Contains(stderr, "byte 0xff at offset 4 is not valid UTF-8") {
			t.Errorf("gptviz %q: exit %d, stderr %q; want exit 2 naming the byte", args, code, stderr)
		}
	}
}

// TestTokensOneToken: `gptviz tokens a` said "1 tokens".
func TestTokensOneToken(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := gptviz(t, "tokens", "a")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "\n1 token (context window ") {
		t.Errorf("tokens of a one-token text: %q", stdout)
	}
}
