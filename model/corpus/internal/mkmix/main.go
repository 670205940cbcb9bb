// Command mkmix builds the cleaned sources of the "mix" corpus
// (model/corpus/mix/*.txt.gz) from the Debian packages that ship them:
//
//	apt-get install bible-kjv dict-devil jargon-text fortunes-zh
//	go run ./model/corpus/internal/mkmix            # from the repository root
//
// and, for the two novels, from the Go module proxy: the test data of
// github.com/pierrec/lz4/v4 (novelModule), fetched with `go mod download`.
//
// Each output is UTF-8 text, one paragraph per block, blocks separated by a
// blank line, compressed with gzip (level 9, no name or time stamp, so the
// bytes are reproducible). Opticks is not written here: the mix reads the
// embedded opticks.txt.gz through corpus.Paragraphs. Provenance, licences
// and the SHA-256 of every input are in model/corpus/README.md.
//
// Cleaning, per source:
//   - kjv: `bible -f` with the range Gen1:1-Rev22:21 (one verse per line,
//     "Ge1:1 In the beginning…"); the reference is dropped and the verses
//     of one chapter are joined with spaces into one paragraph. Only the
//     books in kjvBooks are kept (45% of the text, so that the Bible
//     does not outweigh the other sources).
//   - devil: devil.dict.dz from "PREFACE" on, cross-reference braces {…}
//     removed, through corpus.Paragraphs (hard wraps joined, italics
//     underscores removed); the verse quotations become one paragraph each.
//   - jargon: jargon.txt.gz from the second "Welcome to the Jargon File"
//     (after the table of contents); lines with box-drawing characters (the
//     revision-history table) and the cross-reference braces {…} removed;
//     the glossary's index of headwords dropped, each glossary entry joined
//     into one paragraph "headword: …"; titles and table-of-contents lines
//     dropped (see jargon).
//   - sawyer, holmes: Project Gutenberg's plain texts of The Adventures of
//     Tom Sawyer and The Adventures of Sherlock Holmes as novelModule ships
//     them; Holmes from after the "*** START OF" line to before "End of
//     the Project Gutenberg EBook" (the licence header and footer dropped),
//     through corpus.Paragraphs; titles (no lower-case letter) and the
//     contents list (before the first chapter) dropped (see novel).
//   - tangsong: the fortune files tang300 and song100: colour escapes
//     removed, one poem per paragraph, its lines (title, "作者：…", verses)
//     kept on separate lines.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"github.com/gptviz/gptviz/model/corpus"
)

const outDir = "model/corpus/mix"

// kjvBooks are the books kept, by the abbreviation `bible -f` prints.
var kjvBooks = map[string]bool{
	"Ge": true, "Exo": true, "Ruth": true, "1Sm": true, "Job": true, "Psa": true, "Prv": true,
	"Eccl": true, "SSol": true, "Isa": true, "Mat": true, "Mark": true, "Luke": true, "John": true,
	"Acts": true, "Rom": true, "1Cor": true, "Rev": true,
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkmix:", err)
		os.Exit(1)
	}
}

func run() error {
	kjv, err := kjvText()
	if err != nil {
		return err
	}
	devilRaw, err := gunzipFile("/usr/share/dictd/devil.dict.dz")
	if err != nil {
		return err
	}
	devil := string(devilRaw)
	i := strings.Index(devil, "PREFACE")
	if i < 0 {
		return fmt.Errorf("devil.dict.dz: no PREFACE")
	}
	devilParas := corpus.Paragraphs(braces.ReplaceAllString(devil[i:], ""))

	jargonRaw, err := gunzipFile("/usr/share/doc/jargon-text/jargon.txt.gz")
	if err != nil {
		return err
	}
	jargonParas, err := jargon(string(jargonRaw))
	if err != nil {
		return err
	}
	sawyer, holmes, err := novels()
	if err != nil {
		return err
	}
	var poems []string
	for _, f := range []string{"/usr/share/games/fortunes/tang300", "/usr/share/games/fortunes/song100"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Printf("input %s sha256 %x (%d bytes)\n", f, sha256.Sum256(b), len(b))
		poems = append(poems, fortunes(string(b))...)
	}
	for _, o := range []struct {
		name  string
		paras []string
	}{{"kjv", kjv}, {"devil", devilParas}, {"jargon", jargonParas}, {"sawyer", sawyer}, {"holmes", holmes}, {"tangsong", poems}} {
		if err := writeGz(filepath.Join(outDir, o.name+".txt.gz"), strings.Join(o.paras, "\n\n")+"\n"); err != nil {
			return err
		}
		n := 0
		for _, p := range o.paras {
			n += len(p)
		}
		fmt.Printf("%s: %d paragraphs, %d bytes\n", o.name, len(o.paras), n)
	}
	return nil
}

var verse = regexp.MustCompile(`^([1-3]?[A-Z][A-Za-z]*)(\d+):(\d+) (.*)$`)

func kjvText() ([]string, error) {
	cmd := exec.Command("bible", "-f")
	cmd.Stdin = strings.NewReader("gen1:1-rev22:21\n")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bible -f: %w", err)
	}
	data, _ := os.ReadFile("/usr/lib/bible.data")
	fmt.Printf("input /usr/lib/bible.data sha256 %x (%d bytes); bible -f output sha256 %x\n", sha256.Sum256(data), len(data), sha256.Sum256(out))
	var paras []string
	var cur []string
	key := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	nverses := 0
	seen := make(map[string]bool) // bible prints Gen1:1 once before the range
	for sc.Scan() {
		m := verse.FindStringSubmatch(sc.Text())
		if m == nil || seen[m[1]+m[2]+":"+m[3]] {
			continue
		}
		seen[m[1]+m[2]+":"+m[3]] = true
		nverses++
		if !kjvBooks[m[1]] {
			continue
		}
		k := m[1] + m[2]
		if k != key && len(cur) > 0 {
			paras = append(paras, strings.Join(cur, " "))
			cur = nil
		}
		key = k
		cur = append(cur, strings.TrimSpace(m[4]))
	}
	if len(cur) > 0 {
		paras = append(paras, strings.Join(cur, " "))
	}
	if nverses != 31102 {
		return nil, fmt.Errorf("bible -f: %d verses, want 31102", nverses)
	}
	return paras, nil
}

var (
	braces   = regexp.MustCompile(`[{}]`)
	headword = regexp.MustCompile(`^   :(.+?):(.*)$`)
)

// jargon cleans the Jargon File: the chapters before the glossary and the
// appendices after it as paragraphs (titles and table-of-contents lines,
// paragraphs of fewer than four words without a full stop, dropped); the
// glossary's index of headwords dropped; each glossary entry, from its
// ":headword:" line to the next, joined into one paragraph "headword: …".
func jargon(s string) ([]string, error) {
	const w = "Welcome to the Jargon File"
	i := strings.Index(s, w)
	if i < 0 {
		return nil, fmt.Errorf("jargon.txt.gz: no %q", w)
	}
	j := strings.Index(s[i+len(w):], w)
	if j < 0 {
		return nil, fmt.Errorf("jargon.txt.gz: no second %q", w)
	}
	s = braces.ReplaceAllString(s[i+len(w)+j:], "")
	var front, entries, back []string
	state := 0 // 0 chapters, 1 glossary index, 2 entries, 3 appendices
	var entry []string
	flush := func() {
		if len(entry) > 0 {
			entries = append(entries, strings.Join(corpus.Paragraphs(strings.Join(entry, "\n")), " "))
			entry = nil
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.ContainsAny(line, "│─═┌┐└┘├┤┬┴┼") {
			continue
		}
		switch {
		case state == 0 && line == "Glossary":
			state = 1
			continue
		case state <= 2 && headword.MatchString(line):
			state = 2
			flush()
			m := headword.FindStringSubmatch(line)
			entry = append(entry, m[1]+":"+m[2], "")
			continue
		case state == 2 && strings.TrimSpace(line) == "Part III. Appendices":
			flush()
			state = 3
			continue
		}
		switch state {
		case 0:
			front = append(front, line)
		case 2:
			entry = append(entry, line)
		case 3:
			back = append(back, line)
		}
	}
	flush()
	if len(entries) < 2000 {
		return nil, fmt.Errorf("jargon.txt.gz: %d glossary entries, want over 2,000", len(entries))
	}
	var out []string
	for _, p := range corpus.Paragraphs(strings.Join(front, "\n")) {
		if prose(p) {
			out = append(out, p)
		}
	}
	out = append(out, entries...)
	for _, p := range corpus.Paragraphs(strings.Join(back, "\n")) {
		if prose(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// prose reports whether a paragraph is text, not a title or a line of a
// table of contents: four words or more, or a final full stop.
func prose(p string) bool {
	return len(strings.Fields(p)) >= 4 || strings.HasSuffix(p, ".")
}

// novelModule is the Go module whose test data holds the two novels.
const novelModule = "github.com/pierrec/lz4/v4@v4.1.22"

// novels returns the paragraphs of Tom Sawyer and Sherlock Holmes from
// novelModule's test data (downloaded into the module cache if need be).
func novels() (sawyer, holmes []string, err error) {
	out, err := exec.Command("go", "mod", "download", "-json", novelModule).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("go mod download %s: %w", novelModule, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return nil, nil, fmt.Errorf("go mod download %s: no module directory in %q", novelModule, out)
	}
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(m.Dir, "testdata", name))
		if err != nil {
			return "", err
		}
		fmt.Printf("input %s/testdata/%s sha256 %x (%d bytes)\n", novelModule, name, sha256.Sum256(b), len(b))
		return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
	}
	t, err := read("Mark.Twain-Tom.Sawyer.txt")
	if err != nil {
		return nil, nil, err
	}
	if sawyer, err = novel(t, "CHAPTER I\n"); err != nil {
		return nil, nil, fmt.Errorf("Tom Sawyer: %w", err)
	}
	h, err := read("pg1661.txt")
	if err != nil {
		return nil, nil, err
	}
	start := strings.Index(h, "*** START OF")
	end := strings.Index(h, "End of the Project Gutenberg EBook")
	if start < 0 || end < start {
		return nil, nil, fmt.Errorf("pg1661.txt: no Project Gutenberg start and end lines")
	}
	if holmes, err = novel(h[start:end], "ADVENTURE I."); err != nil {
		return nil, nil, fmt.Errorf("Sherlock Holmes: %w", err)
	}
	return sawyer, holmes, nil
}

// novel keeps the prose paragraphs of a novel's text: the preface (in Tom
// Sawyer) and everything from the first chapter heading first on, without
// titles (paragraphs with no lower-case letter) and the contents list,
// which sits between the title page and first.
func novel(s, first string) ([]string, error) {
	i := strings.Index(s, first)
	if i < 0 {
		return nil, fmt.Errorf("no %q", first)
	}
	pre, body := s[:i], s[i:]
	if j := strings.Index(pre, "P R E F A C E"); j >= 0 {
		body = pre[j:] + "\n\n" + body
	}
	var out []string
	for _, p := range corpus.Paragraphs(body) {
		if strings.IndexFunc(p, unicode.IsLower) >= 0 && prose(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func fortunes(s string) []string {
	var out []string
	for _, block := range strings.Split(ansi.ReplaceAllString(s, ""), "\n%\n") {
		var lines []string
		for _, l := range strings.Split(block, "\n") {
			if l = strings.TrimSpace(l); l != "" && l != "%" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			out = append(out, strings.Join(lines, "\n"))
		}
	}
	return out
}

func gunzipFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	fmt.Printf("input %s sha256 %x (%d bytes)\n", path, sha256.Sum256(raw), len(raw))
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

func writeGz(path, text string) error {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte(text))
	if err := zw.Close(); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
