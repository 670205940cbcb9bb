package lessons

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file parses a lesson source file (walk/LANG/NN-ID.md; the syntax is
// documented in walk/README.md) into a tree of nodes. It checks the
// structure and that every directive, value and fact is registered;
// rendering (lesson.go) evaluates them against the runs.

// SourceError is an error in a lesson source file or in rendering one of
// its directives: it names the file (as "lessons/walk/en/01-….md") and the
// 1-based line.
type SourceError struct {
	File string
	Line int
	Err  error
}

func (e *SourceError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *SourceError) Unwrap() error { return e.Err }

// maxSourceBytes bounds one lesson source file.
const maxSourceBytes = 1 << 20

// nodeKind says what a node is.
type nodeKind int

const (
	nodeText     nodeKind = iota // markdown lines (with {{values}})
	nodeBlock                    // ::NAME args: a registered block directive
	nodeTry                      // ::try … ::end: shell commands
	nodeQuestion                 // ::question … ::answer … ::end
	nodeIf                       // ::if FACT args … [::else …] ::end
)

// node is one piece of a lesson.
type node struct {
	kind nodeKind
	line int    // 1-based line of the node's first line
	text string // nodeText: markdown; nodeTry: the commands
	name string // nodeBlock: directive; nodeIf: fact
	args *Args
	body []node // nodeQuestion: the question; nodeIf: shown when the fact holds
	alt  []node // nodeQuestion: the answer; nodeIf: shown otherwise (::else)
}

// frontMatter is what a lesson file's header says.
type frontMatter struct {
	id     string
	number int
	title  string
	runs   []string
}

// source is one parsed lesson file.
type source struct {
	file  string
	front frontMatter
	body  []node
}

// structural are the directive names the parser itself handles.
var structural = map[string]bool{"try": true, "question": true, "answer": true, "if": true, "else": true, "end": true}

// parseSource parses a lesson file. file names it in errors. Every error is
// a *SourceError.
func parseSource(file string, src []byte) (*source, error) {
	if len(src) > maxSourceBytes {
		return nil, &SourceError{file, 1, fmt.Errorf("file is %d bytes, more than the %d a lesson may have", len(src), maxSourceBytes)}
	}
	if !utf8.Valid(src) {
		return nil, &SourceError{file, 1, errors.New("not valid UTF-8")}
	}
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	p := &parser{file: file, lines: lines}
	front, err := p.frontMatter()
	if err != nil {
		return nil, err
	}
	body, end, err := p.nodes(0)
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, p.errorf("::%s without a block to close", end)
	}
	return &source{file: file, front: front, body: body}, nil
}

type parser struct {
	file  string
	lines []string
	i     int // index of the next line
}

func (p *parser) errorf(format string, args ...any) error {
	return &SourceError{p.file, p.i, fmt.Errorf(format, args...)}
}

// frontMatter reads the header: a line "---", "key: value" lines, "---".
func (p *parser) frontMatter() (frontMatter, error) {
	var f frontMatter
	if len(p.lines) == 0 || strings.TrimSpace(p.lines[0]) != "---" {
		p.i = 1
		return f, p.errorf("want a front-matter block first (a line ---, then id, number, title and runs, then ---)")
	}
	p.i = 1
	seen := map[string]bool{}
	for {
		if p.i >= len(p.lines) {
			return f, &SourceError{p.file, 1, errors.New("front matter is not closed with ---")}
		}
		line := strings.TrimSpace(p.lines[p.i])
		p.i++
		if line == "---" {
			break
		}
		if line == "" {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok {
			return f, p.errorf("front matter: want key: value, got %q", line)
		}
		if seen[key] {
			return f, p.errorf("front matter: %s given twice", key)
		}
		seen[key] = true
		switch key {
		case "id":
			if !validName(val) {
				return f, p.errorf("front matter: id %q: want lower-case letters, digits and -", val)
			}
			f.id = val
		case "number":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 99 {
				return f, p.errorf("front matter: number %q: want 1 to 99", val)
			}
			f.number = n
		case "title":
			f.title = val
		case "runs":
			for _, r := range strings.Split(val, ",") {
				r = strings.TrimSpace(r)
				if !validName(r) {
					return f, p.errorf("front matter: run name %q: want lower-case letters, digits and -", r)
				}
				f.runs = append(f.runs, r)
			}
		default:
			return f, p.errorf("front matter: unknown key %q (want id, number, title, runs)", key)
		}
	}
	for _, k := range []string{"id", "number", "title"} {
		if !seen[k] {
			return f, p.errorf("front matter: %s is missing", k)
		}
	}
	return f, nil
}

// validName reports whether s is a name of lower-case letters, digits and
// '-' (and '_'), starting with a letter.
func validName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// nodes parses lines until the end of the file or a ::answer, ::else or
// ::end line, which it consumes and returns by name ("" at the end of the
// file).
func (p *parser) nodes(depth int) ([]node, string, error) {
	if depth > 8 {
		return nil, "", p.errorf("blocks nested deeper than 8")
	}
	var out []node
	var text []string
	textLine := 0
	fence, fenceLine := "", 0
	flush := func() {
		if s := strings.Join(text, "\n"); strings.TrimSpace(s) != "" {
			out = append(out, node{kind: nodeText, line: textLine, text: s})
		}
		text = nil
	}
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		p.i++
		// Fenced code blocks are markdown: no directives inside.
		if f := fenceOf(line); f != "" && (fence == "" || strings.HasPrefix(strings.TrimSpace(line), fence)) {
			if fence == "" {
				fence, fenceLine = f, p.i
			} else {
				fence = ""
			}
		}
		if fence != "" || !strings.HasPrefix(line, "::") {
			if len(text) == 0 {
				textLine = p.i
			}
			text = append(text, line)
			if err := p.checkValues(line, fence != ""); err != nil {
				return nil, "", err
			}
			continue
		}
		flush()
		name, rest, _ := strings.Cut(strings.TrimSpace(line[2:]), " ")
		args, err := parseArgs(rest)
		if err != nil {
			return nil, "", p.errorf("::%s: %v", name, err)
		}
		switch name {
		case "answer", "else", "end":
			if len(args.Pos) > 0 || len(args.Named) > 0 {
				return nil, "", p.errorf("::%s takes no arguments", name)
			}
			return out, name, nil
		case "try":
			n, err := p.try(args)
			if err != nil {
				return nil, "", err
			}
			out = append(out, n)
		case "question":
			n, err := p.question(depth, args)
			if err != nil {
				return nil, "", err
			}
			out = append(out, n)
		case "if":
			n, err := p.ifBlock(depth, args)
			if err != nil {
				return nil, "", err
			}
			out = append(out, n)
		default:
			if _, ok := blocks[name]; !ok {
				return nil, "", p.errorf("unknown directive ::%s (known: %s)", name, strings.Join(sortedKeys(blocks), ", "))
			}
			out = append(out, node{kind: nodeBlock, line: p.i, name: name, args: args})
		}
	}
	if fence != "" {
		return nil, "", &SourceError{p.file, fenceLine, fmt.Errorf("code fence %s is not closed", fence)}
	}
	flush()
	return out, "", nil
}

// fenceOf returns the fence (``` or ~~~, with its length) that line opens
// or closes, or "".
func fenceOf(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return ""
	}
	for _, c := range []string{"`", "~"} {
		n := len(t) - len(strings.TrimLeft(t, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}

// try parses the commands of ::try up to ::end.
func (p *parser) try(args *Args) (node, error) {
	if len(args.Pos) > 0 || len(args.Named) > 0 {
		return node{}, p.errorf("::try takes no arguments")
	}
	n := node{kind: nodeTry, line: p.i}
	var cmds []string
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		p.i++
		if strings.TrimSpace(line) == "::end" {
			n.text = strings.Trim(strings.Join(cmds, "\n"), "\n")
			if n.text == "" {
				return node{}, p.errorf("::try block is empty")
			}
			return n, nil
		}
		if strings.HasPrefix(line, "::") {
			return node{}, p.errorf("%s inside ::try (which holds shell commands up to ::end)", strings.Fields(line)[0])
		}
		if err := p.checkValues(line, true); err != nil {
			return node{}, err
		}
		cmds = append(cmds, line)
	}
	p.i = n.line
	return node{}, p.errorf("::try is not closed with ::end")
}

// question parses ::question … ::answer … ::end.
func (p *parser) question(depth int, args *Args) (node, error) {
	if len(args.Pos) > 0 || len(args.Named) > 0 {
		return node{}, p.errorf("::question takes no arguments")
	}
	n := node{kind: nodeQuestion, line: p.i}
	body, end, err := p.nodes(depth + 1)
	if err != nil {
		return node{}, err
	}
	if end != "answer" {
		return node{}, p.closeError(n.line, "::question", end, "::answer")
	}
	answer, end, err := p.nodes(depth + 1)
	if err != nil {
		return node{}, err
	}
	if end != "end" {
		return node{}, p.closeError(n.line, "::question", end, "::end")
	}
	if err := onlyText(answer); err != nil {
		var se *SourceError
		if errors.As(err, &se) {
			se.File = p.file
		}
		return node{}, err
	}
	n.body, n.alt = body, answer
	return n, nil
}

// onlyText checks that an answer holds only markdown and ::if (answers
// are folded markdown).
func onlyText(ns []node) error {
	for _, n := range ns {
		switch n.kind {
		case nodeText:
		case nodeIf:
			if err := onlyText(n.body); err != nil {
				return err
			}
			if err := onlyText(n.alt); err != nil {
				return err
			}
		default:
			return &SourceError{Line: n.line, Err: errors.New("an answer holds only text and ::if (it is folded markdown)")}
		}
	}
	return nil
}

// ifBlock parses ::if FACT args … [::else …] ::end.
func (p *parser) ifBlock(depth int, args *Args) (node, error) {
	if len(args.Pos) == 0 {
		return node{}, p.errorf("::if needs a fact (known: %s)", strings.Join(sortedKeys(facts), ", "))
	}
	name := args.Pos[0]
	if _, ok := facts[name]; !ok {
		return node{}, p.errorf("::if: unknown fact %q (known: %s)", name, strings.Join(sortedKeys(facts), ", "))
	}
	args.Pos = args.Pos[1:]
	n := node{kind: nodeIf, line: p.i, name: name, args: args}
	body, end, err := p.nodes(depth + 1)
	if err != nil {
		return node{}, err
	}
	if end == "else" {
		n.alt, end, err = p.nodes(depth + 1)
		if err != nil {
			return node{}, err
		}
	}
	if end != "end" {
		return node{}, p.closeError(n.line, "::if", end, "::end")
	}
	n.body = body
	return n, nil
}

// closeError says that the block opened at line was closed by got ("" for
// the end of the file) instead of want.
func (p *parser) closeError(line int, block, got, want string) error {
	if got == "" {
		return &SourceError{p.file, line, fmt.Errorf("%s is not closed with %s", block, want)}
	}
	return p.errorf("::%s where %s (opened on line %d) wants %s", got, block, line, want)
}

// checkValues checks the {{NAME args}} values of one line: closed, known,
// with well-formed arguments.
func (p *parser) checkValues(line string, code bool) error {
	_, err := expandValues(line, code, func(name string, args *Args, inMath bool) (string, error) {
		if _, ok := values[name]; !ok {
			return "", fmt.Errorf("unknown value {{%s}} (known: %s)", name, strings.Join(sortedKeys(values), ", "))
		}
		return "", nil
	})
	if err != nil {
		return p.errorf("%v", err)
	}
	return nil
}

// expandValues replaces every {{NAME args}} in line by what eval returns
// for it. A value inside $…$ maths is told so (inMath). "{\{" stands for a
// literal "{{".
func expandValues(line string, code bool, eval func(name string, args *Args, inMath bool) (string, error)) (string, error) {
	var b strings.Builder
	dollars := 0
	for {
		i := strings.Index(line, "{{")
		if i < 0 {
			b.WriteString(strings.ReplaceAll(line, `{\{`, "{{"))
			return b.String(), nil
		}
		before := line[:i]
		dollars += countMathDollars(before)
		b.WriteString(strings.ReplaceAll(before, `{\{`, "{{"))
		end := strings.Index(line[i:], "}}")
		if end < 0 {
			return "", errors.New("{{ is not closed with }} on the same line")
		}
		inner := strings.TrimSpace(line[i+2 : i+end])
		name, rest, _ := strings.Cut(inner, " ")
		if name == "" {
			return "", errors.New("{{}} names no value")
		}
		args, err := parseArgs(rest)
		if err != nil {
			return "", fmt.Errorf("{{%s}}: %v", name, err)
		}
		v, err := eval(name, args, !code && dollars%2 == 1)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		line = line[i+end+2:]
	}
}

// countMathDollars counts the $ signs of s that are not escaped.
func countMathDollars(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '$':
			n++
		}
	}
	return n
}

// Args are the arguments of a directive, value or fact: positional words
// and key=value pairs, separated by spaces; a value may be double-quoted
// with Go's escapes ("a \"b\""). Directives read them with the methods
// below; an argument no directive read is an error (a typo must not pass
// silently).
type Args struct {
	Pos   []string
	Named map[string]string
	used  map[string]bool
	pos   bool // a directive read Pos
}

// parseArgs splits s into arguments.
func parseArgs(s string) (*Args, error) {
	a := &Args{Named: map[string]string{}, used: map[string]bool{}}
	s = strings.TrimSpace(s)
	for s != "" {
		word, rest, err := nextWord(s)
		if err != nil {
			return nil, err
		}
		s = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if k, v, ok := strings.Cut(word, "="); ok && validName(k) {
			if _, dup := a.Named[k]; dup {
				return nil, fmt.Errorf("argument %s given twice", k)
			}
			if strings.HasPrefix(v, `"`) {
				u, err := strconv.Unquote(v)
				if err != nil {
					return nil, fmt.Errorf("argument %s: bad quoted value %s", k, v)
				}
				v = u
			}
			a.Named[k] = v
			continue
		}
		if strings.HasPrefix(word, `"`) {
			u, err := strconv.Unquote(word)
			if err != nil {
				return nil, fmt.Errorf("bad quoted argument %s", word)
			}
			word = u
		}
		a.Pos = append(a.Pos, word)
	}
	return a, nil
}

// nextWord returns the first space-separated word of s, keeping a
// double-quoted part (after = or at the start) whole.
func nextWord(s string) (word, rest string, err error) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ' ' || c == '\t'):
			return s[:i], s[i:], nil
		}
	}
	if inQuote {
		return "", "", errors.New("unclosed quote")
	}
	return s, "", nil
}

// fresh returns a copy of a with nothing read yet, for one evaluation.
func (a *Args) fresh() *Args {
	if a == nil {
		return &Args{Named: map[string]string{}, used: map[string]bool{}}
	}
	return &Args{Pos: a.Pos, Named: a.Named, used: map[string]bool{}}
}

// String returns the named argument key, or def when it is not given.
func (a *Args) String(key, def string) string {
	a.used[key] = true
	if v, ok := a.Named[key]; ok {
		return v
	}
	return def
}

// Int returns the named argument key as an integer, or def when it is not
// given; an error when it is not an integer.
func (a *Args) Int(key string, def int) (int, error) {
	a.used[key] = true
	v, ok := a.Named[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("argument %s=%s: want an integer", key, v)
	}
	return n, nil
}

// Positional returns the positional arguments, marking them read.
func (a *Args) Positional() []string {
	a.pos = true
	return a.Pos
}

// unused returns an error naming the first argument nothing read.
func (a *Args) unused() error {
	if len(a.Pos) > 0 && !a.pos {
		return fmt.Errorf("unexpected argument %q", a.Pos[0])
	}
	for _, k := range sortedKeys(a.Named) {
		if !a.used[k] {
			return fmt.Errorf("unknown argument %s=", k)
		}
	}
	return nil
}
