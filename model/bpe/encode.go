package bpe

import (
	"math"
	"strings"
)

const (
	// cacheLimit bounds the per-tokenizer cache of encoded pieces; when it is
	// full the cache is emptied and refilled.
	cacheLimit = 1 << 16
	// cacheMaxPiece is the longest piece (bytes) worth caching.
	cacheMaxPiece = 64
	// heapMinSymbols is the piece length from which mergeHeap replaces
	// mergeScan (whose cost grows with the square of the length).
	heapMinSymbols = 48
)

// Encode splits text into token ids, exactly as GPT-2's encoder.py does, with
// every occurrence of "<|endoftext|>" encoded as the special token when the
// vocabulary has it. Text need not be valid UTF-8: its raw bytes are encoded
// (see PreTokenize), so Decode(Encode(text)) == text always.
func (t *Tokenizer) Encode(text string) []int {
	out := make([]int, 0, len(text)/3+1)
	for text != "" {
		seg, rest, special := text, "", false
		if t.eot >= 0 {
			if i := strings.Index(text, EndOfText); i >= 0 {
				seg, rest, special = text[:i], text[i+len(EndOfText):], true
			}
		}
		out = t.encodeOrdinary(seg, out)
		if special {
			out = append(out, int(t.eot))
		}
		text = rest
	}
	return out
}

// EncodeOrdinary is Encode without special tokens: "<|endoftext|>" in the
// text is encoded as ordinary characters.
func (t *Tokenizer) EncodeOrdinary(text string) []int {
	return t.encodeOrdinary(text, make([]int, 0, len(text)/3+1))
}

// encodeOrdinary appends the ids of text (no special tokens) to out.
func (t *Tokenizer) encodeOrdinary(text string, out []int) []int {
	var buf []int32
	for text != "" {
		n := nextPiece(text)
		piece := text[:n]
		text = text[n:]
		if n == 1 {
			out = append(out, int(t.byteID[piece[0]]))
			continue
		}
		cacheable := n <= cacheMaxPiece
		if cacheable {
			t.cacheMu.Lock()
			ids, ok := t.cache[piece]
			t.cacheMu.Unlock()
			if ok {
				for _, id := range ids {
					out = append(out, int(id))
				}
				continue
			}
		}
		buf = t.bpe(piece, buf[:0])
		for _, id := range buf {
			out = append(out, int(id))
		}
		if cacheable {
			ids := append([]int32(nil), buf...)
			t.cacheMu.Lock()
			if len(t.cache) >= cacheLimit {
				clear(t.cache)
			}
			t.cache[piece] = ids
			t.cacheMu.Unlock()
		}
	}
	return out
}

// bpe merges the bytes of one piece into token ids, written to w[:0].
func (t *Tokenizer) bpe(piece string, w []int32) []int32 {
	for i := 0; i < len(piece); i++ {
		w = append(w, t.byteID[piece[i]])
	}
	if len(w) >= heapMinSymbols {
		return t.mergeHeap(w)
	}
	return t.mergeScan(w)
}

// mergeScan is encoder.py's bpe loop: find the adjacent pair with the lowest
// merge rank, replace every occurrence of it left to right, repeat until no
// pair has a rank. O(len(w)²) per piece.
func (t *Tokenizer) mergeScan(w []int32) []int32 {
	for len(w) > 1 {
		best := merge{rank: math.MaxInt32}
		var a, b int32
		for i := 0; i+1 < len(w); i++ {
			if m, ok := t.ranks[pairKey(w[i], w[i+1])]; ok && m.rank < best.rank {
				best, a, b = m, w[i], w[i+1]
			}
		}
		if best.rank == math.MaxInt32 {
			break
		}
		j := 0
		for i := 0; i < len(w); j++ {
			if i+1 < len(w) && w[i] == a && w[i+1] == b {
				w[j] = best.id
				i += 2
			} else {
				w[j] = w[i]
				i++
			}
		}
		w = w[:j]
	}
	return w
}

// mergeHeap gives the same result as mergeScan in O(n log n): symbols form a
// linked list, candidate pairs wait in a min-heap by (rank, position), and
// all candidates of the lowest rank are merged together, left to right, before
// the pairs they create become candidates — which is encoder.py's "replace
// every occurrence" step.
func (t *Tokenizer) mergeHeap(w []int32) []int32 {
	n := len(w)
	next := make([]int32, n) // next[i]: index of the symbol after i, -1 at the end
	prev := make([]int32, n)
	for i := range n {
		next[i], prev[i] = int32(i+1), int32(i-1)
	}
	next[n-1] = -1
	h := heap[cand]{less: candLess}
	for i := 0; i+1 < n; i++ {
		if m, ok := t.ranks[pairKey(w[i], w[i+1])]; ok {
			h.items = append(h.items, cand{m.rank, int32(i)})
		}
	}
	h.init()
	var batch, touched []int32
	for len(h.items) > 0 {
		rank := h.items[0].rank
		batch = batch[:0]
		for len(h.items) > 0 && h.items[0].rank == rank {
			batch = append(batch, h.pop().pos) // ascending positions
		}
		pair := t.merges[rank]
		id := t.ranks[pairKey(pair[0], pair[1])].id
		touched = touched[:0]
		for _, i := range batch {
			j := next[i]
			if w[i] != pair[0] || j < 0 || w[j] != pair[1] || prev[i] == -2 {
				continue // stale: i was removed or its pair changed
			}
			w[i] = id
			k := next[j]
			next[i] = k
			if k >= 0 {
				prev[k] = i
			}
			prev[j] = -2 // removed
			touched = append(touched, i)
		}
		for _, i := range touched {
			if prev[i] == -2 {
				continue
			}
			for _, p := range [2]int32{prev[i], i} {
				if p < 0 || next[p] < 0 {
					continue
				}
				if m, ok := t.ranks[pairKey(w[p], w[next[p]])]; ok {
					h.push(cand{m.rank, p})
				}
			}
		}
	}
	out := w[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, w[i])
	}
	return out
}

// cand is a candidate merge of the symbol at pos with its successor.
type cand struct {
	rank, pos int32
}

// candLess orders candidate merges by rank, then position.
func candLess(a, b cand) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}
