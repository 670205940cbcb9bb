package output

import (
	"html"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Maths in markdown cells: $…$ inline and $$…$$ display, each on one line,
// rendered to MathML by [MathML] (offline, no script). An inline formula
// opens with a $ not followed by a space and closes with the next $ not
// preceded by a space nor followed by a digit, so "costs $5 and $6" stays
// text; \$ is a literal dollar sign. The ipynb keeps the TeX source, which
// Jupyter renders itself.

// kindMath is the goldmark node kind of a formula.
var kindMath = ast.NewNodeKind("Math")

// mathNode is one formula: its TeX source and whether it is display maths.
type mathNode struct {
	ast.BaseInline
	tex     string
	display bool
}

func (n *mathNode) Kind() ast.NodeKind { return kindMath }

func (n *mathNode) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"tex": n.tex}, nil)
}

// mathParser is the inline parser of $…$ and $$…$$.
type mathParser struct{}

func (mathParser) Trigger() []byte { return []byte{'$'} }

func (mathParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, _ := block.PeekLine()
	s := string(line)
	if strings.HasPrefix(s, "$$") {
		end := strings.Index(s[2:], "$$")
		if end <= 0 {
			return nil
		}
		block.Advance(end + 4)
		return &mathNode{tex: s[2 : end+2], display: true}
	}
	if len(s) < 3 || s[1] == ' ' || s[1] == '\t' || s[1] == '\n' || s[1] == '$' {
		return nil
	}
	for i := 2; i < len(s); i++ {
		if s[i] == '\n' {
			return nil
		}
		if s[i] != '$' || s[i-1] == ' ' || s[i-1] == '\t' || s[i-1] == '\\' {
			continue
		}
		if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			continue
		}
		block.Advance(i + 1)
		return &mathNode{tex: s[1:i]}
	}
	return nil
}

// renderMath writes a formula as MathML; one outside the supported TeX
// subset is shown as its escaped source in a code span (callers that must
// not show such a fallback check formulas with MathML first).
func renderMath(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*mathNode)
	m, err := MathML(n.tex, n.display)
	if err != nil {
		_, _ = w.WriteString(`<code class="math-error">` + html.EscapeString(n.tex) + `</code>`)
		return ast.WalkSkipChildren, nil
	}
	_, _ = w.WriteString(m)
	return ast.WalkSkipChildren, nil
}

// Formulas returns the formulas of markdown src in order, as their TeX
// source with whether each is display maths, found exactly as the page
// finds them; for checking them with [MathML] before writing.
func Formulas(src string) []Formula {
	source := []byte(src)
	doc := markdown.Parser().Parse(text.NewReader(source))
	var out []Formula
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if m, ok := n.(*mathNode); ok && entering {
			out = append(out, Formula{TeX: m.tex, Display: m.display})
		}
		return ast.WalkContinue, nil
	})
	return out
}

// Formula is one formula of a markdown text: its TeX source and whether it
// is display maths ($$…$$).
type Formula struct {
	TeX     string
	Display bool
}
