package corpus

import (
	"strings"
	"testing"
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
