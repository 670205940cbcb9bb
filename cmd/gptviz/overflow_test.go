package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/defaultmodel"
)

// TestGenerateLongRun: a run past the embedded model's window of 128
// positions warns on stderr with the cost of the chosen policy and of the
// other one; a long prompt says it is scored in windows; --continuation
// prints log2 P(continuation | prompt) on stderr, and stdout keeps only the
// text.
func TestGenerateLongRun(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	// Three sliding windows of 128 tokens advancing by 64: 193 to 256
	// tokens.
	prompt := strings.Repeat("the light of the sun ", 45)
	if n := len(m.Tokenizer.Encode(prompt)); n <= 192 || n > 256 {
		t.Fatalf("the prompt is %d tokens, want 193..256", n)
	}
	cont := len(m.Tokenizer.Encode(" of the sun"))
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"generate", "--steps", "3", "--overflow", "slide", prompt},
			[]string{"scored in 3 sliding windows", "--overflow slide evicts 3 tokens and recomputes the window 3 times, 384 positions in all", "--overflow block would recompute it once, 97 positions"}},
		{[]string{"generate", "--steps", "3", prompt},
			[]string{"--overflow block evicts 32 tokens and recomputes the window once, 97 positions in all"}},
		{[]string{"generate", "--steps", "2", "--continuation", " of the sun", "The light"},
			[]string{"continuation: log2 P(continuation | prompt) = -", fmt.Sprintf(" bits over %d tokens (", cont), " bits/token)"}},
	} {
		stdout, stderr, code := gptviz(t, tc.args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", tc.args[:len(tc.args)-1], code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr %q lacks %q", tc.args[:len(tc.args)-1], stderr, w)
			}
		}
		if strings.Contains(stdout, "gptviz:") || strings.Contains(stdout, "continuation:") {
			t.Errorf("%q: stdout holds a message: %q", tc.args[:len(tc.args)-1], stdout)
		}
	}
	// A run that fits warns about nothing.
	if _, stderr, code := gptviz(t, "generate", "--steps", "2", "The light"); code != 0 || strings.Contains(stderr, "context window") {
		t.Errorf("a run that fits: exit %d, stderr %q", code, stderr)
	}
}
