package bpe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Glyphs used by Display. The space glyph is U+2423 OPEN BOX rather than a
// middle dot, because '·' is an ordinary character in real text (Catalan,
// lists) while '␣' practically never is.
const (
	SpaceGlyph   = '␣' // U+0020 space
	NewlineGlyph = '↵' // U+000A line feed
	TabGlyph     = '⇥' // U+0009 tab
	CRGlyph      = '␍' // U+000D carriage return
)

// Display returns the learner's display form of token id:
//
//   - every space is '␣', so " the" shows as "␣the";
//   - '\n' is '↵', '\t' is '⇥', '\r' is '␍';
//   - other control characters (U+0000..U+001F, U+007F) are \xNN, and other
//     invisible or space-like characters (U+0085, U+00A0, U+2028, U+3000,
//     zero-width joiner U+200D, …) are \uNNNN;
//   - bytes that do not form complete UTF-8 characters on their own (one
//     Chinese character's 3 bytes split over two tokens, say) are shown as
//     hex in angle brackets, e.g. "<e4 bd>";
//   - the special token shows as "<|endoftext|>".
//
// The form is for reading, not parsing: the exact bytes are TokenBytes(id).
// An id outside 0..VocabSize()-1 shows as "<unknown id N>".
func (t *Tokenizer) Display(id int) string {
	if id < 0 || id >= len(t.tokens) {
		return fmt.Sprintf("<unknown id %d>", id)
	}
	return DisplayBytes(t.tokens[id])
}

// DisplayBytes returns the display form (see Tokenizer.Display) of any byte
// string, e.g. of a group of tokens from GroupUTF8.
func DisplayBytes(b []byte) string { return escape(b, true) }

// TerminalText returns text (decoded tokens, say) made safe to write to a
// terminal: it stays readable text — spaces, newlines, tabs and every
// printable character as they are — but the bytes a terminal would obey
// are escaped as Display escapes them: C0 control characters and DEL as
// \xNN (ESC, so no escape sequence can retitle the window or clear the
// screen; '\r', which would overwrite the line), every other character
// that is not printable (unicode.IsPrint: C1 controls, bidirectional marks
// and overrides, format characters such as U+FEFF and the soft hyphen, line
// and paragraph separators, tags) as \uNNNN or \UNNNNNNNN, except the
// zero-width joiner and non-joiner that emoji and scripts are built with,
// and bytes that are not UTF-8 as "<e4 bd>".
func TerminalText(b []byte) string { return escape(b, false) }

// escape writes b in display form (glyphs set) or terminal form.
func escape(b []byte, glyphs bool) string {
	var sb strings.Builder
	var bad []byte // pending bytes that are not whole UTF-8 characters
	flush := func() {
		if len(bad) == 0 {
			return
		}
		sb.WriteByte('<')
		for i, c := range bad {
			if i > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprintf(&sb, "%02x", c)
		}
		sb.WriteByte('>')
		bad = bad[:0]
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			bad = append(bad, b[0])
			b = b[1:]
			continue
		}
		flush()
		b = b[n:]
		switch {
		case !glyphs && (r == ' ' || r == '\n' || r == '\t'):
			sb.WriteRune(r)
		case r == ' ':
			sb.WriteRune(SpaceGlyph)
		case r == '\n':
			sb.WriteRune(NewlineGlyph)
		case r == '\t':
			sb.WriteRune(TabGlyph)
		case r == '\r' && glyphs:
			sb.WriteRune(CRGlyph)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, r)
		case !glyphs && (unicode.IsPrint(r) || r == 0x200c || r == 0x200d): // zero-width (non-)joiners build emoji and scripts
			sb.WriteRune(r)
		case unicode.Is(unicode.White_Space, r) || !unicode.IsGraphic(r) || !glyphs:
			if r > 0xffff {
				fmt.Fprintf(&sb, `\U%08x`, r)
			} else {
				fmt.Fprintf(&sb, `\u%04x`, r)
			}
		default:
			sb.WriteRune(r)
		}
	}
	flush()
	return sb.String()
}

// Group is a run of consecutive tokens, ids[Start:End], whose bytes together
// form whole UTF-8 characters (see GroupUTF8).
type Group struct {
	Start, End int    // token index range [Start, End) in the ids given
	Bytes      []byte // the tokens' bytes, concatenated
	Valid      bool   // Bytes is valid UTF-8
}

// GroupUTF8 splits ids into the shortest runs of consecutive tokens whose
// bytes are valid UTF-8 together: a token that is whole characters is a group
// of its own, and tokens that each hold part of one character (as GPT-2 does
// with many Chinese characters and emoji) are grouped. A run that can never
// become valid (an invalid byte, or a sequence cut short at the end of ids)
// is a group with Valid false. Unknown ids count as empty tokens. The groups
// cover ids in order: concatenating their Bytes gives Decode(ids).
func (t *Tokenizer) GroupUTF8(ids []int) []Group {
	var groups []Group
	start := 0
	var acc []byte
	for i, id := range ids {
		if id >= 0 && id < len(t.tokens) {
			acc = append(acc, t.tokens[id]...)
		}
		switch s := utf8State(acc); {
		case s == utf8Complete:
			groups = append(groups, Group{Start: start, End: i + 1, Bytes: acc, Valid: true})
		case s == utf8Broken:
			groups = append(groups, Group{Start: start, End: i + 1, Bytes: acc, Valid: false})
		default:
			continue // the last character is incomplete: wait for the next token
		}
		start, acc = i+1, nil
	}
	if start < len(ids) {
		groups = append(groups, Group{Start: start, End: len(ids), Bytes: acc, Valid: false})
	}
	return groups
}

type utf8Status int

const (
	utf8Complete   utf8Status = iota // valid UTF-8
	utf8Incomplete                   // valid except for a prefix of a character at the end
	utf8Broken                       // holds bytes that no continuation can make valid
)

// utf8State classifies b (see utf8Status).
func utf8State(b []byte) utf8Status {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			if isRunePrefix(b) {
				return utf8Incomplete
			}
			return utf8Broken
		}
		b = b[n:]
	}
	return utf8Complete
}

// isRunePrefix reports whether b (shorter than a full character) is the
// start of some valid UTF-8 encoding of a character.
func isRunePrefix(b []byte) bool {
	if len(b) >= utf8.UTFMax {
		return false
	}
	// Complete b with the smallest continuation bytes and see whether any
	// completion decodes; the valid second-byte ranges are narrower for
	// E0, ED, F0 and F4, so try the range's ends.
	for _, fill := range []byte{0x80, 0x9f, 0xa0, 0x8f, 0x90, 0xbf} {
		c := append([]byte(nil), b...)
		for len(c) < utf8.UTFMax {
			c = append(c, fill)
			if r, n := utf8.DecodeRune(c); !(r == utf8.RuneError && n == 1) && n == len(c) {
				return true
			}
		}
	}
	return false
}
