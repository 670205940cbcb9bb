package bpe

import (
	"strings"
	"testing"
)

// TestTerminalText: generate printed model-controlled bytes raw, so a
// token could retitle the window or clear the screen. Every byte a terminal
// would obey is escaped; text stays text.
func TestTerminalText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"plain text", "The light, 你好 é\n\tnext", "The light, 你好 é\n\tnext"},
		{"emoji with joiner", "👨\u200d👩", "👨\u200d👩"},
		{"window title (OSC)", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"clear screen (CSI)", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"carriage return", "safe\rEVIL", `safe\x0dEVIL`},
		{"NUL and DEL", "a\x00b\x7f", `a\x00b\x7f`},
		{"backspace and bell", "x\x08\x07", `x\x08\x07`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"bidi override", "abc\u202edcba", `abc\u202edcba`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"raw 8-bit CSI byte", "a\x9b2J", "a<9b>2J"},
		// Found by the hostile round: printed raw before, unlike the rerun
		// command line, which quotes every character that is not printable.
		{"right-to-left mark", "a\u200fb", `a\u200fb`},
		{"arabic letter mark", "a\u061cb", `a\u061cb`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"byte order mark", "\ufeffa", `\ufeffa`},
		{"soft hyphen", "a\u00adb", `a\u00adb`},
		{"tag character", "a\U000e0041b", `a\U000e0041b`},
		{"cut character", "你\xe4\xbd", "你<e4 bd>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TerminalText([]byte(tc.in))
			if got != tc.want {
				t.Errorf("TerminalText(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if strings.ContainsAny(got, "\x1b\x07\x08\r\x00\x7f\u009b\u202e") {
				t.Errorf("TerminalText(%q) = %q still holds a control character", tc.in, got)
			}
		})
	}
}
