package output

import (
	"bytes"
	"html"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown renders cell markdown: CommonMark plus GFM tables and
// strikethrough, and maths ($…$, $$…$$) as MathML (see mathParser). goldmark's safe mode (no html.WithUnsafe) already refuses
// raw HTML; safeNodes goes further and shows it as text, keeps the page
// offline and joins Chinese lines (see safeNodes).
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithParserOptions(parser.WithInlineParsers(util.Prioritized(mathParser{}, 150))),
	goldmark.WithRendererOptions(
		renderer.WithNodeRenderers(util.Prioritized(safeNodes{}, 100)),
	),
)

// renderMarkdown converts markdown src to an HTML fragment.
func renderMarkdown(src string) ([]byte, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(strings.ToValidUTF8(src, "\uFFFD")), &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// safeNodes overrides goldmark's HTML renderer for the nodes that could run
// code or reach the network:
//   - raw inline HTML and HTML blocks are written as escaped text, so a token
//     like <img src=x onerror=…> reads as itself;
//   - a link keeps its href only when it points inside the page or to a
//     relative path (no scheme, not "//…"); otherwise its text is followed by
//     the address as plain text, so no http(s):// appears in any href;
//   - an image is drawn only from a data:image/(png|jpeg|gif|webp) address;
//     otherwise its alt text and address are shown as text;
//   - a soft line break between two East Asian wide characters is dropped,
//     so Chinese text wrapped in the source gets no stray space (goldmark's
//     own option for this also drops breaks before emphasis and links).
type safeNodes struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (safeNodes) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
	reg.Register(ast.KindLink, renderLink)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(ast.KindImage, renderImage)
	reg.Register(ast.KindText, renderText)
	reg.Register(kindMath, renderMath)
}

var textWriter = gmhtml.NewWriter()

func renderText(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Text)
	value := n.Segment.Value(source)
	if n.IsRaw() {
		textWriter.RawWrite(w, value)
		return ast.WalkContinue, nil
	}
	textWriter.Write(w, value)
	switch {
	case n.HardLineBreak():
		_, _ = w.WriteString("<br>\n")
	case n.SoftLineBreak():
		last, _ := utf8.DecodeLastRune(value)
		if !(len(value) > 0 && util.IsEastAsianWideRune(last) && util.IsEastAsianWideRune(firstRuneAfter(node, source))) {
			_ = w.WriteByte('\n')
		}
	}
	return ast.WalkContinue, nil
}

// firstRuneAfter returns the first character of the text that follows n, or
// 0 if there is none.
func firstRuneAfter(n ast.Node, source []byte) rune {
	for s := n.NextSibling(); s != nil; s = s.FirstChild() {
		switch t := s.(type) {
		case *ast.Text:
			r, _ := utf8.DecodeRune(t.Segment.Value(source))
			return r
		case *ast.String:
			r, _ := utf8.DecodeRune(t.Value)
			return r
		}
	}
	return 0
}

func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		segs := node.(*ast.RawHTML).Segments
		for i := 0; i < segs.Len(); i++ {
			s := segs.At(i)
			_, _ = w.WriteString(html.EscapeString(string(s.Value(source))))
		}
	}
	return ast.WalkSkipChildren, nil
}

func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.HTMLBlock)
	if entering {
		_, _ = w.WriteString(`<p class="raw-html">`)
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			s := lines.At(i)
			_, _ = w.WriteString(html.EscapeString(string(s.Value(source))))
		}
		if n.HasClosure() {
			_, _ = w.WriteString(html.EscapeString(string(n.ClosureLine.Value(source))))
		}
		_, _ = w.WriteString("</p>\n")
	}
	return ast.WalkSkipChildren, nil
}

// localURL reports whether a link to dest stays inside the page or beside it:
// a fragment, or a relative path with no scheme and no network prefix.
func localURL(dest string) bool {
	if dest == "" || strings.HasPrefix(dest, "//") || strings.HasPrefix(dest, `\`) {
		return false
	}
	if dest[0] == '#' {
		return true
	}
	end := strings.IndexAny(dest, "/?#")
	if end < 0 {
		end = len(dest)
	}
	return !strings.Contains(dest[:end], ":")
}

func renderLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	dest := string(n.Destination)
	local := localURL(dest)
	switch {
	case entering && local:
		_, _ = w.WriteString(`<a href="`)
		_, _ = w.WriteString(html.EscapeString(string(util.URLEscape(n.Destination, true))))
		_, _ = w.WriteString(`">`)
	case entering:
		_, _ = w.WriteString(`<span class="link">`)
	case local:
		_, _ = w.WriteString("</a>")
	default:
		_, _ = w.WriteString(`</span> <span class="url">(`)
		_, _ = w.WriteString(html.EscapeString(dest))
		_, _ = w.WriteString(`)</span>`)
	}
	return ast.WalkContinue, nil
}

func renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		n := node.(*ast.AutoLink)
		_, _ = w.WriteString(`<span class="url">`)
		_, _ = w.WriteString(html.EscapeString(string(n.Label(source))))
		_, _ = w.WriteString(`</span>`)
	}
	return ast.WalkSkipChildren, nil
}

var dataImagePrefixes = []string{"data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;"}

func renderImage(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.Image)
	dest := string(n.Destination)
	alt := html.EscapeString(nodeText(n, source))
	for _, p := range dataImagePrefixes {
		if strings.HasPrefix(strings.ToLower(dest), p) {
			_, _ = w.WriteString(`<img src="`)
			_, _ = w.WriteString(html.EscapeString(dest))
			_, _ = w.WriteString(`" alt="`)
			_, _ = w.WriteString(alt)
			_, _ = w.WriteString(`">`)
			return ast.WalkSkipChildren, nil
		}
	}
	_, _ = w.WriteString(`<span class="link">[`)
	_, _ = w.WriteString(alt)
	_, _ = w.WriteString(`]</span> <span class="url">(`)
	_, _ = w.WriteString(html.EscapeString(dest))
	_, _ = w.WriteString(`)</span>`)
	return ast.WalkSkipChildren, nil
}

// nodeText returns the plain text below n (for an image's alt text).
func nodeText(n ast.Node, source []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(source))
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// escapeRawHTMLMarkdown returns markdown src with every '<' that starts raw
// HTML (inline or block) replaced by "&lt;", so that Jupyter, which renders
// raw HTML in markdown cells, shows it as text as the HTML page does. Code
// spans, code blocks and autolinks are left alone.
func escapeRawHTMLMarkdown(src string) string {
	source := []byte(src)
	doc := markdown.Parser().Parse(text.NewReader(source))
	var at []int // byte offsets of '<' to escape
	mark := func(s text.Segment) {
		for i := s.Start; i < s.Stop; i++ {
			if source[i] == '<' {
				at = append(at, i)
			}
		}
	}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := n.(type) {
		case *ast.RawHTML:
			for i := 0; i < t.Segments.Len(); i++ {
				mark(t.Segments.At(i))
			}
		case *ast.HTMLBlock:
			for i := 0; i < t.Lines().Len(); i++ {
				mark(t.Lines().At(i))
			}
			if t.HasClosure() {
				mark(t.ClosureLine)
			}
		}
		return ast.WalkContinue, nil
	})
	if len(at) == 0 {
		return src
	}
	sort.Ints(at)
	var b strings.Builder
	prev := 0
	for _, i := range at {
		if i < prev {
			continue
		}
		b.WriteString(src[prev:i])
		b.WriteString("&lt;")
		prev = i + 1
	}
	b.WriteString(src[prev:])
	return b.String()
}
