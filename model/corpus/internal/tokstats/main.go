// Command tokstats trains the BPE tokenizer of the mixed corpus at the given
// vocabulary sizes, as `gptviz train --corpus mix` does, and measures it:
// the tokens of the pangram, the share of the 1,000 most frequent corpus
// words (GPT-2 pieces " word") that are one token, the share of the 500
// most frequent CJK characters that are one token, and bytes per token of
// the text it learned from (corpus.MixTokenizerTrain).
//
//	go run ./model/corpus/internal/tokstats 6144 8192
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/corpus"
)

func main() {
	tr, err := corpus.MixTokenizerTrain(1)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, a := range os.Args[1:] {
		v, _ := strconv.Atoi(a)
		t0 := time.Now()
		tok, err := bpe.Train(tr, v)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		el := time.Since(t0)
		Report(tok, tr, v, el)
	}
}

// Report prints the measurements of tok on the training text tr.
func Report(tok *bpe.Tokenizer, tr string, v int, el time.Duration) {
	pangram := "The quick brown fox jumps over the lazy dog."
	ids := tok.Encode(pangram)
	var parts []string
	for _, id := range ids {
		parts = append(parts, string(tok.Decode([]int{id})))
	}
	// word frequencies: letters-only words, counted with a leading space as GPT-2 pieces
	freq := map[string]int{}
	for _, w := range strings.FieldsFunc(tr, func(r rune) bool { return !unicode.IsLetter(r) || r > unicode.MaxLatin1 }) {
		freq[w]++
	}
	words := make([]string, 0, len(freq))
	for w := range freq {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		if freq[words[i]] != freq[words[j]] {
			return freq[words[i]] > freq[words[j]]
		}
		return words[i] < words[j]
	})
	one := 0
	for _, w := range words[:1000] {
		if len(tok.Encode(" "+w)) == 1 {
			one++
		}
	}
	cfreq := map[rune]int{}
	for _, r := range tr {
		if unicode.Is(unicode.Han, r) {
			cfreq[r]++
		}
	}
	chars := make([]rune, 0, len(cfreq))
	for r := range cfreq {
		chars = append(chars, r)
	}
	sort.Slice(chars, func(i, j int) bool {
		if cfreq[chars[i]] != cfreq[chars[j]] {
			return cfreq[chars[i]] > cfreq[chars[j]]
		}
		return chars[i] < chars[j]
	})
	cone, nc := 0, min(500, len(chars))
	for _, r := range chars[:nc] {
		if len(tok.Encode(string(r))) == 1 {
			cone++
		}
	}
	n := len(tok.Encode(tr))
	fmt.Printf("vocab %d (trained %v): pangram %d tokens %q; top-1000 words one token %.1f%%; top-%d CJK chars one token %.1f%% (of %d distinct); %.3f bytes/token, %d training tokens\n",
		v, el.Round(time.Second), len(ids), parts, 100*float64(one)/1000, nc, 100*float64(cone)/float64(nc), len(chars), float64(len(tr))/float64(n), n)
}
