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
	// The model's text repeats each source Weight times, the tokenizer's
	// TokenizerWeight times, the n-gram baselines' once.
	tokText, err := MixTokenizerTrain(1)
	if err != nil {
		t.Fatal(err)
	}
	base, err := MixBaselineTrain(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, text string
		times      func(MixSource) int
	}{
		{"Mix", tr, func(s MixSource) int { return s.Weight }},
		{"MixTokenizerTrain", tokText, func(s MixSource) int { return s.TokenizerWeight }},
		{"MixBaselineTrain", base, func(MixSource) int { return 1 }},
	} {
		var want []string
		for _, p := range parts {
			for range c.times(p.Source) {
				want = append(want, p.Train...)
			}
		}
		if c.text != Join(want) {
			t.Errorf("%s: %d bytes, want each source's training paragraphs repeated as its weight says (%d bytes)", c.name, len(c.text), len(Join(want)))
		}
	}
	if len(base) >= len(tokText) || len(tokText) >= len(tr) {
		t.Errorf("text sizes: baselines %d, tokenizer %d, model %d bytes: want them growing with the weights", len(base), len(tokText), len(tr))
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
	const want = "3d6d86e642e89a5f094333f8a7e7e8638e814344545e8070c2cf08d70a378ba1"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("mix manifest SHA-256 %s, want %s; manifest:\n%s", got, want, m)
	}
}
