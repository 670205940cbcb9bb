package bpe

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// trainText is a small mixed corpus: English prose with repeats, a
// contraction, digits, Chinese, an emoji and a document separator.
var trainText = strings.Repeat("The light of the sun is refracted by the prism. ", 20) +
	"It's the colours' order that matters: red, orange, yellow, green, blue.\n\n" +
	strings.Repeat("Opticks, or a treatise of the reflexions, refractions, inflexions and colours of light. ", 10) +
	"<|endoftext|>深度学习技术的飞速发展 🙂🚀 1704, 1717, 1730.\r\n\ttabbed   spaced\u00a0nbsp"

func TestTrainSmallByHand(t *testing.T) {
	t.Parallel()
	// Pieces: "ab" ×1, " ab" ×2, " abc" ×1. Pair counts: (a,b) 4, (Ġ,a) 3,
	// (b,c) 1. After a+b: (Ġ,ab) 3, (ab,c) 1. Then nothing reaches 2.
	tok, err := Train("ab ab ab abc", 300)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(tok.MergesText()), "#version: 0.2\na b\nĠ ab\n"; got != want {
		t.Errorf("merges = %q, want %q", got, want)
	}
	if got := tok.VocabSize(); got != 259 {
		t.Errorf("VocabSize = %d, want 259 (256 + 2 merges + <|endoftext|>)", got)
	}
	if id, ok := tok.EndOfText(); !ok || id != 258 {
		t.Errorf("EndOfText = %d, %v, want 258", id, ok)
	}
	if got := tok.Encode("ab abc<|endoftext|>"); !slices.Equal(got, []int{256, 257, 66, 258}) {
		t.Errorf("Encode = %v, want [256 257 66 258]", got)
	}
}

func TestTrainTieBreak(t *testing.T) {
	t.Parallel()
	// Every pair occurs once; ties go to the smaller left id, then right id:
	// (a,b)=(64,65) before (c,d)=(66,67) before (Ġ,c)=(220,66); after c+d the
	// pair (Ġ,cd) = (220,257) is next.
	tok, err := Train("ab cd", 300, MinFrequency(1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(tok.MergesText()), "#version: 0.2\na b\nc d\nĠ cd\n"; got != want {
		t.Errorf("merges = %q, want %q", got, want)
	}
}

func TestTrainBadSize(t *testing.T) {
	t.Parallel()
	for _, n := range []int{-1, 0, 256, MaxVocabSize + 1} {
		if _, err := Train("abc", n); err == nil || !strings.Contains(err.Error(), "vocabulary size") {
			t.Errorf("Train(vocabSize %d) err = %v", n, err)
		}
	}
	tok, err := Train("", 257)
	if err != nil || tok.VocabSize() != 257 || tok.NumMerges() != 0 {
		t.Errorf("Train(\"\", 257) = %v merges, %v", tok, err)
	}
}

// TestTrainWriteLoad trains, writes GPT-2 files, loads them back and checks
// that both tokenizers encode the same and every byte round-trips.
func TestTrainWriteLoad(t *testing.T) {
	t.Parallel()
	var calls int
	tok, err := Train(trainText, 300, Progress(func(done, total int) {
		calls++
		if total != 300-257 || done > total {
			t.Fatalf("progress %d/%d", done, total)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 300 {
		t.Errorf("VocabSize = %d, want 300", tok.VocabSize())
	}
	if calls != 300-257 {
		t.Errorf("progress called %d times, want %d", calls, 300-257)
	}
	for id, b := range byteOrder {
		if got := tok.TokenBytes(id); !bytes.Equal(got, []byte{b}) {
			t.Fatalf("id %d = %q, want byte %#x (bytes_to_unicode order)", id, got, b)
		}
	}
	if id, ok := tok.EndOfText(); !ok || id != 299 {
		t.Errorf("EndOfText = %d, %v, want 299", id, ok)
	}

	dir := filepath.Join(t.TempDir(), "tok")
	if err := tok.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	vocab, err := os.ReadFile(filepath.Join(dir, "vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(vocab, []byte(`{"!": 0, "\"": 1, "#": 2,`)) || !bytes.HasSuffix(vocab, []byte(`, "<|endoftext|>": 299}`)) {
		t.Errorf("vocab.json is not in GPT-2's layout: %.60s … %s", vocab, vocab[len(vocab)-40:])
	}
	merges, err := os.ReadFile(filepath.Join(dir, "merges.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(merges, []byte("#version: 0.2\nh e\n")) {
		t.Errorf("merges.txt starts %q", merges[:min(len(merges), 40)])
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("dir holds %d entries, want 2 (no temporary files left)", len(entries))
	}

	loaded, err := Load(filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if loaded.VocabSize() != tok.VocabSize() || loaded.NumMerges() != tok.NumMerges() {
		t.Errorf("loaded %d tokens %d merges, trained %d %d", loaded.VocabSize(), loaded.NumMerges(), tok.VocabSize(), tok.NumMerges())
	}
	texts := []string{trainText, "Unseen words: zebra, quixotic, 2026!", "\xff\xfe invalid \xe4", ""}
	for _, text := range texts {
		a, b := tok.Encode(text), loaded.Encode(text)
		if !slices.Equal(a, b) {
			t.Errorf("%.30q: trained %v, loaded %v", text, a, b)
		}
		if got := loaded.Decode(b); string(got) != text {
			t.Errorf("%.30q: round trip gives %.30q", text, got)
		}
	}
	if n := len(tok.Encode(trainText)); n >= len(trainText)/2 {
		t.Errorf("trained tokenizer uses %d tokens for %d bytes: merges don't compress", n, len(trainText))
	}

	// Deterministic: a second run writes identical files.
	again, err := Train(trainText, 300)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.VocabJSON(), vocab) || !bytes.Equal(again.MergesText(), merges) {
		t.Error("training twice gives different files")
	}
}

// TestTrainMatchesNaive compares the incremental trainer with a direct
// recount of all pairs after every merge.
func TestTrainMatchesNaive(t *testing.T) {
	t.Parallel()
	tok, err := Train(trainText, 360, MinFrequency(1))
	if err != nil {
		t.Fatal(err)
	}
	compareMerges(t, "trainText", tok.merges, naiveTrain(trainText, 360, 1))

	data, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt"))
	if err != nil {
		t.Fatal(err)
	}
	opticks := string(data[:40000])
	tok, err = Train(opticks, 700)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 700 {
		t.Errorf("Opticks: VocabSize = %d, want 700", tok.VocabSize())
	}
	compareMerges(t, "Opticks", tok.merges, naiveTrain(opticks, 700, 2))
}

func compareMerges(t *testing.T, name string, got, want [][2]int32) {
	t.Helper()
	if !slices.Equal(got, want) {
		n := 0
		for n < len(want) && n < len(got) && got[n] == want[n] {
			n++
		}
		t.Errorf("%s: merges differ from the naive trainer at merge %d (%d vs %d merges)", name, n, len(got), len(want))
	}
}

// naiveTrain recounts all pairs over all pieces for each merge.
func naiveTrain(text string, vocabSize, minFrequency int) [][2]int32 {
	var words [][]int32
	var tokens []string
	index := map[string]int32{}
	for id, b := range byteOrder {
		tokens = append(tokens, string([]byte{b}))
		index[tokens[id]] = int32(id)
	}
	for _, doc := range strings.Split(text, EndOfText) {
		for _, p := range PreTokenize(doc) {
			var w []int32
			for i := 0; i < len(p); i++ {
				w = append(w, index[p[i:i+1]])
			}
			words = append(words, w)
		}
	}
	var merges [][2]int32
	done := map[[2]int32]bool{}
	for len(tokens) < vocabSize-1 {
		counts := map[[2]int32]int{}
		for _, w := range words {
			for i := 0; i+1 < len(w); i++ {
				counts[[2]int32{w[i], w[i+1]}]++
			}
		}
		var best [2]int32
		bestN := 0
		for p, n := range counts {
			if done[p] || n == 0 {
				continue
			}
			if n > bestN || n == bestN && (p[0] < best[0] || p[0] == best[0] && p[1] < best[1]) {
				best, bestN = p, n
			}
		}
		if bestN < minFrequency {
			break
		}
		done[best] = true
		cat := tokens[best[0]] + tokens[best[1]]
		id, ok := index[cat]
		if !ok {
			id = int32(len(tokens))
			tokens = append(tokens, cat)
			index[cat] = id
		}
		merges = append(merges, best)
		for k, w := range words {
			j := 0
			for i := 0; i < len(w); j++ {
				if i+1 < len(w) && w[i] == best[0] && w[i+1] == best[1] {
					w[j] = id
					i += 2
				} else {
					w[j] = w[i]
					i++
				}
			}
			words[k] = w[:j]
		}
	}
	return merges
}

// BenchmarkTrain trains a 2,048-token vocabulary on Newton's Opticks (about
// 0.5 MB, shipped with Go).
func BenchmarkTrain(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Train(string(data), 2048); err != nil {
			b.Fatal(err)
		}
	}
}
