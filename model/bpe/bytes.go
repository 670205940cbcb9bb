package bpe

import "unicode/utf8"

// byteEncoder maps each byte 0..255 to the printable character GPT-2 uses for
// it in vocab.json and merges.txt, and byteDecoder is its inverse.
//
// Source: bytes_to_unicode in openai/gpt-2 src/encoder.py. The printable
// bytes '!'..'~', '¡'..'¬' and '®'..'ÿ' stand for themselves; the other 68
// bytes (controls, space, DEL, 0x80..0xA0, soft hyphen) are mapped in byte
// order to U+0100, U+0101, … so that, for example, the space 0x20 becomes 'Ġ'
// (U+0120) and '\n' becomes 'Ċ' (U+010A).
//
// byteOrder lists the bytes in the order of that function's list bs, which is
// also the order of token ids 0..255 in GPT-2's vocabulary and in a vocabulary
// built by Train.
var (
	byteEncoder [256]rune
	byteDecoder = make(map[rune]byte, 256)
	byteOrder   [256]byte
)

func init() {
	n := 0
	printable := func(b int) bool {
		return b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF
	}
	for b := 0; b < 256; b++ {
		if printable(b) {
			byteEncoder[b] = rune(b)
			byteOrder[n] = byte(b)
			n++
		}
	}
	extra := 0
	for b := 0; b < 256; b++ {
		if !printable(b) {
			byteEncoder[b] = rune(256 + extra)
			byteOrder[n] = byte(b)
			n++
			extra++
		}
	}
	for b, r := range byteEncoder {
		byteDecoder[r] = byte(b)
	}
}

// symbolOf returns the byte-level string GPT-2 writes for raw bytes b (the
// form used as keys in vocab.json and symbols in merges.txt).
func symbolOf(b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, byteEncoder[c])
	}
	return string(out)
}

// bytesOf decodes a byte-level symbol back to raw bytes. ok is false when the
// symbol holds a character outside bytes_to_unicode's image (then the returned
// rune is the first such character).
func bytesOf(sym string) (b []byte, bad rune, ok bool) {
	b = make([]byte, 0, len(sym))
	for _, r := range sym {
		c, found := byteDecoder[r]
		if !found {
			return nil, r, false
		}
		b = append(b, c)
	}
	return b, 0, true
}
