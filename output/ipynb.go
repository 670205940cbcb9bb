package output

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/gptviz/gptviz/internal/i18n"
)

// The ipynb document, nbformat 4.5
// (https://nbformat.readthedocs.io/en/latest/format_description.html). Field
// order is alphabetical, as Jupyter writes it, to keep diffs small.
type (
	ipynbDoc struct {
		Cells         []any     `json:"cells"`
		Metadata      ipynbMeta `json:"metadata"`
		NBFormat      int       `json:"nbformat"`
		NBFormatMinor int       `json:"nbformat_minor"`
	}
	ipynbMeta struct {
		Gptviz map[string]string `json:"gptviz,omitempty"`
		Title  string            `json:"title,omitempty"`
	}
	// ipynbMarkdown is a markdown cell; Attachments hold its images, by
	// name, each a MIME bundle of base64 data.
	ipynbMarkdown struct {
		Attachments map[string]map[string]string `json:"attachments,omitempty"`
		CellType    string                       `json:"cell_type"` // "markdown"
		ID          string                       `json:"id"`
		Metadata    map[string]any               `json:"metadata"`
		Source      []string                     `json:"source"`
	}
	// ipynbRaw is a raw cell: text shown as it is, never executed.
	ipynbRaw struct {
		CellType string         `json:"cell_type"` // "raw"
		ID       string         `json:"id"`
		Metadata map[string]any `json:"metadata"`
		Source   []string       `json:"source"`
	}
)

// lines splits s into lines that keep their "\n", as Jupyter stores
// multi-line strings. An empty s gives an empty list.
func lines(s string) []string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	out := []string{}
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// escapeMarkdownText backslash-escapes plain text s so that markdown (and
// Jupyter's $…$ maths) shows it verbatim: the characters that start inline
// syntax always, list and heading markers at the start of a line.
// CommonMark allows a backslash before any ASCII punctuation.
func escapeMarkdownText(s string) string {
	var b strings.Builder
	lineStart, digits := true, true
	for _, r := range s {
		switch {
		case strings.ContainsRune("\\`*_[]<>&!|~#$", r),
			lineStart && (r == '-' || r == '+' || r == '='),
			digits && !lineStart && (r == '.' || r == ')'):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		switch {
		case r == '\n':
			lineStart, digits = true, true
		case r == ' ' && lineStart:
		default:
			lineStart = false
			digits = digits && r >= '0' && r <= '9'
		}
	}
	return b.String()
}

// WriteIPYNB writes nb as a Jupyter notebook (nbformat 4, minor 5, with cell
// ids) to w, as indented JSON that is valid against the nbformat v4.5 schema.
//
// The notebook has no code cells, so that "Run All" (Jupyter, VS Code,
// jupyter nbconvert --execute) runs nothing and keeps everything: there is
// no kernel for gptviz's Go and shell text, and running a cell replaces
// its outputs. Instead:
//
//   - Markdown cells stay markdown, except that raw HTML in them is escaped
//     to text as in the HTML page (Jupyter would render it); maths ($…$,
//     $$…$$) stays TeX, which Jupyter renders. A folded cell (Summary)
//     is wrapped in <details><summary>.
//   - Code cells become raw cells: their text verbatim, never executed.
//   - Chart cells become markdown cells with the title and the image as a
//     cell attachment ("ID.png" holding the PNG, else "ID.svg" holding the
//     SVG, base64, as Jupyter stores attachments); a chart with neither
//     says that it is interactive in the HTML report.
//   - Table and Chips cells become markdown cells holding the same
//     escaped, inline-styled HTML fragment as before, with every "$", "\"
//     and line break written as a character reference, so that Jupyter's
//     maths rendering and the markdown parser leave it as it is.
//   - Note cells become markdown quotes.
//
// Cell ids are "cell-N" (N counts from 0), so the output is deterministic.
// Notebook metadata: title and Meta under "gptviz"; no kernelspec (a
// client opens it with any kernel, which never runs).
//
// It returns an error wrapping ErrInvalid if nb.Validate fails (nothing is
// written then), or the first error from w.
func WriteIPYNB(w io.Writer, nb *Notebook) error {
	if err := nb.Validate(); err != nil {
		return err
	}
	doc := ipynbDoc{Cells: []any{}, NBFormat: 4, NBFormatMinor: 5}
	doc.Metadata.Title = strings.ToValidUTF8(nb.Title, "\uFFFD")
	if len(nb.Meta) > 0 {
		doc.Metadata.Gptviz = nb.Meta
	}
	id := func() string { return fmt.Sprintf("cell-%d", len(doc.Cells)) }
	addMarkdown := func(src string) *ipynbMarkdown {
		c := &ipynbMarkdown{CellType: "markdown", ID: id(), Metadata: map[string]any{}, Source: lines(src)}
		doc.Cells = append(doc.Cells, c)
		return c
	}
	for _, c := range nb.Cells {
		switch c.Kind {
		case KindMarkdown:
			src := escapeRawHTMLMarkdown(c.Source)
			if c.Summary != "" {
				// Jupyter renders raw HTML in markdown, and markdown
				// between blank lines inside it.
				sum := markdownHTML(esc(strings.ReplaceAll(c.Summary, "\n", " ")))
				src = "<details><summary>" + sum + "</summary>\n\n" + src + "\n\n</details>"
			}
			addMarkdown(src)
		case KindNote:
			text := escapeMarkdownText(strings.TrimSpace(c.Source))
			addMarkdown("> **" + words.Get(lang(nb), "note") + ":** " + strings.ReplaceAll(text, "\n", "\n> "))
		case KindCode:
			doc.Cells = append(doc.Cells, &ipynbRaw{CellType: "raw", ID: id(), Metadata: map[string]any{},
				Source: lines(strings.TrimRight(c.Source, "\n"))})
		case KindChart:
			src, att := chartMarkdown(c.Chart, lang(nb))
			addMarkdown(src).Attachments = att
		case KindTable:
			var h bytes.Buffer
			writeTableHTML(&h, c.Table, true)
			addMarkdown(markdownHTML(h.String()))
		case KindChips:
			var h bytes.Buffer
			writeChipsHTML(&h, c.Chips, true)
			addMarkdown(markdownHTML(h.String()))
		case KindPlayground:
			// Jupyter does not run a notebook's own scripts: say where
			// the playground works.
			t := c.Playground.Title
			if t == "" {
				t = c.Playground.ID
			}
			addMarkdown("*" + escapeMarkdownText(strings.ReplaceAll(t, "\n", " ")) + "* \\[" +
				escapeMarkdownText(words.Get(lang(nb), "playground")) + "\\]")
		}
	}
	// Encode to memory first so that a failure leaves w untouched. HTML
	// escaping is off: an ipynb is not embedded in a page, and "<" reads
	// better than "\u003c" in a diff.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write ipynb: %w", err)
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write ipynb: %w", err)
	}
	return nil
}

// markdownHTML returns an escaped HTML fragment (from writeTableHTML or
// writeChipsHTML) as the source of a markdown cell that renders it: one
// line, so that the markdown parser takes it as one HTML block (a blank
// line would end it), with "$" and "\" as character references, so that
// Jupyter's maths rendering, which reads the source before markdown, finds
// no delimiters in it.
func markdownHTML(frag string) string {
	return strings.NewReplacer("\r", "&#13;", "\n", "&#10;", "$", "&#36;", "\\", "&#92;").Replace(frag)
}

// chartMarkdown returns the source and attachments of a chart's markdown
// cell: its title in bold and its image as an attachment (PNG, else SVG),
// or, for a chart that has neither, a line in language l saying it is
// interactive in the HTML report.
func chartMarkdown(ch *Chart, l i18n.Lang) (string, map[string]map[string]string) {
	title := ch.Title
	if title == "" {
		title = ch.ID
	}
	t := escapeMarkdownText(strings.ReplaceAll(title, "\n", " "))
	var name, mime string
	var data []byte
	switch {
	case len(ch.PNG) > 0:
		name, mime, data = ch.ID+".png", "image/png", ch.PNG
	case len(ch.SVG) > 0:
		name, mime, data = ch.ID+".svg", "image/svg+xml", ch.SVG
	default:
		return "*" + t + "* \\[" + escapeMarkdownText(words.Get(l, "interactive")) + "\\]", nil
	}
	src := "**" + t + "**\n\n![" + t + "](attachment:" + name + ")"
	return src, map[string]map[string]string{name: {mime: base64.StdEncoding.EncodeToString(data)}}
}

// tableText renders t as plain text with columns padded to equal width
// (counted in runes).
func tableText(t *Table) string {
	n := t.columns()
	width := make([]int, n)
	rows := t.Rows
	if len(t.Header) > 0 {
		rows = append([][]string{t.Header}, rows...)
	}
	for _, r := range rows {
		for j, s := range r {
			width[j] = max(width[j], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	if t.Caption != "" {
		b.WriteString(t.Caption + "\n")
	}
	for i, r := range rows {
		line := make([]string, n)
		for j := range n {
			s := ""
			if j < len(r) {
				s = strings.ReplaceAll(r[j], "\n", " ")
			}
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(s))
			if j < len(t.Align) && t.Align[j] == "right" {
				line[j] = pad + s
			} else {
				line[j] = s + pad
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(line, "  "), " ") + "\n")
		if i == 0 && len(t.Header) > 0 {
			sep := make([]string, n)
			for j := range n {
				sep[j] = strings.Repeat("-", width[j])
			}
			b.WriteString(strings.Join(sep, "  ") + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
