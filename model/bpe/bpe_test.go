package bpe

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
)

var (
	gpt2Once sync.Once
	gpt2Tok  *Tokenizer
	gpt2Err  error
)

// gpt2 loads the real GPT-2 vocabulary from the shared reference data.
func gpt2(t testing.TB) *Tokenizer {
	t.Helper()
	dir := testref.Path(t, "gpt2-tiny-random")
	gpt2Once.Do(func() {
		gpt2Tok, gpt2Err = Load(dir+"/vocab.json", dir+"/merges.txt")
	})
	if gpt2Err != nil {
		t.Fatal(gpt2Err)
	}
	return gpt2Tok
}

func TestLoadGPT2(t *testing.T) {
	tok := gpt2(t)
	if got := tok.VocabSize(); got != 50257 {
		t.Errorf("VocabSize = %d, want 50257", got)
	}
	if got := tok.NumMerges(); got != 50000 {
		t.Errorf("NumMerges = %d, want 50000", got)
	}
	if id, ok := tok.EndOfText(); !ok || id != 50256 {
		t.Errorf("EndOfText = %d, %v; want 50256, true", id, ok)
	}
	for _, c := range []struct {
		id   int
		sym  string
		text string
	}{
		{0, "!", "!"},
		{220, "Ġ", " "},
		{198, "Ċ", "\n"},
		{262, "Ġthe", " the"},
		{50256, "<|endoftext|>", "<|endoftext|>"},
	} {
		if got := tok.Symbol(c.id); got != c.sym {
			t.Errorf("Symbol(%d) = %q, want %q", c.id, got, c.sym)
		}
		if got := string(tok.TokenBytes(c.id)); got != c.text {
			t.Errorf("TokenBytes(%d) = %q, want %q", c.id, got, c.text)
		}
	}
}

// TestReferenceCases encodes every case of the shared reference exactly and
// decodes it back byte for byte.
func TestReferenceCases(t *testing.T) {
	tok := gpt2(t)
	data, err := os.ReadFile(testref.Path(t, "gpt2_tokenizer_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Text string `json:"text"`
			IDs  []int  `json:"ids"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 20 {
		t.Fatalf("only %d reference cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		got := tok.Encode(c.Text)
		if !slices.Equal(got, c.IDs) && !(len(got) == 0 && len(c.IDs) == 0) {
			t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
		}
		if back := tok.Decode(c.IDs); string(back) != c.Text {
			t.Errorf("Decode(%v) = %q, want %q", c.IDs, back, c.Text)
		}
	}
}

func TestPreTokenize(t *testing.T) {
	for _, c := range []struct {
		name string
		text string
		want []string
	}{
		{"empty", "", nil},
		{"words", "Hello world", []string{"Hello", " world"}},
		{"lookahead gives back a space", "a  's", []string{"a", " ", " '", "s"}},
		{"three spaces", "x   y", []string{"x", "  ", " y"}},
		{"trailing spaces kept together", "x   ", []string{"x", "   "}},
		{"leading spaces", "  x", []string{" ", " x"}},
		{"tab before word is its own piece", "\tx", []string{"\t", "x"}},
		{"two tabs before word", "\t\tx", []string{"\t", "\t", "x"}},
		{"newlines then space word", "a\n\n  b", []string{"a", "\n\n ", " b"}},
		{"crlf splits before a word", "a\r\nb", []string{"a", "\r", "\n", "b"}},
		{"crlf at end", "a\r\n", []string{"a", "\r\n"}},
		{"contractions", "I'm you'll he'd they've we're it's don't", []string{"I", "'m", " you", "'ll", " he", "'d", " they", "'ve", " we", "'re", " it", "'s", " don", "'t"}},
		{"contraction is case-sensitive", "IT'S", []string{"IT", "'", "S"}},
		{"curly apostrophe is not a contraction", "it’s", []string{"it", "’", "s"}},
		{"space before apostrophe", " 's", []string{" '", "s"}},
		{"apostrophes run", "'''s", []string{"'''", "s"}},
		{"numbers", "abc123 456", []string{"abc", "123", " 456"}},
		{"punctuation run", "a?!.. b", []string{"a", "?!..", " b"}},
		{"nbsp is whitespace", "a\u00a0b", []string{"a", "\u00a0", "b"}},
		{"nbsp before space word", "a\u00a0 b", []string{"a", "\u00a0", " b"}},
		{"ideographic space", "中\u3000文", []string{"中", "\u3000", "文"}},
		{"line separator", "a\u2028\u2028b", []string{"a", "\u2028", "\u2028", "b"}},
		{"information separators are not whitespace", "a\x1c\x1fb", []string{"a", "\x1c\x1f", "b"}},
		{"vertical tab and form feed are whitespace", "a\v\fb", []string{"a", "\v", "\f", "b"}},
		{"zero width space is other", "a\u200bb", []string{"a", "\u200b", "b"}},
		{"chinese is letters", "深度学习。", []string{"深度学习", "。"}},
		{"emoji zwj sequence", "hi 👨‍👩‍👧!", []string{"hi", " 👨‍👩‍👧!"}},
		{"combining mark splits", "e\u0301t", []string{"e", "\u0301", "t"}},
		{"invalid utf-8 is other", "a\xff\xfeb \xc3", []string{"a", "\xff\xfe", "b", " \xc3"}},
		{"space then invalid", " \xe4\xbd", []string{" \xe4\xbd"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := PreTokenize(c.text)
			if !slices.Equal(got, c.want) {
				t.Errorf("PreTokenize(%q)\n got %q\nwant %q", c.text, got, c.want)
			}
		})
	}
}

func TestEncodeSpecial(t *testing.T) {
	tok := gpt2(t)
	for _, c := range []struct {
		text string
		want []int
	}{
		{"<|endoftext|>", []int{50256}},
		{"<|endoftext|><|endoftext|>", []int{50256, 50256}},
		{"a<|endoftext|>b", []int{64, 50256, 65}},
		{"<|endoftext|", []int{27, 91, 437, 1659, 5239, 91}},
	} {
		if got := tok.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := tok.EncodeOrdinary("<|endoftext|>"); slices.Contains(got, 50256) || string(tok.Decode(got)) != "<|endoftext|>" {
		t.Errorf("EncodeOrdinary(<|endoftext|>) = %v", got)
	}
}

func TestDecodeUnknownIDs(t *testing.T) {
	tok := gpt2(t)
	if got := string(tok.Decode([]int{-1, 64, 50257, 1 << 40, 65})); got != "ab" {
		t.Errorf("Decode with unknown ids = %q, want %q", got, "ab")
	}
	if tok.TokenBytes(-5) != nil || tok.TokenBytes(50257) != nil || tok.Symbol(99999) != "" {
		t.Error("unknown id gives bytes")
	}
	if got := tok.Display(50257); got != "<unknown id 50257>" {
		t.Errorf("Display(50257) = %q", got)
	}
}

func TestDisplay(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{" the", "␣the"},
		{"   ", "␣␣␣"},
		{"\n", "↵"},
		{"\n\n", "↵↵"},
		{"\t", "⇥"},
		{"\r\n", "␍↵"},
		{"\x00\x1b\x7f", `\x00\x1b\x7f`},
		{"\u00a0", `\u00a0`},
		{"\u3000", `\u3000`},
		{"\u2028", `\u2028`},
		{"\u200d", `\u200d`},
		{"\u0085", `\u0085`},
		{"\xe4\xbd", "<e4 bd>"},
		{" \xe6", "␣<e6>"},
		{"\xa0好", "<a0>好"},
		{"café", "café"},
		{"🙂", "🙂"},
		{"<|endoftext|>", "<|endoftext|>"},
	} {
		if got := DisplayBytes([]byte(c.in)); got != c.want {
			t.Errorf("DisplayBytes(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	tok := gpt2(t)
	if got := tok.Display(262); got != "␣the" {
		t.Errorf("Display(262) = %q", got)
	}
}

func TestGroupUTF8(t *testing.T) {
	tok := gpt2(t)
	for _, text := range []string{
		"深度学习技术的飞速发展",
		"Emoji 🙂🚀 and 👨‍👩‍👧",
		"plain ascii",
		"",
		"a\xffb\xe4\xbd",
	} {
		ids := tok.Encode(text)
		groups := tok.GroupUTF8(ids)
		var cat []byte
		next := 0
		for _, g := range groups {
			if g.Start != next || g.End <= g.Start {
				t.Fatalf("%q: groups %+v do not tile the ids", text, groups)
			}
			next = g.End
			cat = append(cat, g.Bytes...)
			if want := string(tok.Decode(ids[g.Start:g.End])); string(g.Bytes) != want {
				t.Errorf("%q: group bytes %q, want %q", text, g.Bytes, want)
			}
		}
		if next != len(ids) || !bytes.Equal(cat, []byte(text)) {
			t.Errorf("%q: groups cover %d of %d ids, bytes %q", text, next, len(ids), cat)
		}
	}
	// 度 is one character split over two GPT-2 tokens: 41753 (e5 ba) and 99 (a6).
	ids := tok.Encode("度")
	if !slices.Equal(ids, []int{41753, 99}) {
		t.Fatalf("Encode(度) = %v, want [41753 99]", ids)
	}
	g := tok.GroupUTF8(ids)
	if len(g) != 1 || !g[0].Valid || string(g[0].Bytes) != "度" {
		t.Errorf("GroupUTF8(Encode(度)) = %+v", g)
	}
	if got := tok.Display(41753); got != "<e5 ba>" {
		t.Errorf("Display(41753) = %q, want <e5 ba>", got)
	}
	if g := tok.GroupUTF8(ids[:1]); len(g) != 1 || g[0].Valid {
		t.Errorf("GroupUTF8 of a lone partial token = %+v, want one invalid group", g)
	}
}

// TestMergeHeapEqualsScan checks the O(n log n) merge against encoder.py's
// loop on long pieces.
func TestMergeHeapEqualsScan(t *testing.T) {
	tok := gpt2(t)
	for _, piece := range []string{
		strings.Repeat("a", 200),
		strings.Repeat("ab", 77),
		strings.Repeat("深度学习技术的飞速发展为大语言模型的研究提供了强大的推动力", 5),
		strings.Repeat("=", 99),
		" " + strings.Repeat("antidisestablishmentarianism", 4),
		strings.Repeat(" ", 130),
		strings.Repeat("1234567890", 9),
	} {
		var w []int32
		for i := 0; i < len(piece); i++ {
			w = append(w, tok.byteID[piece[i]])
		}
		scan := tok.mergeScan(slices.Clone(w))
		heap := tok.mergeHeap(slices.Clone(w))
		if !slices.Equal(scan, heap) {
			t.Errorf("piece %q…: heap %v, scan %v", piece[:10], heap, scan)
		}
	}
}

func TestParseErrors(t *testing.T) {
	vocab := string(minimalVocab(t, "ab", "abc"))
	merges := "#version: 0.2\na b\nab c\n"
	if _, err := Parse([]byte(vocab), "vocab.json", []byte(merges), "merges.txt"); err != nil {
		t.Fatalf("minimal files: %v", err)
	}
	for _, c := range []struct {
		name, vocab, merges string
		file                string
		line                int
		msg                 string
	}{
		{"not json", "{", merges, "vocab.json", 1, "not JSON"},
		{"array", "[]", merges, "vocab.json", 1, "JSON object"},
		{"string id", strings.Replace(vocab, `"ab": 256`, `"ab": "x"`, 1), merges, "vocab.json", 2, "want an integer"},
		{"negative id", strings.Replace(vocab, `"ab": 256`, `"ab": -3`, 1), merges, "vocab.json", 2, "non-negative"},
		{"fraction id", strings.Replace(vocab, `"ab": 256`, `"ab": 2.5`, 1), merges, "vocab.json", 2, "non-negative integer"},
		{"duplicate id", strings.Replace(vocab, `"ab": 256`, `"ab": 5`, 1), merges, "vocab.json", 2, "id 5 is used by both"},
		{"gap", strings.Replace(vocab, `"abc": 257`, `"abc": 258`, 1), merges, "vocab.json", 0, "id 257 is missing"},
		{"duplicate token", strings.Replace(vocab, `"abc": 257`, `"abc": 257, "ab": 258`, 1), merges, "vocab.json", 2, `"ab" appears twice`},
		{"not byte-level", strings.Replace(vocab, `"abc": 257`, `"abc": 257, "a b": 258`, 1), merges, "vocab.json", 0, "not byte-level"},
		{"missing byte", strings.Replace(vocab, `"a": 64`, `"aa": 64`, 1), merges, "vocab.json", 0, "single-byte token \"a\""},
		{"trailing data", vocab + "x", merges, "vocab.json", 2, "after the JSON object"},
		{"empty token", strings.Replace(vocab, `"abc": 257`, `"": 257`, 1), merges, "vocab.json", 2, "empty token"},
		{"three symbols", vocab, "#version: 0.2\na b c\n", "merges.txt", 2, "two symbols"},
		{"one symbol", vocab, "#version: 0.2\na b\nabc\n", "merges.txt", 3, "two symbols"},
		{"two spaces", vocab, "a  b\n", "merges.txt", 1, "two symbols"},
		{"unknown symbol", vocab, "a b\nzz a\n", "merges.txt", 2, `symbol "zz" is not a token`},
		{"result not in vocab", vocab, "a b\nb c\n", "merges.txt", 2, `merge result "bc"`},
		{"undecodable symbol", vocab, "a b\nab \u4e00\n", "merges.txt", 2, "not byte-level"},
		{"duplicate merge", vocab, "a b\nab c\na b\n", "merges.txt", 3, "repeats line 1"},
		{"blank line inside", vocab, "a b\n\nab c\n", "merges.txt", 2, "empty line"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.vocab), "vocab.json", []byte(c.merges), "merges.txt")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.File != c.file || pe.Line != c.line || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %v (file %s line %d), want file %s line %d containing %q", err, pe.File, pe.Line, c.file, c.line, c.msg)
			}
		})
	}
	// Accepted variations: no header, CRLF, trailing blank lines.
	for _, m := range []string{"a b\nab c", "#version: 0.2\r\na b\r\nab c\r\n", "a b\nab c\n\n\n"} {
		tok, err := Parse([]byte(vocab), "vocab.json", []byte(m), "merges.txt")
		if err != nil {
			t.Errorf("merges %q: %v", m, err)
			continue
		}
		if got := tok.Encode("abc ab"); !slices.Equal(got, []int{257, 220, 256}) {
			t.Errorf("merges %q: Encode = %v", m, got)
		}
	}
}

// minimalVocab returns a vocab.json with the 256 byte tokens on the first
// line and the extra tokens (ids 256, 257, …) on the second.
func minimalVocab(t testing.TB, extra ...string) []byte {
	var sb strings.Builder
	sb.WriteByte('{')
	for id, b := range byteOrder {
		if id > 0 {
			sb.WriteString(", ")
		}
		writeJSONString(&sb, string(byteEncoder[b]))
		sb.WriteString(": ")
		sb.WriteString(strconv.Itoa(id))
	}
	sb.WriteString(",\n")
	for i, e := range extra {
		if i > 0 {
			sb.WriteString(", ")
		}
		writeJSONString(&sb, e)
		sb.WriteString(": " + strconv.Itoa(256+i))
	}
	sb.WriteString("}")
	return []byte(sb.String())
}

// TestEncodeDEL pins U+007F, which GPT-2's pattern treats as punctuation-like
// ([^\s\p{L}\p{N}]) and which no GPT-2 merge involves (token 221).
func TestEncodeDEL(t *testing.T) {
	tok := gpt2(t)
	for _, c := range []struct {
		text string
		want []int
	}{
		{"\x7f", []int{221}},
		{"a\x7fb", []int{64, 221, 65}},
		{".\x7f.", []int{13, 221, 13}},
		{" \x7f", []int{220, 221}},
		{"x \x7fy", []int{87, 220, 221, 88}},
	} {
		if got := tok.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := PreTokenize("x \x7f.y"); !slices.Equal(got, []string{"x", " \x7f.", "y"}) {
		t.Errorf("PreTokenize = %q", got)
	}
}

// TestEncodeConcurrent encodes from several goroutines at once (run with
// -race) and checks each result.
func TestEncodeConcurrent(t *testing.T) {
	tok := gpt2(t)
	texts := []string{"Hello, I'm a language model,", "深度学习技术的飞速发展", "x   y\n\n", "<|endoftext|>a  's"}
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := (g + i) % len(texts)
				if got := tok.Encode(texts[k]); !slices.Equal(got, want[k]) {
					t.Errorf("goroutine %d: Encode(%q) = %v, want %v", g, texts[k], got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}
