package output

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
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
		Gptviz       map[string]string `json:"gptviz,omitempty"`
		LanguageInfo ipynbLangInfo     `json:"language_info"`
		Title        string            `json:"title,omitempty"`
	}
	ipynbLangInfo struct {
		Name string `json:"name"`
	}
	ipynbMarkdown struct {
		CellType string         `json:"cell_type"` // "markdown"
		ID       string         `json:"id"`
		Metadata map[string]any `json:"metadata"`
		Source   []string       `json:"source"`
	}
	ipynbCode struct {
		CellType       string         `json:"cell_type"` // "code"
		ExecutionCount *int           `json:"execution_count"`
		ID             string         `json:"id"`
		Metadata       map[string]any `json:"metadata"`
		Outputs        []ipynbOutput  `json:"outputs"`
		Source         []string       `json:"source"`
	}
	ipynbOutput struct {
		Data       map[string]any `json:"data"`
		Metadata   map[string]any `json:"metadata"`
		OutputType string         `json:"output_type"` // "display_data"
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

// commentPrefix returns the line-comment marker of a code cell's syntax.
func commentPrefix(syntax string) string {
	if syntax == "go" {
		return "// "
	}
	return "# "
}

// WriteIPYNB writes nb as a Jupyter notebook (nbformat 4, minor 5, with cell
// ids) to w, as indented JSON that is valid against the nbformat v4.5 schema.
//
// Markdown cells stay markdown, except that raw HTML in them is escaped to
// text as in the HTML page (Jupyter would render it). Code cells have
// execution_count null. Chart, Table and Chips cells become display_data
// outputs of the code cell just before them; when there is none, of a new
// code cell whose source is a comment naming the output. A chart's outputs
// are its SVG (image/svg+xml) and PNG (image/png, base64) renderings, with
// its title as text/plain; a chart with neither says, as text/plain, that it
// is interactive in the HTML report. Tables and chips are text/html (escaped,
// inline-styled) plus text/plain. Note cells become markdown quotes. Cell
// ids are "cell-N" (N counts from 0), so the output is deterministic.
// Notebook metadata: title, language_info (the first code cell's syntax,
// else "shell") and Meta under "gptviz".
//
// It returns an error wrapping ErrInvalid if nb.Validate fails (nothing is
// written then), or the first error from w.
func WriteIPYNB(w io.Writer, nb *Notebook) error {
	if err := nb.Validate(); err != nil {
		return err
	}
	doc := ipynbDoc{Cells: []any{}, NBFormat: 4, NBFormatMinor: 5}
	doc.Metadata.Title = strings.ToValidUTF8(nb.Title, "\uFFFD")
	doc.Metadata.LanguageInfo.Name = "shell"
	for _, c := range nb.Cells {
		if c.Kind == KindCode {
			if c.Syntax != "" {
				doc.Metadata.LanguageInfo.Name = c.Syntax
			}
			break
		}
	}
	if len(nb.Meta) > 0 {
		doc.Metadata.Gptviz = nb.Meta
	}
	var last *ipynbCode // the code cell outputs attach to, nil after a markdown cell
	id := func() string { return fmt.Sprintf("cell-%d", len(doc.Cells)) }
	addMarkdown := func(src string) {
		doc.Cells = append(doc.Cells, &ipynbMarkdown{CellType: "markdown", ID: id(), Metadata: map[string]any{}, Source: lines(src)})
		last = nil
	}
	addOutput := func(label string, out ipynbOutput) {
		if last == nil {
			src := ""
			if label != "" {
				src = commentPrefix(doc.Metadata.LanguageInfo.Name) + strings.ReplaceAll(label, "\n", " ")
			}
			last = &ipynbCode{CellType: "code", ID: id(), Metadata: map[string]any{}, Outputs: []ipynbOutput{}, Source: lines(src)}
			doc.Cells = append(doc.Cells, last)
		}
		last.Outputs = append(last.Outputs, out)
	}
	for _, c := range nb.Cells {
		switch c.Kind {
		case KindMarkdown:
			addMarkdown(escapeRawHTMLMarkdown(c.Source))
		case KindNote:
			text := escapeMarkdownText(strings.TrimSpace(c.Source))
			addMarkdown("> **" + words.Get(lang(nb), "note") + ":** " + strings.ReplaceAll(text, "\n", "\n> "))
		case KindCode:
			last = &ipynbCode{CellType: "code", ID: id(), Metadata: map[string]any{}, Outputs: []ipynbOutput{},
				Source: lines(strings.TrimRight(c.Source, "\n"))}
			doc.Cells = append(doc.Cells, last)
		case KindChart:
			addOutput(c.Chart.Title, chartOutput(c.Chart))
		case KindTable:
			var h bytes.Buffer
			writeTableHTML(&h, c.Table, true)
			addOutput(c.Table.Caption, ipynbOutput{
				OutputType: "display_data",
				Metadata:   map[string]any{},
				Data: map[string]any{
					"text/html":  lines(h.String()),
					"text/plain": lines(tableText(c.Table)),
				},
			})
		case KindChips:
			var h bytes.Buffer
			writeChipsHTML(&h, c.Chips, true)
			labels := make([]string, len(c.Chips.Items))
			for i, it := range c.Chips.Items {
				labels[i] = it.Label
			}
			plain := strings.Join(labels, " | ")
			if c.Chips.Caption != "" {
				plain = c.Chips.Caption + "\n" + plain
			}
			addOutput(c.Chips.Caption, ipynbOutput{
				OutputType: "display_data",
				Metadata:   map[string]any{},
				Data: map[string]any{
					"text/html":  lines(h.String()),
					"text/plain": lines(plain),
				},
			})
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

// chartOutput returns a chart's display_data output.
func chartOutput(ch *Chart) ipynbOutput {
	data := map[string]any{}
	title := ch.Title
	if title == "" {
		title = ch.ID
	}
	if len(ch.SVG) > 0 {
		data["image/svg+xml"] = lines(string(ch.SVG))
	}
	if len(ch.PNG) > 0 {
		data["image/png"] = base64.StdEncoding.EncodeToString(ch.PNG)
	}
	if len(data) == 0 {
		data["text/plain"] = lines("[interactive chart: " + title + " (open the HTML report to see it)]")
	} else {
		data["text/plain"] = lines("[chart: " + title + "]")
	}
	return ipynbOutput{OutputType: "display_data", Metadata: map[string]any{}, Data: data}
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
