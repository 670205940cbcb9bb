package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestEmbeddedMatchesGoroot checks that the embedded copy is byte for byte
// the file in the Go distribution that the provenance note names.
func TestEmbeddedMatchesGoroot(t *testing.T) {
	t.Parallel()
	raw, err := OpticksRaw()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != OpticksSHA256 {
		t.Fatalf("embedded SHA-256 %s, want %s", got, OpticksSHA256)
	}
	goroot, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt"))
	if err != nil {
		t.Fatalf("the Go distribution's copy: %v", err)
	}
	if string(goroot) != string(raw) {
		t.Errorf("embedded text differs from $GOROOT/src/testdata/Isaac.Newton-Opticks.txt")
	}
}

func TestParagraphs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"joins wrapped lines", "One\ntwo  three\n\nFour.\n", []string{"One two three", "Four."}},
		{"drops credit and note", "Produced by Someone\nat pgdp\n\nText.\n\nTranscriber's Note: x\n\n       *       *\n\nMore.", []string{"Text.", "More."}},
		{"drops italics marks", "_Sir_ Isaac", []string{"Sir Isaac"}},
		{"drops illustrations and tables", "[Illustration: FIG. 1]\n\n a | b\n 1 | 2\n\nProse.", []string{"Prose."}},
		{"drops number glued to the end", "They corrupted themselves.815", []string{"They corrupted themselves."}},
		{"CRLF", "A\r\nB\r\n\r\nC", []string{"A B", "C"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Paragraphs(c.in)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("Paragraphs(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestOpticks checks the cleaned corpus: size, no boilerplate, and a split
// that is deterministic, disjoint and about 10% validation.
func TestOpticks(t *testing.T) {
	t.Parallel()
	raw, err := OpticksRaw()
	if err != nil {
		t.Fatal(err)
	}
	ps := Paragraphs(string(raw))
	tr, va := Split(ps, 0.1, 1)
	if len(tr)+len(va) != len(ps) || len(va) != (len(ps)+5)/10 {
		t.Errorf("split %d + %d of %d paragraphs, want 10%% validation", len(tr), len(va), len(ps))
	}
	train, val, err := Opticks(1)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(train) + len(val); n < 500_000 {
		t.Errorf("cleaned corpus is %d bytes, want ≥ 500,000", n)
	}
	for _, bad := range []string{"Produced by", "pgdp", "Transcriber", "[Illustration", "_", "themselves.815"} {
		if strings.Contains(train+val, bad) {
			t.Errorf("cleaned text still contains %q", bad)
		}
	}
	train2, val2, _ := Opticks(1)
	if train2 != train || val2 != val {
		t.Error("Opticks(1) differs between calls")
	}
	_, val3, _ := Opticks(2)
	if val3 == val {
		t.Error("a different split seed gives the same validation text")
	}
}
