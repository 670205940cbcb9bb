package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestMixSources checks every shipped source of the mix: valid UTF-8,
// about its recorded size, no markup left from the packages it came from.
func TestMixSources(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		paras    int
		contains string
	}{
		{"opticks", 634, "Rays of Light"},
		{"kjv", 605, "In the beginning God created the heaven and the earth."},
		{"devil", 1464, "ABDOMEN, n. The temple of the god Stomach"},
		{"jargon", 2593, "hack: [very common] 1. n. Originally, a quick job"},
		{"sawyer", 1699, "Tom appeared on the sidewalk with a bucket of whitewash"},
		{"holmes", 2309, "To Sherlock Holmes she is always THE woman."},
		{"tangsong", 408, "兰叶春葳蕤，桂华秋皎洁。"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps, err := MixParagraphs(c.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != c.paras {
				t.Errorf("%d paragraphs, want %d", len(ps), c.paras)
			}
			all := strings.Join(ps, "\n\n")
			if !utf8.ValidString(all) {
				t.Errorf("not valid UTF-8")
			}
			if !strings.Contains(all, c.contains) {
				t.Errorf("does not contain %q", c.contains)
			}
			for _, bad := range []string{"\x1b[", "│", "{", "00-database", "bible(KJV)", "*** START", "www.gutenberg", "Produced by", "\r"} {
				if strings.Contains(all, bad) {
					t.Errorf("contains %q", bad)
				}
			}
		})
	}
}

// TestMix checks the split: each source is split on its own (about 10% of
// its paragraphs for validation, disjoint from training), the split is
// deterministic, and the poems are repeated in training.
func TestMix(t *testing.T) {
	t.Parallel()
	parts, err := MixSplit(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != len(MixSources) {
		t.Fatalf("%d parts, want %d", len(parts), len(MixSources))
	}
	for _, p := range parts {
		n := len(p.Train) + len(p.Val)
		if want := int(0.1*float64(n) + 0.5); len(p.Val) != want {
			t.Errorf("%s: %d validation paragraphs of %d, want %d", p.Source.Name, len(p.Val), n, want)
		}
		// A validation paragraph may also be in training only where the
		// source itself repeats it (a few short lines do).
		count := make(map[string]int, n)
		for _, s := range append(append([]string(nil), p.Train...), p.Val...) {
			count[s]++
		}
		inTrain := make(map[string]bool, len(p.Train))
		for _, s := range p.Train {
			inTrain[s] = true
		}
		for _, s := range p.Val {
			if inTrain[s] && count[s] < 2 {
				t.Errorf("%s: validation paragraph %.40q is in training", p.Source.Name, s)
			}
		}
	}
	tr, va, err := Mix(1)
	if err != nil {
		t.Fatal(err)
	}
	tr2, va2, _ := Mix(1)
	if tr != tr2 || va != va2 {
		t.Error("Mix(1) is not deterministic")
	}
	han := 0
	for _, r := range tr {
		if unicode.Is(unicode.Han, r) {
			han++
		}
	}
	if han < 4*25000 {
		t.Errorf("training text has %d Han characters: want the poems' 90%% (about 25,500) 4 times", han)
	}
	if _, va3, _ := Mix(2); va3 == va {
		t.Error("another split seed gives the same validation text")
	}
	// The n-gram baselines' text: every training paragraph once.
	base, err := MixBaselineTrain(1)
	if err != nil {
		t.Fatal(err)
	}
	var once []string
	for _, p := range parts {
		once = append(once, p.Train...)
	}
	if base != Join(once) || len(base) >= len(tr) {
		t.Errorf("MixBaselineTrain: %d bytes, want each training paragraph once (%d bytes; Mix's repeated text %d)", len(base), len(Join(once)), len(tr))
	}
}

// TestMixManifest pins the identity of the mix: a change to a source file
// or a weight changes the SHA-256 that runs record (then update README.md
// and the run that uses it).
func TestMixManifest(t *testing.T) {
	t.Parallel()
	m, err := MixManifest()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(m)
	const want = "dd2bdc4cc87cac99d6de1e74d9e89a97040478441272e7051b17f8103655e9b6"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("mix manifest SHA-256 %s, want %s; manifest:\n%s", got, want, m)
	}
}
