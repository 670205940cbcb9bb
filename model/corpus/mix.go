package corpus

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"fmt"
	"io"
	"strings"
)

//go:embed mix/*.txt.gz
var mixFS embed.FS

// MixName is the --corpus name of the built-in mixed corpus.
const MixName = "mix"

// A MixSource is one text of the mixed corpus.
type MixSource struct {
	Name   string // short name: opticks, kjv, devil, jargon, sawyer, holmes, tangsong
	Title  string // what it is, for reports
	Weight int    // the model's training text holds the source's training paragraphs this many times
	// TokenizerWeight is how many times the text the tokenizer learns
	// from holds them: a source can get more of the model's training
	// steps without changing which words become tokens.
	TokenizerWeight int
}

// MixSources are the sources of the mixed corpus, in the order their text
// is joined.
//
// Tokenizer weights: Chinese poetry is 2.1% of the bytes; it is repeated
// 4 times so that its common characters become tokens. The two novels,
// the only everyday English of the mix, are repeated twice, so that
// everyday words ("brown", "quick", "lazy") become tokens.
//
// Training weights: the poems 4 times, so that the model sees enough of
// them to write them, and the novels twice, so that plain English prompts
// meet text like them; Opticks 3 times and the Devil's Dictionary and the
// Jargon File twice, the sources the previous default model (all three at
// 1) predicted worst against the n-gram baselines. Validation text is
// never repeated. See README.md for provenance and licences.
var MixSources = []MixSource{
	{"opticks", "Newton, Opticks (1730)", 3, 1},
	{"kjv", "King James Bible (1611), 18 books", 1, 1},
	{"devil", "Bierce, The Devil's Dictionary (1911)", 2, 1},
	{"jargon", "The Jargon File 4.4.7 (2003)", 2, 1},
	{"sawyer", "Twain, The Adventures of Tom Sawyer (1876)", 2, 2},
	{"holmes", "Doyle, The Adventures of Sherlock Holmes (1892)", 2, 2},
	{"tangsong", "唐诗三百首 and 宋词一百首 (Tang and Song poems)", 4, 4},
}

// MixParagraphs returns the cleaned paragraphs of one source of the mix:
// Opticks through Paragraphs, the others as shipped in mix/NAME.txt.gz
// (cleaned by internal/mkmix; blocks separated by blank lines, Chinese
// poems keep their line breaks).
func MixParagraphs(name string) ([]string, error) {
	if name == "opticks" {
		raw, err := OpticksRaw()
		if err != nil {
			return nil, err
		}
		return Paragraphs(string(raw)), nil
	}
	f := "mix/" + name + ".txt.gz"
	gz, err := mixFS.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("corpus: mix source %q: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("corpus: %s: %w", f, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("corpus: %s: %w", f, err)
	}
	var out []string
	for _, p := range strings.Split(string(b), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// A MixPart is one source's share of the split.
type MixPart struct {
	Source     MixSource
	Train, Val []string // paragraphs, in source order (Train not repeated)
}

// MixSplit splits every source separately (Split, 10% of its paragraphs
// for validation, chosen with seed), so each source has its own validation
// text.
func MixSplit(seed uint64) ([]MixPart, error) {
	var parts []MixPart
	for _, s := range MixSources {
		ps, err := MixParagraphs(s.Name)
		if err != nil {
			return nil, err
		}
		tr, va := Split(ps, 0.1, seed)
		parts = append(parts, MixPart{Source: s, Train: tr, Val: va})
	}
	return parts, nil
}

// Mix returns the training and validation text of the mixed corpus: the
// sources' splits (MixSplit) joined in MixSources order, each training
// part repeated Weight times. Paragraphs are joined with "\n\n".
func Mix(seed uint64) (train, val string, err error) {
	return mixText(seed, func(s MixSource) int { return s.Weight })
}

// MixTokenizerTrain returns the text the mixed corpus's tokenizer learns
// from: as Mix's training text, with each part repeated TokenizerWeight
// times instead.
func MixTokenizerTrain(seed uint64) (string, error) {
	tr, _, err := mixText(seed, func(s MixSource) int { return s.TokenizerWeight })
	return tr, err
}

// MixBaselineTrain returns the text the n-gram baselines of the mixed
// corpus are trained on: every source's training paragraphs once, in
// MixSources order, not repeated Weight times as in Mix. Kneser–Ney
// estimates one discount per order from how many n-grams occur once and
// twice; repeating part of the text turns its n-grams seen once into
// n-grams seen several times, so the discounts, and with them the weight
// of shorter contexts, shrink, and the baseline gets worse on every source (the KN trigram on the
// repeated text: 4.827 nats/token on the validation text in the default
// model's tokens; on each paragraph once: 4.691).
func MixBaselineTrain(seed uint64) (string, error) {
	tr, _, err := mixText(seed, func(MixSource) int { return 1 })
	return tr, err
}

// mixText joins the split sources, each training part repeated times(its
// source) times, the validation parts once.
func mixText(seed uint64, times func(MixSource) int) (train, val string, err error) {
	parts, err := MixSplit(seed)
	if err != nil {
		return "", "", err
	}
	var tr, va []string
	for _, p := range parts {
		for range times(p.Source) {
			tr = append(tr, p.Train...)
		}
		va = append(va, p.Val...)
	}
	return Join(tr), Join(va), nil
}

// MixManifest identifies the mixed corpus's text, for a run's record (its
// SHA-256 stands for the corpus): one line per source, in order, with its
// name, weights (model, tokenizer) and the SHA-256 of the raw Opticks or of the shipped
// source file's compressed bytes.
func MixManifest() ([]byte, error) {
	var h bytes.Buffer
	for _, s := range MixSources {
		var b []byte
		var err error
		if s.Name == "opticks" {
			b, err = OpticksRaw()
		} else {
			b, err = mixFS.ReadFile("mix/" + s.Name + ".txt.gz")
		}
		if err != nil {
			return nil, fmt.Errorf("corpus: mix source %q: %w", s.Name, err)
		}
		fmt.Fprintf(&h, "%s %d %d %x\n", s.Name, s.Weight, s.TokenizerWeight, sha256.Sum256(b))
	}
	return h.Bytes(), nil
}
