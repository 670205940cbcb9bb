package model

import (
	"math"
	"slices"
)

// This file ranks token ids by logit, highest first with ties by id (the
// order a comparison sort of the whole vocabulary gave), without sorting
// the whole vocabulary by comparisons: a bounded heap picks a short prefix,
// an LSD radix sort on the logits' bits ranks every id in O(V).

// rankKey maps a finite logit to a uint32 whose ascending order is the
// logits' descending order; −0 and +0 map to the same key, as they compare
// equal.
func rankKey(l float32) uint32 {
	b := math.Float32bits(l)
	if b == 1<<31 {
		b = 0 // −0 → +0
	}
	// Negative: flip every bit (larger magnitude sorts lower); positive:
	// set the sign bit. Branch-free: half the logits are negative, in no
	// order a branch predictor could follow.
	b ^= uint32(int32(b)>>31) | 1<<31
	return ^b // descending
}

// ranksBefore reports whether id a ranks before id b: a higher logit, or
// the same logit and a lower id.
func ranksBefore(logits []float32, a, b int32) bool {
	la, lb := logits[a], logits[b]
	return la > lb || (la == lb && a < b)
}

// radixRank writes every id 0..V−1 into out ranked by logits, V =
// len(logits) = len(out); keys, tmp and ids are scratch of V. Three stable
// passes of 11, 11 and 10 bits over ids in ascending order keep equal
// logits in id order. The first pass takes ids from its index (no iota
// array), the last writes only ids, straight into out.
func radixRank(out []int32, logits []float32, keys, tmp []uint32, ids []int32) {
	V := len(logits)
	keys, tmp, ids, out = keys[:V], tmp[:V], ids[:V], out[:V]
	var count [3][2048]int32
	for i, l := range logits {
		k := rankKey(l)
		keys[i] = k
		count[0][k&2047]++
		count[1][(k>>11)&2047]++
		count[2][k>>22]++
	}
	for p := range count {
		c := &count[p]
		var pos int32
		for d, n := range c {
			c[d] = pos
			pos += n
		}
	}
	// Pass 1: keys → tmp, ids (= index) → out.
	c := &count[0]
	for i, k := range keys {
		j := c[k&2047]
		c[k&2047]++
		tmp[j] = k
		out[j] = int32(i)
	}
	// Pass 2: tmp, out → keys, ids.
	c = &count[1]
	for i, k := range tmp {
		d := (k >> 11) & 2047
		j := c[d]
		c[d]++
		keys[j] = k
		ids[j] = out[i]
	}
	// Pass 3: keys, ids → out.
	c = &count[2]
	for i, k := range keys {
		d := k >> 22
		j := c[d]
		c[d]++
		out[j] = ids[i]
	}
}

// topIDs writes the len(out) highest-ranked ids into out, ranked, and
// returns it: a heap of the best len(out) seen so far with the worst at its
// root, so most ids cost one comparison; then a sort of the survivors.
// len(out) ≥ 1 and ≤ len(logits).
func topIDs(out []int32, logits []float32) []int32 {
	n := len(out)
	// worse reports whether heap entry a ranks after b (the heap's order).
	worse := func(a, b int32) bool { return ranksBefore(logits, b, a) }
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= n {
				return
			}
			if c+1 < n && worse(out[c+1], out[c]) {
				c++
			}
			if !worse(out[c], out[i]) {
				return
			}
			out[i], out[c] = out[c], out[i]
			i = c
		}
	}
	for i := range out {
		out[i] = int32(i)
	}
	for i := n/2 - 1; i >= 0; i-- {
		down(i)
	}
	root := logits[out[0]]
	for i := n; i < len(logits); i++ {
		l := logits[i]
		if l < root || (l == root) { // ties with the root lose: higher id
			continue
		}
		out[0] = int32(i)
		down(0)
		root = logits[out[0]]
	}
	slices.SortFunc(out, func(a, b int32) int {
		if ranksBefore(logits, a, b) {
			return -1
		}
		return 1
	})
	return out
}
