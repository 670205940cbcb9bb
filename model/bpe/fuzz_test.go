package bpe

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"

	"github.com/gptviz/gptviz/internal/testref"
)

// regexPieces splits text with GPT-2's Pattern run by a backtracking regex
// engine (regexp2, which supports the lookahead), as an independent check of
// the hand-written scanner. Only for valid UTF-8 without U+007F, which
// regexp2's compiled form of this pattern skips (see
// TestTiktokenOracleDropsDEL).
func regexPieces(t testing.TB, text string) []string {
	re := regexp2.MustCompile(Pattern, regexp2.None)
	var out []string
	m, err := re.FindStringMatch(text)
	for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
		out = append(out, m.String())
	}
	if err != nil {
		t.Fatalf("regexp2 on %q: %v", text, err)
	}
	return out
}

func FuzzEncodeDecode(f *testing.F) {
	for _, s := range []string{
		"", " ", "Hello, I'm a language model,", "a  's", "x   y", "\t\tx",
		"line one\n\n\nline five", "tabs\tand\r\nwindows", "<|endoftext|>A new document",
		"café naïve", "深度学习技术的飞速发展", "Emoji 🙂🚀 👨‍👩‍👧", "\xff\xfe\xe4\xbd", " \xe6",
		"a\u00a0b\u3000c\u2028d", "\x1c\x1f\x7f", strings.Repeat("a", 100), "don't 'S 'll",
	} {
		f.Add(s)
	}
	// The default model's tokenizer, and GPT-2's where ../shared/reference
	// is present.
	toks := tokenizers(f)
	f.Fuzz(func(t *testing.T, s string) {
		pieces := PreTokenize(s)
		if strings.Join(pieces, "") != s || slices.Contains(pieces, "") {
			t.Fatalf("PreTokenize(%q) = %q", s, pieces)
		}
		if utf8.ValidString(s) && !strings.Contains(s, "\x7f") {
			if want := regexPieces(t, s); !slices.Equal(pieces, want) {
				t.Fatalf("PreTokenize(%q)\n got %q\nregexp2 %q", s, pieces, want)
			}
		}
		for _, nt := range toks {
			checkEncodeDecode(t, nt, s, pieces)
		}
	})
}

// checkEncodeDecode checks one fuzz input s, split into pieces, with one
// tokenizer.
func checkEncodeDecode(t *testing.T, nt namedTokenizer, s string, pieces []string) {
	tok := nt.tok
	ids := tok.Encode(s)
	if got := tok.Decode(ids); string(got) != s {
		t.Fatalf("%s: Decode(Encode(%q)) = %q (ids %v)", nt.name, s, got, ids)
	}
	for _, id := range ids {
		if !tok.Valid(id) {
			t.Fatalf("%s: Encode(%q) gave invalid id %d", nt.name, s, id)
		}
	}
	if got := tok.Decode(tok.EncodeOrdinary(s)); string(got) != s {
		t.Fatalf("%s: Decode(EncodeOrdinary(%q)) = %q", nt.name, s, got)
	}
	// The O(n log n) merge agrees with encoder.py's loop on every piece.
	for _, p := range pieces {
		var w []int32
		for i := 0; i < len(p); i++ {
			w = append(w, tok.byteID[p[i]])
		}
		if a, b := tok.mergeScan(slices.Clone(w)), tok.mergeHeap(slices.Clone(w)); !slices.Equal(a, b) {
			t.Fatalf("%s: piece %q: scan %v, heap %v", nt.name, p, a, b)
		}
	}
	for _, g := range tok.GroupUTF8(ids) {
		if g.Valid != utf8.Valid(g.Bytes) {
			t.Fatalf("%s: group %+v: Valid disagrees with utf8.Valid", nt.name, g)
		}
	}
}

func FuzzParse(f *testing.F) {
	vocab := minimalVocab(f, "ab", "abc", "Ġab", "<|endoftext|>")
	f.Add(vocab, []byte("#version: 0.2\na b\nab c\nĠ ab\n"))
	f.Add(vocab, []byte("a b\r\nab c\r\n\r\n"))
	f.Add(vocab, []byte("a b c\n"))
	f.Add(vocab, []byte("a b\na b\n"))
	f.Add([]byte(`{"a": 0}`), []byte(""))
	f.Add([]byte(`{"!": 0, "!": 1}`), []byte(""))
	f.Add([]byte(`[1, 2]`), []byte("x"))
	f.Add([]byte(`{"a": 1e99}`), []byte("x"))
	f.Add(bytes.Replace(vocab, []byte(`"abc": 257`), []byte(`"abc": 99999999999999999999`), 1), []byte("a b\n"))
	f.Fuzz(func(t *testing.T, vocabJSON, merges []byte) {
		tok, err := Parse(vocabJSON, "vocab.json", merges, "merges.txt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "bpe: vocab.json") && !strings.HasPrefix(err.Error(), "bpe: merges.txt") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// What parses writes back as GPT-2 files that parse to the same files.
		again, err := Parse(tok.VocabJSON(), "vocab.json", tok.MergesText(), "merges.txt")
		if err != nil {
			t.Fatalf("re-parse of written files: %v", err)
		}
		if !bytes.Equal(again.VocabJSON(), tok.VocabJSON()) || !bytes.Equal(again.MergesText(), tok.MergesText()) {
			t.Fatal("written files change on a second round")
		}
		for _, s := range []string{"abc ab", "\xff<|endoftext|>é"} {
			if got := tok.Decode(tok.Encode(s)); string(got) != s {
				t.Fatalf("round trip of %q gives %q", s, got)
			}
		}
	})
}

func FuzzTrain(f *testing.F) {
	f.Add("ab ab ab abc", 300)
	f.Add("The light of the sun<|endoftext|>深度学习 \xff\xfe", 270)
	f.Add(strings.Repeat("aaaa ", 50), 260)
	f.Fuzz(func(t *testing.T, text string, vocabSize int) {
		if len(text) > 4096 {
			return
		}
		vocabSize = 257 + ((vocabSize%200)+200)%200
		tok, err := Train(text, vocabSize, MinFrequency(1))
		if err != nil {
			t.Fatal(err)
		}
		if tok.VocabSize() > vocabSize {
			t.Fatalf("VocabSize %d > %d", tok.VocabSize(), vocabSize)
		}
		loaded, err := Parse(tok.VocabJSON(), "vocab.json", tok.MergesText(), "merges.txt")
		if err != nil {
			t.Fatalf("trained files do not parse: %v", err)
		}
		a, b := tok.Encode(text), loaded.Encode(text)
		if !slices.Equal(a, b) {
			t.Fatalf("trained %v, loaded %v", a, b)
		}
		if got := loaded.Decode(b); string(got) != text {
			t.Fatalf("round trip gives %q", got)
		}
	})
}

// benchText returns about n bytes of English (Newton's Opticks, shipped with
// Go), repeated as needed.
func benchText(b *testing.B, n int) string {
	data, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt"))
	if err != nil {
		b.Fatal(err)
	}
	s := strings.Repeat(string(data), n/len(data)+1)
	return s[:n]
}

// BenchmarkEncode measures Encode with the GPT-2 vocabulary on 1 MB of
// English with the piece cache warm (steady state) and emptied before each
// run (cold), on 256 KB of Chinese (long pieces, the heap merge) and on
// 256 KB of seeded random mixed-script text.
func BenchmarkEncode(b *testing.B) {
	tok := gpt2(b)
	english := benchText(b, 1<<20)
	chinese := "深度学习技术的飞速发展为大语言模型的研究提供了强大的推动力。工作记忆（Working Memory）是一种临时存储信息的能力，"
	chinese = strings.Repeat(chinese, (1<<18)/len(chinese)+1)
	r := rand.New(rand.NewPCG(1, 2))
	var mixed strings.Builder
	for mixed.Len() < 1<<18 {
		mixed.WriteString(randomOracleString(r))
	}
	for _, c := range []struct {
		name string
		text string
		cold bool
	}{
		{"english-1MB", english, false},
		{"english-1MB-cold", english, true},
		{"chinese-256KB-cold", chinese, true},
		{"mixed-256KB-cold", mixed.String(), true},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			tok.Encode(c.text)
			for b.Loop() {
				if c.cold {
					tok.cacheMu.Lock()
					clear(tok.cache)
					tok.cacheMu.Unlock()
				}
				tok.Encode(c.text)
			}
			b.ReportMetric(float64(len(tok.Encode(c.text))), "tokens")
		})
	}
}

// BenchmarkLoad measures parsing GPT-2's vocab.json and merges.txt.
func BenchmarkLoad(b *testing.B) {
	dir := testref.Path(b, "gpt2-tiny-random")
	for b.Loop() {
		if _, err := Load(dir+"/vocab.json", dir+"/merges.txt"); err != nil {
			b.Fatal(err)
		}
	}
}
