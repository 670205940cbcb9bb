package bpe

import (
	"unicode"
	"unicode/utf8"
)

// Pattern is GPT-2's pre-tokenisation regular expression (openai/gpt-2
// src/encoder.py), for documentation. Go's regexp package cannot run it (it
// has no lookahead), so PreTokenize implements it as a hand-written scanner.
const Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// charClass is the part of Pattern a character belongs to.
type charClass uint8

const (
	classOther  charClass = iota // [^\s\p{L}\p{N}]: punctuation, symbols, emoji, marks, controls, invalid bytes
	classLetter                  // \p{L}
	classNumber                  // \p{N}
	classSpace                   // \s
)

// asciiClass is classify for the ASCII range.
var asciiClass [utf8.RuneSelf]charClass

func init() {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		asciiClass[r] = classifySlow(r)
	}
}

// classifySlow gives the class of r from Go's Unicode tables.
//
// \s is Unicode's White_Space property: U+0009..U+000D, U+0020, U+0085,
// U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
// That is what Python's regex module (which GPT-2 uses) matches for \s in a
// str pattern, and what tiktoken (Rust regex) and the tiktoken-go oracle
// (.NET-style [\f\n\r\t\v\x85\p{Z}]) match. In particular the information
// separators U+001C..U+001F, which Python's str.isspace() accepts, are not \s
// here; nor are U+180E and U+200B (format characters, class other).
func classifySlow(r rune) charClass {
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.Is(unicode.White_Space, r):
		return classSpace
	}
	return classOther
}

// decodeClass decodes the first character of s and returns its class and
// size in bytes. A byte that does not start valid UTF-8 counts as one
// character of class other, so that arbitrary bytes are pre-tokenised (and so
// encoded and decoded) unchanged.
func decodeClass(s string) (charClass, int) {
	if c := s[0]; c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n == 1 {
		return classOther, 1
	}
	return classifySlow(r), n
}

// PreTokenize splits text into the pieces GPT-2's Pattern matches, in order;
// the pieces concatenate to text. BPE merges never cross a piece boundary.
// Special tokens such as <|endoftext|> are not recognised here (Encode
// handles them before pre-tokenising).
//
// Text need not be valid UTF-8: each byte that is not part of a valid UTF-8
// sequence is treated as a punctuation-like character (class
// [^\s\p{L}\p{N}]), which is what Python does with the U+FFFD it would
// decode such a byte to, while keeping the original byte.
func PreTokenize(text string) []string {
	var pieces []string
	for text != "" {
		n := nextPiece(text)
		pieces = append(pieces, text[:n])
		text = text[n:]
	}
	return pieces
}

// nextPiece returns the length in bytes of the first piece of s (len(s) > 0),
// trying Pattern's alternatives in order as a backtracking regex engine does.
func nextPiece(s string) int {
	// 's 't 're 've 'm 'll 'd — ASCII apostrophe, case-sensitive.
	if s[0] == '\'' && len(s) >= 2 {
		switch s[1] {
		case 's', 't', 'm', 'd':
			return 2
		case 'r', 'v':
			if len(s) >= 3 && s[2] == 'e' {
				return 3
			}
		case 'l':
			if len(s) >= 3 && s[2] == 'l' {
				return 3
			}
		}
	}
	c, n := decodeClass(s)
	start := 0
	if s[0] == ' ' && len(s) > 1 {
		// " ?" joins a single space to a following letter, number or other run.
		if c1, _ := decodeClass(s[1:]); c1 != classSpace {
			start, c = 1, c1
		}
	}
	if c != classSpace {
		// ?\p{L}+, ?\p{N}+ or ?[^\s\p{L}\p{N}]+: a maximal run of one class.
		i := start
		for i < len(s) {
			ci, ni := decodeClass(s[i:])
			if ci != c {
				break
			}
			i += ni
		}
		return i
	}
	// A whitespace run. \s+(?!\S) takes all of it when it reaches the end of
	// the text or, when a non-space follows, all but its last character
	// (which then starts the next piece, e.g. as the space of " word");
	// a single whitespace character before a non-space falls through to \s+.
	last, i := 0, n
	for i < len(s) {
		ci, ni := decodeClass(s[i:])
		if ci != classSpace {
			break
		}
		last = i
		i += ni
	}
	if i == len(s) || last == 0 {
		return i
	}
	return last
}
