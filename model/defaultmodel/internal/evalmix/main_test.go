package main

import (
	"testing"

	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/corpus"
)

// TestMixTokenizer pins the facts of the mixed corpus's 8,192-token BPE
// (what `gptviz train --corpus mix --vocab-size 8192` learns from
// corpus.MixTokenizerTrain) that issue 13 targets: common words and common
// Chinese characters are one token, and the pangram takes at most 14
// tokens. It took 16 before the two novels
// joined the mix: "brown", "fox", "jumps" and "lazy" occurred 25, 2, 3 and
// 5 times in the other sources.
func TestMixTokenizer(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an 8,192-token BPE (seconds)")
	}
	tr, err := corpus.MixTokenizerTrain(1)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := bpe.Train(tr, 8192)
	if err != nil {
		t.Fatal(err)
	}
	st := MeasureTokenizer(tok, tr)
	if n := len(st.Pangram); n != 14 {
		t.Errorf("pangram: %d tokens %q, want 14", n, st.Pangram)
	}
	if st.WordsOne < 0.75 {
		t.Errorf("%.1f%% of the 1,000 most frequent words are one token, want ≥ 75%%", 100*st.WordsOne)
	}
	if st.CharsOne < 1 {
		t.Errorf("%.1f%% of the 500 most frequent Chinese characters are one token, want 100%%", 100*st.CharsOne)
	}
	for _, c := range []struct {
		s    string
		want int
	}{{"明", 1}, {"月", 1}, {"明月", 1}, {"床", 2}, {" the", 1}, {" Light", 1}, {" LORD", 1}} {
		if got := len(tok.Encode(c.s)); got != c.want {
			t.Errorf("%q: %d tokens, want %d", c.s, got, c.want)
		}
	}
}

func TestLoopAt(t *testing.T) {
	for _, c := range []struct {
		name string
		ids  []int
		want int
	}{
		{"none", []int{1, 2, 3, 4, 5, 6, 7, 8}, -1},
		{"one token four times", []int{9, 1, 1, 1, 1}, 1},
		{"one token three times is not a loop", []int{9, 1, 1, 1, 2}, -1},
		{"period 2, three times", []int{5, 1, 2, 1, 2, 1, 2}, 1},
		{"period 3, twice is not a loop", []int{1, 2, 3, 1, 2, 3, 4}, -1},
		{"period 10", append(append(append([]int{0}, seq(10)...), seq(10)...), seq(10)...), 1},
		{"empty", nil, -1},
	} {
		if got := loopAt(c.ids); got != c.want {
			t.Errorf("%s: loopAt(%v) = %d, want %d", c.name, c.ids, got, c.want)
		}
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 100 + i
	}
	return s
}

func TestDistinct2(t *testing.T) {
	for _, c := range []struct {
		ids  []int
		want float64
	}{
		{[]int{1, 2, 3, 4}, 1},
		{[]int{1, 1, 1, 1, 1}, 0.25},
		{[]int{1, 2, 1, 2, 1}, 0.5},
		{[]int{7}, 0},
	} {
		if got := distinct2(c.ids); got != c.want {
			t.Errorf("distinct2(%v) = %g, want %g", c.ids, got, c.want)
		}
	}
}

func TestCJKShare(t *testing.T) {
	for _, c := range []struct {
		s        string
		cjk, han float64
	}{
		{"疑是地上霜。", 1, 5.0 / 6},
		{"\n举头望明月，\n", 1, 5.0 / 6},
		{"ab明月", 0.5, 0.5},
		{"", 0, 0},
	} {
		cjk, han := cjkShare(c.s)
		if cjk != c.cjk || han != c.han {
			t.Errorf("cjkShare(%q) = %g, %g; want %g, %g", c.s, cjk, han, c.cjk, c.han)
		}
	}
}

func TestInCorpus(t *testing.T) {
	words := wordSet("The Light of the Sun")
	share, n := inCorpus(" the light of Glorp", words)
	if share != 0.75 || n != 4 {
		t.Errorf("inCorpus = %g of %d, want 0.75 of 4", share, n)
	}
}
