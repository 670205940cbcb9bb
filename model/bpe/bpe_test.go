package bpe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

	defaultOnce sync.Once
	defaultTok  *Tokenizer
	defaultErr  error
)

// gpt2 loads the real GPT-2 vocabulary from the shared reference data,
// skipping the test where it is absent: for comparisons with GPT-2's own
// ids.
func gpt2(t testing.TB) *Tokenizer {
	t.Helper()
	return loadGPT2(t, testref.Path(t, "gpt2-tiny-random"))
}

func loadGPT2(t testing.TB, dir string) *Tokenizer {
	t.Helper()
	gpt2Once.Do(func() {
		gpt2Tok, gpt2Err = Load(dir+"/vocab.json", dir+"/merges.txt")
	})
	if gpt2Err != nil {
		t.Fatal(gpt2Err)
	}
	return gpt2Tok
}

// defaultTokenizer loads the default model's tokenizer (384 ids, 127
// merges, trained on Newton's Opticks; <|endoftext|> is 383) from the
// checkpoint folder package defaultmodel embeds.
func defaultTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	dir := testref.DefaultModelDir(t)
	defaultOnce.Do(func() {
		defaultTok, defaultErr = Load(dir+"/vocab.json", dir+"/merges.txt")
	})
	if defaultErr != nil {
		t.Fatal(defaultErr)
	}
	return defaultTok
}

// namedTokenizer is a tokenizer that property tests run on.
type namedTokenizer struct {
	name string // "default" or "gpt2"
	tok  *Tokenizer
}

// tokenizers returns the tokenizers the property tests (no reference
// values) run on: the default model's always, so that they run on a plain
// clone, and GPT-2's 50,000 merges as well where ../shared/reference is
// present.
func tokenizers(t testing.TB) []namedTokenizer {
	t.Helper()
	out := []namedTokenizer{{"default", defaultTokenizer(t)}}
	if dir, ok := testref.Lookup(t, "gpt2-tiny-random"); ok {
		out = append(out, namedTokenizer{"gpt2", loadGPT2(t, dir)})
	}
	return out
}

// concatEncode is the concatenation of Encode of each part.
func concatEncode(tok *Tokenizer, parts ...string) []int {
	var out []int
	for _, p := range parts {
		out = append(out, tok.Encode(p)...)
	}
	return out
}

func TestLoadGPT2(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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

// TestEncodeSpecial: <|endoftext|> in text is the one special id, alone or
// between other text; an unfinished marker is ordinary text; EncodeOrdinary
// never gives the special id.
func TestEncodeSpecial(t *testing.T) {
	t.Parallel()
	for _, nt := range tokenizers(t) {
		t.Run(nt.name, func(t *testing.T) {
			tok := nt.tok
			eot, ok := tok.EndOfText()
			if !ok {
				t.Fatal("no <|endoftext|>")
			}
			for _, c := range []struct {
				text string
				want []int
			}{
				{"<|endoftext|>", []int{eot}},
				{"<|endoftext|><|endoftext|>", []int{eot, eot}},
				{"a<|endoftext|>b", concatEncode(tok, "a", "<|endoftext|>", "b")},
				{"<|endoftext|", tok.EncodeOrdinary("<|endoftext|")},
			} {
				if got := tok.Encode(c.text); !slices.Equal(got, c.want) {
					t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
				}
			}
			if got := tok.Encode("a<|endoftext|>b"); len(got) != 3 || got[1] != eot {
				t.Errorf("Encode(a<|endoftext|>b) = %v, want [a %d b]", got, eot)
			}
			if got := tok.Encode("<|endoftext|"); slices.Contains(got, eot) || string(tok.Decode(got)) != "<|endoftext|" {
				t.Errorf("Encode(<|endoftext|) = %v, holds the special id or does not decode back", got)
			}
			if got := tok.EncodeOrdinary("<|endoftext|>"); slices.Contains(got, eot) || string(tok.Decode(got)) != "<|endoftext|>" {
				t.Errorf("EncodeOrdinary(<|endoftext|>) = %v", got)
			}
			if nt.name == "gpt2" { // GPT-2's own ids
				if got := tok.Encode("<|endoftext|"); !slices.Equal(got, []int{27, 91, 437, 1659, 5239, 91}) {
					t.Errorf("GPT-2 Encode(<|endoftext|) = %v, want [27 91 437 1659 5239 91]", got)
				}
				if got := tok.Encode("a<|endoftext|>b"); !slices.Equal(got, []int{64, 50256, 65}) {
					t.Errorf("GPT-2 Encode(a<|endoftext|>b) = %v, want [64 50256 65]", got)
				}
			}
		})
	}
}

func TestDecodeUnknownIDs(t *testing.T) {
	t.Parallel()
	for _, nt := range tokenizers(t) {
		t.Run(nt.name, func(t *testing.T) {
			tok := nt.tok
			V := tok.VocabSize()
			a, b := tok.Encode("a"), tok.Encode("b")
			if len(a) != 1 || len(b) != 1 {
				t.Fatalf("Encode(a) = %v, Encode(b) = %v; want one id each", a, b)
			}
			if got := string(tok.Decode([]int{-1, a[0], V, 1 << 40, b[0]})); got != "ab" {
				t.Errorf("Decode with unknown ids = %q, want %q", got, "ab")
			}
			if tok.TokenBytes(-5) != nil || tok.TokenBytes(V) != nil || tok.Symbol(V+99) != "" || tok.Valid(V) || tok.Valid(-1) {
				t.Error("an unknown id gives bytes, a symbol or counts as valid")
			}
			if got, want := tok.Display(V), fmt.Sprintf("<unknown id %d>", V); got != want {
				t.Errorf("Display(%d) = %q, want %q", V, got, want)
			}
		})
	}
}

func TestDisplay(t *testing.T) {
	t.Parallel()
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
	for _, nt := range tokenizers(t) {
		ids := nt.tok.Encode(" the") // one token in both vocabularies
		if len(ids) != 1 {
			t.Fatalf("%s: Encode(\" the\") = %v, want one id", nt.name, ids)
		}
		if got := nt.tok.Display(ids[0]); got != "␣the" {
			t.Errorf("%s: Display(%d) = %q, want ␣the", nt.name, ids[0], got)
		}
	}
}

func TestGroupUTF8(t *testing.T) {
	t.Parallel()
	for _, nt := range tokenizers(t) {
		t.Run(nt.name, func(t *testing.T) { testGroupUTF8(t, nt) })
	}
}

func testGroupUTF8(t *testing.T, nt namedTokenizer) {
	tok := nt.tok
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
	// A character split over several tokens: in GPT-2 度 (e5 ba a6) is
	// 41753 (e5 ba) and 99 (a6); in the default vocabulary, where common
	// characters are one token, the rarer 床 (e5 ba 8a) is two.
	char := "度"
	if nt.name != "gpt2" {
		char = "床"
	}
	ids := tok.Encode(char)
	if len(ids) < 2 {
		t.Fatalf("Encode(%s) = %v, want it split over tokens", char, ids)
	}
	if nt.name == "gpt2" && !slices.Equal(ids, []int{41753, 99}) {
		t.Fatalf("GPT-2 Encode(度) = %v, want [41753 99]", ids)
	}
	g := tok.GroupUTF8(ids)
	if len(g) != 1 || !g[0].Valid || string(g[0].Bytes) != char {
		t.Errorf("GroupUTF8(Encode(%s)) = %+v", char, g)
	}
	if got := tok.Display(ids[0]); !strings.HasPrefix(got, "<e5") || !strings.HasSuffix(got, ">") {
		t.Errorf("Display(%d) = %q, want the bytes <e5 …>", ids[0], got)
	}
	if got := tok.Display(ids[0]); nt.name == "gpt2" && got != "<e5 ba>" {
		t.Errorf("GPT-2 Display(41753) = %q, want <e5 ba>", got)
	}
	if g := tok.GroupUTF8(ids[:1]); len(g) != 1 || g[0].Valid {
		t.Errorf("GroupUTF8 of a lone partial token = %+v, want one invalid group", g)
	}
}

// TestMergeHeapEqualsScan checks the O(n log n) merge against encoder.py's
// loop on long pieces.
func TestMergeHeapEqualsScan(t *testing.T) {
	t.Parallel()
	for _, nt := range tokenizers(t) {
		t.Run(nt.name, func(t *testing.T) { testMergeHeapEqualsScan(t, nt.tok) })
	}
}

func testMergeHeapEqualsScan(t *testing.T, tok *Tokenizer) {
	for _, piece := range []string{
		" the Rays of Light",
		strings.Repeat(" the", 40),
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
	t.Parallel()
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
// ([^\s\p{L}\p{N}]) and which no merge involves: it is its own byte token
// (221 in GPT-2) between the tokens of the text around it.
func TestEncodeDEL(t *testing.T) {
	t.Parallel()
	for _, nt := range tokenizers(t) {
		t.Run(nt.name, func(t *testing.T) {
			tok := nt.tok
			del := tok.Encode("\x7f")
			if len(del) != 1 || string(tok.TokenBytes(del[0])) != "\x7f" {
				t.Fatalf("Encode(\\x7f) = %v, want its byte token", del)
			}
			for _, c := range []struct {
				text  string
				parts []string // encoded one by one and concatenated
				gpt2  []int    // GPT-2's own ids
			}{
				{"\x7f", []string{"\x7f"}, []int{221}},
				{"a\x7fb", []string{"a", "\x7f", "b"}, []int{64, 221, 65}},
				{".\x7f.", []string{".", "\x7f", "."}, []int{13, 221, 13}},
				{" \x7f", []string{" ", "\x7f"}, []int{220, 221}},
				{"x \x7fy", []string{"x", " ", "\x7f", "y"}, []int{87, 220, 221, 88}},
			} {
				got := tok.Encode(c.text)
				if want := concatEncode(tok, c.parts...); !slices.Equal(got, want) {
					t.Errorf("Encode(%q) = %v, want %v (the parts %q)", c.text, got, want, c.parts)
				}
				if nt.name == "gpt2" && !slices.Equal(got, c.gpt2) {
					t.Errorf("GPT-2 Encode(%q) = %v, want %v", c.text, got, c.gpt2)
				}
			}
		})
	}
	if got := PreTokenize("x \x7f.y"); !slices.Equal(got, []string{"x", " \x7f.", "y"}) {
		t.Errorf("PreTokenize = %q", got)
	}
}

// TestEncodeConcurrent encodes from several goroutines at once (run with
// -race) and checks each result.
func TestEncodeConcurrent(t *testing.T) {
	t.Parallel()
	for _, nt := range tokenizers(t) {
		t.Run(nt.name, func(t *testing.T) { testEncodeConcurrent(t, nt.tok) })
	}
}

func testEncodeConcurrent(t *testing.T, tok *Tokenizer) {
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
