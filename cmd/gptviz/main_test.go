package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
)

// gptviz runs the CLI in-process and returns stdout, stderr and the exit
// status main would use.
func gptviz(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stderr (or stdout for help)
	}{
		{nil, 2, "no command given"},
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"generate", "--help"}, 0, "--temperature"},
		{[]string{"generate"}, 2, "exactly one PROMPT"},
		{[]string{"generate", "--no-such-flag", "x"}, 2, "no-such-flag"},
		{[]string{"generate", "--top-p", "2", "x"}, 2, "--top-p 2"},
		{[]string{"generate", "--top-k", "x", "y"}, 2, "Run 'gptviz generate --help'"},
		{[]string{"generate", "--top-p", "0", "x"}, 2, "--top-p 0"},
		{[]string{"generate", "--temperature", "-1", "x"}, 2, "--temperature -1"},
		{[]string{"generate", "--top-k", "-3", "x"}, 2, "--top-k -3"},
		{[]string{"generate", "--steps", "-3", "x"}, 2, "--steps -3"},
		{[]string{"generate", "--steps", "many", "x"}, 2, "--steps"},
		{[]string{"generate", "--model", "./no/such/folder", "x"}, 1, "no/such/folder"},
		{[]string{"tokens", "a", "b"}, 2, "exactly one TEXT"},
	} {
		stdout, stderr, code := gptviz(t, tc.args...)
		if code != tc.code {
			t.Errorf("gptviz %q: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr)
		}
		if !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("gptviz %q: output lacks %q:\n%s%s", tc.args, tc.want, stdout, stderr)
		}
	}
}

func TestGenerateGreedyReference(t *testing.T) {
	dir := testref.Path(t, "gpt2-tiny-random")
	// The reference's input_ids are this text; its greedy continuation
	// starts with id 8667.
	stdout, stderr, code := gptviz(t, "generate", "--model", dir, "--temperature", "0", "--steps", "3",
		"The quick brown fox jumps over the lazy dog. The quick brown fox")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "The quick brown fox jumps over the lazy dog. The quick brown fox") {
		t.Errorf("output does not start with the prompt: %q", stdout)
	}
}

func TestTokens(t *testing.T) {
	dir := testref.Path(t, "gpt2-tiny-random")
	stdout, stderr, code := gptviz(t, "tokens", "--model", dir, "Hello world\n你")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"15496", "995", "↵", "tokens (context window 64)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("tokens output lacks %q:\n%s", want, stdout)
		}
	}
}
