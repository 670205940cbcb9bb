package bpe

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tiktoken-go/tokenizer"

	"github.com/gptviz/gptviz/internal/testref"
)

// oracleFragments are the building blocks of the random strings compared
// with tiktoken-go: scripts, emoji, digits, whitespace of every kind,
// apostrophes and contractions, punctuation and the special token.
var oracleFragments = [][]string{
	// ASCII words and sentences
	{"the", "The", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Hello", "world", "GPT", "model", "attention", "is", "all", "you", "need", "working", "memory", "x", "a", "I", "transformer", "tokenization", "antidisestablishmentarianism", "HTTPServer", "camelCase", "snake_case", "ALLCAPS"},
	// Latin with accents, precomposed and decomposed
	{"café", "naïve", "résumé", "Ångström", "über", "façade", "ñandú", "Œuvre", "Straße", "Dvořák", "ça", "e\u0301", "cafe\u0301", "A\u030a", "ǅ", "ﬁ"},
	// Chinese, Japanese, Korean
	{"深度学习", "技术的飞速发展", "工作记忆", "（Working Memory）", "是一种", "大语言模型", "。", "，", "日本語", "ひらがな", "カタカナ", "こんにちは世界", "ｶﾀｶﾅ", "한국어", "안녕하세요", "𠀋"},
	// Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai
	{"Привет", "мир", "Москва", "ёлка", "Αθήνα", "λόγος", "مرحبا", "بالعالم", "العَرَبِيَّة", "שלום", "עולם", "नमस्ते", "हिन्दी", "ภาษาไทย", "სალამი"},
	// emoji, including modifiers, ZWJ sequences, flags and keycaps
	{"🙂", "🚀", "😀😃", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "🇫🇷", "🇯🇵🇺🇸", "1️⃣", "❤️", "✨", "©", "®", "™", "☃", "🦀"},
	// numbers
	{"0", "7", "42", "2026", "3.14159", "1,000,000", "1e-9", "0x1F", "٣٤٥", "１２３", "²", "Ⅻ", "½", "42nd", "v1.2.3", "99%", "$5", "১২৩"},
	// whitespace of all kinds
	{" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", " \n ", "\u00a0", "\u3000", "\u2028", "\u2029", "\v", "\f", "\u0085", "\u2003", "\u202f", "\u205f", "\u1680", " \t ", "\n    ", "\u00a0 ", " \u3000"},
	// apostrophes and contractions
	{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'", "''", "'''", "’s", " 's", "'x", "don't", "I'm", "they're", "rock'n'roll", "'twas", "O'Neil", "it's'", "''s"},
	// punctuation and symbols
	{".", ",", ";", ":", "!", "?", "...", "-", "—", "–", "(", ")", "[", "]", "{", "}", "<", ">", "\"", "/", "\\", "@", "#", "$", "%", "^", "&", "*", "_", "=", "+", "|", "~", "`", "«", "»", "“", "”", "•", "→", "∑", "√", "€", "£", "¥"},
	// special token and look-alikes
	{"<|endoftext|>", "<|endoftext|>", "<|endoftext", "<|", "|>", "endoftext", "<|endoftext|"},
	// odd characters: controls, format characters, private use
	{"\x00", "\x1b", "\x1c", "\x1f", "\x7f", "\u200b", "\u200d", "\u180e", "\ufeff", "\ue000", "\u00ad", "\ufffd"},
}

// randomOracleString builds a string of 1..24 fragments, joined by nothing,
// a space or a random whitespace fragment.
func randomOracleString(r *rand.Rand) string {
	var sb strings.Builder
	n := 1 + r.IntN(24)
	for range n {
		group := oracleFragments[r.IntN(len(oracleFragments))]
		if r.IntN(20) == 0 {
			// a random code point from the BMP or a supplementary plane
			c := rune(0x20 + r.IntN(0x2FFFF))
			if c >= 0xD800 && c <= 0xDFFF {
				c = 'x'
			}
			sb.WriteRune(c)
		} else {
			sb.WriteString(group[r.IntN(len(group))])
		}
		switch r.IntN(4) {
		case 0:
			sb.WriteByte(' ')
		case 1:
			ws := oracleFragments[6]
			sb.WriteString(ws[r.IntN(len(ws))])
		}
	}
	return sb.String()
}

// oracleEncode encodes with tiktoken-go's r50k_base (GPT-2's vocabulary),
// which has no special-token handling in Encode: the text is split at
// <|endoftext|> here and 50256 put between the pieces.
func oracleEncode(t testing.TB, c tokenizer.Codec, text string) []int {
	var out []int
	for i, seg := range strings.Split(text, EndOfText) {
		if i > 0 {
			out = append(out, 50256)
		}
		if seg == "" {
			continue
		}
		ids, _, err := c.Encode(seg)
		if err != nil {
			t.Fatalf("oracle Encode(%q): %v", seg, err)
		}
		for _, id := range ids {
			out = append(out, int(id))
		}
	}
	return out
}

// oracleEncodeAroundDEL encodes text with the oracle one of our pieces at a
// time, each piece split at U+007F with 221 (GPT-2's DEL token) in between.
func oracleEncodeAroundDEL(t testing.TB, c tokenizer.Codec, text string) []int {
	var out []int
	for i, doc := range strings.Split(text, EndOfText) {
		if i > 0 {
			out = append(out, 50256)
		}
		for _, piece := range PreTokenize(doc) {
			for j, part := range strings.Split(piece, "\x7f") {
				if j > 0 {
					out = append(out, 221)
				}
				if part != "" {
					out = append(out, oracleEncode(t, c, part)...)
				}
			}
		}
	}
	return out
}

func uintIDs(ids []int) []uint {
	u := make([]uint, len(ids))
	for i, id := range ids {
		u[i] = uint(id)
	}
	return u
}

// TestTiktokenOracle compares Encode with tiktoken-go's r50k_base on 12,000
// seeded random strings mixing scripts, emoji, digits, whitespace runs,
// apostrophes and <|endoftext|>, and checks each decodes back exactly.
//
// The one known oracle fault is U+007F (DEL), which its regex never matches,
// so the byte vanishes from its output (TestTiktokenOracleDropsDEL); strings
// holding DEL are compared piece by piece instead. GPT-2 itself, whose
// pattern puts DEL (a control character: not \s, \p{L} or \p{N}) in
// [^\s\p{L}\p{N}]+, keeps it as token 221; TestEncodeDEL pins that.
func TestTiktokenOracle(t *testing.T) {
	t.Parallel()
	tok := gpt2(t)
	oracle, err := tokenizer.Get(tokenizer.R50kBase)
	if err != nil {
		t.Fatalf("tiktoken-go r50k_base: %v", err)
	}
	r := rand.New(rand.NewPCG(2026, 4))
	const n = 12000
	var mismatches []string
	delStrings := 0
	for i := range n {
		text := randomOracleString(r)
		got := tok.Encode(text)
		if back := string(tok.Decode(got)); back != text {
			t.Errorf("string %d: Decode(Encode(%q)) = %q", i, text, back)
		}
		want := oracleEncode(t, oracle, text)
		if strings.Contains(text, "\x7f") {
			// Oracle bug (see TestTiktokenOracleDropsDEL): its regex skips
			// U+007F, losing the byte. Check that it does lose bytes here,
			// then compare piece by piece, DEL split out (no GPT-2 merge
			// involves the DEL token 221, so a piece's tokens are those of
			// its DEL-free parts with 221 between them).
			if dec, err := oracle.Decode(uintIDs(want)); err == nil && dec == text {
				t.Errorf("string %d %q: oracle round-trips a DEL; drop the workaround", i, text)
			}
			want = oracleEncodeAroundDEL(t, oracle, text)
			delStrings++
		}
		if slices.Equal(got, want) {
			continue
		}
		mismatches = append(mismatches, fmt.Sprintf("string %d %q:\n  ours   %v\n  oracle %v", i, text, got, want))
	}
	t.Logf("%d strings compared with tiktoken-go r50k_base, %d of them holding DEL (compared piece by piece)", n, delStrings)
	if len(mismatches) > 0 {
		t.Errorf("%d of %d strings differ from tiktoken-go r50k_base; first ones:\n%s",
			len(mismatches), n, strings.Join(mismatches[:min(len(mismatches), 10)], "\n"))
	}
}

// TestTiktokenOracleDropsDEL documents the oracle's fault: tiktoken-go
// r50k_base (v0.10.0) drops U+007F, so its ids do not decode to the input
// (this part needs no reference and fails once the fault is gone), while
// Encode keeps it as GPT-2's byte token 221 (where ../shared/reference is
// present).
func TestTiktokenOracleDropsDEL(t *testing.T) {
	t.Parallel()
	oracle, err := tokenizer.Get(tokenizer.R50kBase)
	if err != nil {
		t.Fatal(err)
	}
	ids, _, err := oracle.Encode("a\x7fb")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []uint{64, 65}) {
		t.Errorf("oracle now encodes a\\x7fb as %v, not [64 65] (DEL dropped): its fault is gone or changed; drop or revise the DEL workaround of TestTiktokenOracle", ids)
	}
	if dir, ok := testref.Lookup(t, "gpt2-tiny-random"); ok {
		if got := loadGPT2(t, dir).Encode("a\x7fb"); !slices.Equal(got, []int{64, 221, 65}) {
			t.Errorf("Encode(a\\x7fb) = %v, want [64 221 65]", got)
		}
	}
}
