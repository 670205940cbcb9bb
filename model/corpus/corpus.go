// Package corpus holds the text the default model is trained on and its
// preprocessing: Isaac Newton's Opticks (4th edition, 1730), public domain,
// as transcribed by Project Gutenberg's Distributed Proofreaders and shipped
// in the Go distribution as $GOROOT/src/testdata/Isaac.Newton-Opticks.txt.
//
// The raw file is embedded (gzip, opticks.txt.gz; its SHA-256 is
// OpticksSHA256) so that training is reproducible on a machine without Go.
// Paragraphs converts it to clean prose paragraphs and Split makes the
// seeded train/validation split. See README.md for provenance and licence.
package corpus

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gptviz/gptviz/internal/inputfile"
)

//go:embed opticks.txt.gz
var opticksGz []byte

// OpticksSHA256 is the SHA-256 of the raw text (Go 1.26's
// src/testdata/Isaac.Newton-Opticks.txt, 567,198 bytes).
const OpticksSHA256 = "d4a9ac22462b35e7821a4f2706c211093da678620a8f9997989ee7cf8d507bbd"

// OpticksRaw returns the raw embedded text of Opticks, as in the Go
// distribution. It fails only if the embedded copy is corrupt.
func OpticksRaw() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(opticksGz))
	if err != nil {
		return nil, fmt.Errorf("corpus: opticks.txt.gz: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("corpus: opticks.txt.gz: %w", err)
	}
	return b, nil
}

var (
	spaces      = regexp.MustCompile(`\s+`)
	trailingNum = regexp.MustCompile(`\.\d+\s*$`)
)

// Paragraphs splits a Project Gutenberg text into prose paragraphs and
// cleans them:
//   - paragraphs are separated by blank lines; the lines of a paragraph are
//     joined with single spaces (Gutenberg's hard line wraps removed) and runs
//     of white space collapse to one space;
//   - the underscores that mark italics are removed;
//   - the producer credit ("Produced by …"), the transcriber's note, the
//     "* * *" separators, "[Illustration: …]" captions and the numeric tables
//     (lines with '|') are dropped;
//   - a stray number glued to the last full stop of the file is removed.
//
// The result keeps the book's order.
func Paragraphs(raw string) []string {
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	raw = trailingNum.ReplaceAllString(raw, ".")
	var out []string
	for _, block := range regexp.MustCompile(`\n[ \t]*\n`).Split(raw, -1) {
		if strings.Contains(block, "|") {
			continue // a table
		}
		p := strings.TrimSpace(spaces.ReplaceAllString(strings.ReplaceAll(block, "_", ""), " "))
		switch {
		case p == "",
			strings.HasPrefix(p, "Produced by"),
			strings.HasPrefix(p, "Transcriber's Note"),
			strings.HasPrefix(p, "[Illustration"),
			strings.Trim(p, "* ") == "":
			continue
		}
		out = append(out, p)
	}
	return out
}

// Split assigns each paragraph to validation with probability valFrac
// (exactly round(valFrac·n) paragraphs, chosen by a generator seeded with
// seed) and the rest to training, both in book order. A random paragraph
// split keeps the validation text in the same style as the training text;
// the book's last 10% (the Queries) reads differently from the rest.
func Split(paragraphs []string, valFrac float64, seed uint64) (train, val []string) {
	n := len(paragraphs)
	k := int(valFrac*float64(n) + 0.5)
	perm := rand.New(rand.NewPCG(seed, 0x6f70746963)).Perm(n)
	isVal := make([]bool, n)
	for _, i := range perm[:k] {
		isVal[i] = true
	}
	for i, p := range paragraphs {
		if isVal[i] {
			val = append(val, p)
		} else {
			train = append(train, p)
		}
	}
	return train, val
}

// Join concatenates paragraphs with a blank line ("\n\n") between them, the
// form in which the tokenizer and the model see a split.
func Join(paragraphs []string) string { return strings.Join(paragraphs, "\n\n") }

// MaxFileBytes is the largest corpus file ReadFile reads, 256 MiB: about
// 500 times Opticks, beyond what BPE training and a CPU training run here
// get through, and small enough that its token ids fit in memory.
const MaxFileBytes = 256 << 20

// ReadFile reads a training corpus from the regular file at path (at most
// MaxFileBytes; a named pipe or device is refused without reading) and
// splits it as Parse does. Errors name the file.
func ReadFile(path string, seed uint64) (train, val string, err error) {
	b, err := inputfile.ReadFile(path, MaxFileBytes)
	if err != nil {
		return "", "", fmt.Errorf("corpus: %w", err)
	}
	return Parse(b, path, seed)
}

// Parse turns a corpus text, UTF-8 with paragraphs separated by blank
// lines, into training and validation text: Paragraphs, then Split with 10%
// for validation chosen with seed, then Join. name is used in errors: the
// text is not valid UTF-8 (the offset of the first bad byte is given) or
// has no paragraph.
func Parse(data []byte, name string, seed uint64) (train, val string, err error) {
	if !utf8.Valid(data) {
		bad := 0
		for bad < len(data) {
			r, size := utf8.DecodeRune(data[bad:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		return "", "", fmt.Errorf("corpus %s: not UTF-8 text (invalid byte 0x%02x at offset %d)", name, data[bad], bad)
	}
	tr, va := Split(Paragraphs(string(data)), 0.1, seed)
	if len(tr) == 0 {
		return "", "", fmt.Errorf("corpus %s: no paragraphs", name)
	}
	return Join(tr), Join(va), nil
}

// Opticks returns the cleaned Opticks split into training and validation
// text: 10% of the paragraphs, chosen with seed, for validation.
func Opticks(seed uint64) (train, val string, err error) {
	raw, err := OpticksRaw()
	if err != nil {
		return "", "", err
	}
	tr, va := Split(Paragraphs(string(raw)), 0.1, seed)
	return Join(tr), Join(va), nil
}
