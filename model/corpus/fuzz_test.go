package corpus

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParagraphs checks the cleaner on arbitrary text: no panic, no empty
// paragraph, no paragraph with a newline, a leading or trailing space, or an
// underscore; and Split keeps every paragraph exactly once.
func FuzzParagraphs(f *testing.F) {
	f.Add("Produced by X\n\nOne\ntwo\n\n[Illustration: FIG. 1]\n\nThe _End_.815")
	f.Add("a | b\n\n\n\n  \t\n x")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		ps := Paragraphs(s)
		for _, p := range ps {
			if p == "" || strings.ContainsAny(p, "\n_") || strings.TrimSpace(p) != p {
				t.Fatalf("bad paragraph %q", p)
			}
		}
		tr, va := Split(ps, 0.1, 7)
		if len(tr)+len(va) != len(ps) {
			t.Fatalf("split lost paragraphs: %d + %d of %d", len(tr), len(va), len(ps))
		}
	})
}

// FuzzParse checks corpus loading on arbitrary bytes: no panic; an error
// exactly when the bytes are not UTF-8 or hold no paragraph; otherwise the
// training text is non-empty UTF-8 and both texts are made of the
// paragraphs Paragraphs finds.
func FuzzParse(f *testing.F) {
	f.Add([]byte("One paragraph.\n\nAnother one.\n\nA third."), uint64(1))
	f.Add([]byte("\xff\xfe bad"), uint64(2))
	f.Add([]byte("  \n\n\t\n"), uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		tr, va, err := Parse(data, "fuzz.txt", seed)
		ps := Paragraphs(string(data))
		if !utf8.Valid(data) || len(ps) == 0 {
			if err == nil {
				t.Fatalf("Parse accepted %q", data)
			}
			return
		}
		if err != nil {
			t.Fatalf("Parse(%q): %v", data, err)
		}
		if tr == "" || !utf8.ValidString(tr) || !utf8.ValidString(va) {
			t.Fatalf("bad split %q / %q", tr, va)
		}
		if got := len(strings.Split(tr, "\n\n")) + len(strings.Split(va, "\n\n")); va != "" && got != len(ps) {
			t.Fatalf("%d paragraphs after the split, want %d", got, len(ps))
		}
	})
}
