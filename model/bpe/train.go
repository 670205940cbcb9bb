package bpe

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gptviz/gptviz/internal/atomicfile"
	"github.com/gptviz/gptviz/model/arch"
)

// TrainOption changes how Train learns merges.
type TrainOption func(*trainConfig)

type trainConfig struct {
	minFrequency int64
	progress     func(done, total int)
}

// MinFrequency stops training when the most frequent pair occurs fewer than n
// times in the corpus (default 2: a pair seen once is not worth a token). The
// vocabulary is then smaller than asked for.
func MinFrequency(n int) TrainOption {
	return func(c *trainConfig) { c.minFrequency = int64(n) }
}

// Progress calls f after each new token with the number of tokens learned so
// far and the number wanted (vocabSize minus 257).
func Progress(f func(done, total int)) TrainOption {
	return func(c *trainConfig) { c.progress = f }
}

// MaxVocabSize is the largest vocabSize Train accepts.
const MaxVocabSize = 1 << 20

// Train learns a GPT-2-format byte-level BPE vocabulary of at most vocabSize
// tokens from text:
//
//   - ids 0..255 are the single bytes in bytes_to_unicode order (as in GPT-2,
//     so id 0 is "!" and 'Ġ', the space, is id 220);
//   - then one token per learned merge, in merge order;
//   - the last id is <|endoftext|>.
//
// The text is split at "<|endoftext|>" (which is not learned from), then
// pre-tokenised with GPT-2's Pattern; merges never cross a piece. Each step
// merges the most frequent adjacent pair of tokens, counted over all pieces
// with their frequencies (Sennrich et al. 2016, "Neural Machine Translation
// of Rare Words with Subword Units", as used for GPT-2). Ties go to the pair
// whose left token id is smallest, then whose right token id is smallest, so
// the result depends only on text, vocabSize and the options. Pair counts are
// updated incrementally, touching only pieces that hold the merged pair.
//
// Two merges can spell the same bytes ("ab"+"c" and "a"+"bc"); the second
// reuses the first's id, as Hugging Face's trainer does, and a pair that
// already has a merge is never merged again, so merges.txt lists each pair
// once.
//
// Training stops early, with a smaller vocabulary, when no pair occurs at
// least MinFrequency times. Errors: vocabSize outside 257..MaxVocabSize.
func Train(text string, vocabSize int, opts ...TrainOption) (*Tokenizer, error) {
	if vocabSize < 257 || vocabSize > MaxVocabSize {
		return nil, fmt.Errorf("bpe: train: vocabulary size %d: want 257 (256 bytes + <|endoftext|>) to %d", vocabSize, MaxVocabSize)
	}
	cfg := trainConfig{minFrequency: 2}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.minFrequency < 1 {
		cfg.minFrequency = 1
	}

	// Unique pieces with their frequencies, in sorted order for determinism.
	freq := make(map[string]int64)
	for _, doc := range strings.Split(text, EndOfText) {
		for doc != "" {
			n := nextPiece(doc)
			freq[doc[:n]]++
			doc = doc[n:]
		}
	}
	pieces := make([]string, 0, len(freq))
	for p := range freq {
		pieces = append(pieces, p)
	}
	slices.Sort(pieces)

	var byteID [256]int32
	tokens := make([][]byte, 256, vocabSize)
	index := make(map[string]int32, vocabSize)
	for id, b := range byteOrder {
		byteID[b] = int32(id)
		tokens[id] = []byte{b}
		index[string(tokens[id])] = int32(id)
	}

	type word struct {
		syms []int32
		freq int64
	}
	words := make([]word, len(pieces))
	counts := make(map[uint64]int64)  // pair → occurrences in the corpus
	where := make(map[uint64][]int32) // pair → words that may hold it (repeats possible)
	for w, p := range pieces {
		syms := make([]int32, len(p))
		for i := 0; i < len(p); i++ {
			syms[i] = byteID[p[i]]
		}
		f := freq[p]
		words[w] = word{syms, f}
		for i := 0; i+1 < len(syms); i++ {
			k := pairKey(syms[i], syms[i+1])
			counts[k] += f
			if l := where[k]; len(l) == 0 || l[len(l)-1] != int32(w) {
				where[k] = append(l, int32(w))
			}
		}
	}
	h := heap[pairCount]{items: make([]pairCount, 0, len(counts)), less: pairFirst}
	for k, c := range counts {
		h.items = append(h.items, pairCount{c, k})
	}
	h.init()

	var merges [][2]int32
	merged := make(map[uint64]bool)
	delta := make(map[uint64]int64)
	stamp := make([]int, len(words)) // last merge step that rewrote each word
	want := vocabSize - 257
	for step := 1; len(tokens) < vocabSize-1 && len(h.items) > 0; step++ {
		top := h.pop()
		cur := counts[top.key]
		if top.count != cur { // stale entry: requeue with the current count
			if cur > 0 {
				h.push(pairCount{cur, top.key})
			}
			continue
		}
		if cur < cfg.minFrequency {
			break
		}
		if merged[top.key] {
			continue
		}
		merged[top.key] = true
		a, b := int32(top.key>>32), int32(uint32(top.key))
		cat := string(tokens[a]) + string(tokens[b])
		id, ok := index[cat]
		if !ok {
			id = int32(len(tokens))
			tokens = append(tokens, []byte(cat))
			index[cat] = id
		}
		merges = append(merges, [2]int32{a, b})

		clear(delta)
		for _, w := range where[top.key] {
			if stamp[w] == step {
				continue
			}
			stamp[w] = step
			syms, f := words[w].syms, words[w].freq
			if !hasPair(syms, a, b) {
				continue
			}
			for i := 0; i+1 < len(syms); i++ {
				delta[pairKey(syms[i], syms[i+1])] -= f
			}
			j := 0
			for i := 0; i < len(syms); j++ {
				if i+1 < len(syms) && syms[i] == a && syms[i+1] == b {
					syms[j] = id
					i += 2
				} else {
					syms[j] = syms[i]
					i++
				}
			}
			syms = syms[:j]
			words[w].syms = syms
			for i := 0; i+1 < len(syms); i++ {
				k := pairKey(syms[i], syms[i+1])
				delta[k] += f
				if syms[i] == id || syms[i+1] == id {
					if l := where[k]; len(l) == 0 || l[len(l)-1] != w {
						where[k] = append(l, w)
					}
				}
			}
		}
		delete(where, top.key)
		for k, d := range delta {
			if d == 0 {
				continue
			}
			counts[k] += d
			if counts[k] <= 0 {
				delete(counts, k)
			} else if d > 0 && !merged[k] {
				h.push(pairCount{counts[k], k})
			}
		}
		if cfg.progress != nil && !ok {
			cfg.progress(len(tokens)-256, want)
		}
	}
	eot := int32(len(tokens))
	tokens = append(tokens, []byte(EndOfText))
	return newTokenizer(tokens, merges, byteID, eot)
}

// hasPair reports whether a is immediately followed by b somewhere in syms.
func hasPair(syms []int32, a, b int32) bool {
	for i := 0; i+1 < len(syms); i++ {
		if syms[i] == a && syms[i+1] == b {
			return true
		}
	}
	return false
}

// pairCount is a heap entry: a pair and its count when it was queued.
type pairCount struct {
	count int64
	key   uint64
}

// pairFirst orders pair counts for the merge queue: the larger count first;
// ties go to the smaller key (left id, then right id).
func pairFirst(a, b pairCount) bool {
	if a.count != b.count {
		return a.count > b.count
	}
	return a.key < b.key
}

// WriteFiles writes the tokenizer as dir/vocab.json and dir/merges.txt in
// GPT-2's format, loadable by Load and by Hugging Face's GPT2Tokenizer:
// vocab.json is one JSON object {"symbol": id, …} in id order (the layout of
// GPT-2's own file: ", " and ": " separators, non-ASCII written as UTF-8),
// merges.txt is "#version: 0.2" then one "left right" line per merge. dir is
// created if missing. Each file is written to a temporary file in dir and
// renamed into place, so a reader never sees a partial file. Errors name the
// file.
func (t *Tokenizer) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bpe: write tokenizer: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, arch.VocabFile), t.VocabJSON()); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, arch.MergesFile), t.MergesText())
}

// VocabJSON returns the contents of vocab.json (see WriteFiles).
func (t *Tokenizer) VocabJSON() []byte {
	var sb strings.Builder
	sb.WriteByte('{')
	for id, b := range t.tokens {
		if id > 0 {
			sb.WriteString(", ")
		}
		writeJSONString(&sb, symbolOf(b))
		fmt.Fprintf(&sb, ": %d", id)
	}
	sb.WriteByte('}')
	return []byte(sb.String())
}

// MergesText returns the contents of merges.txt (see WriteFiles).
func (t *Tokenizer) MergesText() []byte {
	var sb strings.Builder
	sb.WriteString("#version: 0.2\n")
	for _, p := range t.merges {
		sb.WriteString(symbolOf(t.tokens[p[0]]))
		sb.WriteByte(' ')
		sb.WriteString(symbolOf(t.tokens[p[1]]))
		sb.WriteByte('\n')
	}
	return []byte(sb.String())
}

// writeJSONString writes s as a JSON string the way Python's json.dumps with
// ensure_ascii=False does: only '"', '\\' and control characters escaped.
func writeJSONString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\\':
			sb.WriteString(`\\`)
		case r < 0x20:
			fmt.Fprintf(sb, `\u%04x`, r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
}
