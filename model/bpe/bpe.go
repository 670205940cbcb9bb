// Package bpe implements GPT-2's byte-level byte-pair encoding: loading
// vocab.json and merges.txt, encoding text to token ids and back, a display
// form of each token for learners, and training a new vocabulary in the same
// format.
//
// The algorithm follows openai/gpt-2 src/encoder.py:
//
//  1. <|endoftext|> in the text becomes its own token (50256 in GPT-2).
//  2. The rest is split into pieces by GPT-2's pre-tokenisation Pattern
//     (PreTokenize).
//  3. Each piece's UTF-8 bytes become one symbol per byte (bytes_to_unicode,
//     so every byte sequence is representable).
//  4. Within a piece, the adjacent pair of symbols with the lowest rank in
//     merges.txt is merged (every occurrence, left to right), until no pair
//     has a rank. The resulting symbols are looked up in vocab.json.
//
// A Tokenizer is safe for concurrent use.
package bpe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/gptviz/gptviz/internal/inputfile"
)

// EndOfText is GPT-2's special document separator token.
const EndOfText = "<|endoftext|>"

// ParseError reports malformed vocab.json or merges.txt content.
type ParseError struct {
	File string // the name given to Parse (a path for Load)
	Line int    // 1-based line number; 0 when the problem is not on one line
	Err  error  // what is wrong
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("bpe: %s line %d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("bpe: %s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// merge is what a pair of adjacent symbols becomes.
type merge struct {
	rank int32 // line order in merges.txt, 0 = merged first
	id   int32 // token id of the concatenation
}

// pairKey packs an ordered pair of token ids into a map key.
func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// Tokenizer is a GPT-2 byte-level BPE vocabulary: vocab_size token ids, each
// standing for a byte string, plus the ranked merge rules.
type Tokenizer struct {
	tokens  [][]byte         // [vocab_size] raw bytes of each id
	ranks   map[uint64]merge // pair of ids → its merge
	merges  [][2]int32       // [n_merges] pairs in rank order
	byteID  [256]int32       // byte value → id of its single-byte token
	eot     int32            // id of <|endoftext|>, -1 when absent
	cacheMu sync.Mutex
	cache   map[string][]int32 // piece → its ids, bounded by cacheLimit
}

// The largest vocab.json and merges.txt that Load reads (and Model loading,
// which reads the same files), 64 MiB each: GPT-2's are 1.0 MB and 456 KB,
// and a 250,000-token vocabulary stays under 16 MiB.
const (
	MaxVocabBytes  = 64 << 20
	MaxMergesBytes = 64 << 20
)

// Load reads a tokenizer from GPT-2's vocab.json and merges.txt (the layout
// Hugging Face uses; the same as openai/gpt-2's encoder.json and vocab.bpe).
// Errors name the file: I/O errors wrap the os error, a file that is not a
// regular file or is larger than MaxVocabBytes / MaxMergesBytes is an
// *inputfile.Error, malformed content is a *ParseError (see Parse).
func Load(vocabPath, mergesPath string) (*Tokenizer, error) {
	vocab, err := inputfile.ReadFile(vocabPath, MaxVocabBytes)
	if err != nil {
		return nil, fmt.Errorf("bpe: read vocabulary: %w", err)
	}
	merges, err := inputfile.ReadFile(mergesPath, MaxMergesBytes)
	if err != nil {
		return nil, fmt.Errorf("bpe: read merges: %w", err)
	}
	return Parse(vocab, vocabPath, merges, mergesPath)
}

// Parse builds a tokenizer from the contents of vocab.json and merges.txt;
// the names are used in error messages.
//
// vocab.json is one JSON object mapping each token's byte-level string
// (bytes_to_unicode form, e.g. "Ġthe" for " the") to its id. The ids must be
// exactly 0..vocab_size-1, each used once; every key must be byte-level (only
// characters of bytes_to_unicode's image) and appear once; all 256
// single-byte tokens must be present. A key "<|endoftext|>" is the special
// end-of-text token.
//
// merges.txt has an optional first line starting with "#version", then one
// merge per line, "left right" (two symbols separated by one space), highest
// priority first; a trailing "\r" is ignored and blank lines may only come at
// the end. Both symbols and their concatenation must be tokens of vocab.json,
// and a pair may be listed once.
//
// Every violation is a *ParseError naming the file and, where there is one,
// the line.
func Parse(vocabJSON []byte, vocabName string, merges []byte, mergesName string) (*Tokenizer, error) {
	ids, err := parseVocab(vocabJSON, vocabName)
	if err != nil {
		return nil, err
	}
	tokens := make([][]byte, len(ids))
	eot := -1
	for sym, id := range ids {
		if sym == EndOfText {
			eot = id
		}
		b, bad, ok := bytesOf(sym)
		if !ok {
			return nil, &ParseError{File: vocabName, Err: fmt.Errorf("token %q (id %d) is not byte-level: character %q (U+%04X) has no byte in bytes_to_unicode", sym, id, bad, bad)}
		}
		tokens[id] = b
	}
	var byteID [256]int32
	for b := 0; b < 256; b++ {
		sym := string(byteEncoder[b])
		id, ok := ids[sym]
		if !ok {
			return nil, &ParseError{File: vocabName, Err: fmt.Errorf("single-byte token %q for byte 0x%02x is missing", sym, b)}
		}
		byteID[b] = int32(id)
	}
	pairs, err := parseMerges(merges, mergesName, ids)
	if err != nil {
		return nil, err
	}
	return newTokenizer(tokens, pairs, byteID, int32(eot))
}

// parseVocab reads vocab.json into a map from symbol to id, checking ids are
// 0..n-1 without repeats and keys are not repeated.
func parseVocab(data []byte, name string) (map[string]int, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	fail := func(err error) error {
		return &ParseError{File: name, Line: lineAt(data, dec.InputOffset()), Err: err}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fail(fmt.Errorf("not JSON: %w", err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fail(errors.New("want a JSON object mapping token strings to ids"))
	}
	ids := make(map[string]int)
	var byID []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(fmt.Errorf("not JSON: %w", err))
		}
		sym := tok.(string) // object keys are always strings
		if sym == "" {
			return nil, fail(errors.New("empty token string"))
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, fail(fmt.Errorf("token %q: not JSON: %w", sym, err))
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, fail(fmt.Errorf("token %q: id is %v, want an integer", sym, tok))
		}
		id, err := strconv.Atoi(string(num))
		if err != nil || id < 0 {
			return nil, fail(fmt.Errorf("token %q: id %s is not a non-negative integer", sym, num))
		}
		if prev, dup := ids[sym]; dup {
			return nil, fail(fmt.Errorf("token %q appears twice (ids %d and %d)", sym, prev, id))
		}
		if id > len(data) { // ids are dense, so one can't exceed the entry count, which is below the byte count
			return nil, fail(fmt.Errorf("token %q: id %d is larger than the vocabulary can be", sym, id))
		}
		for len(byID) <= id {
			byID = append(byID, "")
		}
		if byID[id] != "" {
			return nil, fail(fmt.Errorf("id %d is used by both %q and %q", id, byID[id], sym))
		}
		byID[id] = sym
		ids[sym] = id
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail(fmt.Errorf("not JSON: %w", err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(errors.New("data after the JSON object"))
	}
	if len(byID) != len(ids) {
		for id := range byID {
			if byID[id] == "" {
				return nil, &ParseError{File: name, Err: fmt.Errorf("id %d is missing: ids must be 0..%d, each used once", id, len(byID)-1)}
			}
		}
	}
	return ids, nil
}

// lineAt returns the 1-based line number of byte offset off in data.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

// parseMerges reads merges.txt into id pairs in rank order.
func parseMerges(data []byte, name string, ids map[string]int) ([][2]int32, error) {
	lines := strings.Split(string(data), "\n")
	for len(lines) > 0 && strings.TrimRight(lines[len(lines)-1], "\r") == "" {
		lines = lines[:len(lines)-1]
	}
	var pairs [][2]int32
	seen := make(map[uint64]int)
	for i, line := range lines {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		if i == 0 && strings.HasPrefix(line, "#version") {
			continue
		}
		fail := func(format string, args ...any) error {
			return &ParseError{File: name, Line: n, Err: fmt.Errorf(format, args...)}
		}
		if line == "" {
			return nil, fail("empty line before the last merge")
		}
		parts := strings.Split(line, " ")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, fail("merge %q: want two symbols separated by one space", line)
		}
		var pair [2]int32
		for j, sym := range parts {
			if _, bad, ok := bytesOf(sym); !ok {
				return nil, fail("symbol %q is not byte-level: character %q (U+%04X) has no byte in bytes_to_unicode", sym, bad, bad)
			}
			id, ok := ids[sym]
			if !ok {
				return nil, fail("symbol %q is not a token of the vocabulary", sym)
			}
			pair[j] = int32(id)
		}
		if _, ok := ids[parts[0]+parts[1]]; !ok {
			return nil, fail("merge result %q is not a token of the vocabulary", parts[0]+parts[1])
		}
		k := pairKey(pair[0], pair[1])
		if prev, dup := seen[k]; dup {
			return nil, fail("merge %q repeats line %d", line, prev)
		}
		seen[k] = n
		pairs = append(pairs, pair)
	}
	return pairs, nil
}

// newTokenizer builds the lookup tables. tokens[id] are the raw bytes of each
// id; pairs are the merges in rank order (the result of merging pairs[r] is
// the token whose bytes are the concatenation); eot is -1 when absent.
func newTokenizer(tokens [][]byte, pairs [][2]int32, byteID [256]int32, eot int32) (*Tokenizer, error) {
	index := make(map[string]int32, len(tokens))
	for id, b := range tokens {
		index[string(b)] = int32(id)
	}
	t := &Tokenizer{
		tokens: tokens,
		ranks:  make(map[uint64]merge, len(pairs)),
		merges: pairs,
		byteID: byteID,
		eot:    eot,
		cache:  make(map[string][]int32),
	}
	for r, p := range pairs {
		cat := string(tokens[p[0]]) + string(tokens[p[1]])
		id, ok := index[cat]
		if !ok {
			return nil, fmt.Errorf("bpe: merge %d (%q + %q) makes %q, which is not a token", r, tokens[p[0]], tokens[p[1]], cat)
		}
		t.ranks[pairKey(p[0], p[1])] = merge{rank: int32(r), id: id}
	}
	return t, nil
}

// VocabSize is the number of token ids (vocab_size; 50257 for GPT-2). Valid
// ids are 0..VocabSize()-1.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// NumMerges is the number of merge rules (50000 for GPT-2).
func (t *Tokenizer) NumMerges() int { return len(t.merges) }

// EndOfText returns the id of the special <|endoftext|> token (50256 in
// GPT-2) and whether the vocabulary has one.
func (t *Tokenizer) EndOfText() (int, bool) { return int(t.eot), t.eot >= 0 }

// TokenBytes returns a copy of the raw bytes of token id; nil for an id
// outside 0..VocabSize()-1. The special token's bytes are its text,
// "<|endoftext|>".
func (t *Tokenizer) TokenBytes(id int) []byte {
	if id < 0 || id >= len(t.tokens) {
		return nil
	}
	return bytes.Clone(t.tokens[id])
}

// Symbol returns token id as written in vocab.json (bytes_to_unicode form,
// e.g. "Ġthe" for " the"); "" for an id outside 0..VocabSize()-1.
func (t *Tokenizer) Symbol(id int) string {
	if id < 0 || id >= len(t.tokens) {
		return ""
	}
	return symbolOf(t.tokens[id])
}

// Decode returns the bytes the ids stand for, concatenated. Decode(Encode(s))
// == s for every string s, including invalid UTF-8. Ids outside
// 0..VocabSize()-1 contribute nothing (use Valid to check ids first).
func (t *Tokenizer) Decode(ids []int) []byte {
	n := 0
	for _, id := range ids {
		if id >= 0 && id < len(t.tokens) {
			n += len(t.tokens[id])
		}
	}
	out := make([]byte, 0, n)
	for _, id := range ids {
		if id >= 0 && id < len(t.tokens) {
			out = append(out, t.tokens[id]...)
		}
	}
	return out
}

// Valid reports whether id is a token id of this vocabulary.
func (t *Tokenizer) Valid(id int) bool { return id >= 0 && id < len(t.tokens) }
