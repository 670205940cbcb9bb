// Package output owns the report document and the files it becomes.
//
// A report is a [Notebook]: a title, a language and a column of [Cell]s —
// markdown explanations, code (the command or Go call that produced what
// follows), charts, tables, token chips and notes. The writers turn one
// Notebook into
//
//   - one self-contained HTML page ([WriteHTML]) that works offline from
//     file://: CSS and Apache ECharts are inlined, every chart option is
//     embedded as inert JSON data, all text is escaped;
//   - a Jupyter notebook ([WriteIPYNB], nbformat 4.5) without code cells, so
//     that running it keeps everything: commands as raw cells, charts as
//     markdown cells with their static PNG/SVG rendering attached;
//   - static figures ([WriteFigures]), one SVG/PNG file per chart.
//
// [WriteFileAtomic] writes any of them so that an existing file is replaced
// only once the new one is complete.
//
// The package knows nothing of transformers: callers (package lessons) decide
// what the cells say, package viz builds the chart options and renderings.
package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Notebook is one report: a titled column of cells, rendered top to bottom.
// The zero value is an empty English notebook. Writers never modify it.
type Notebook struct {
	// Title is the page title (HTML <title> and heading, ipynb metadata
	// title). Plain text; may be empty.
	Title string
	// Lang is the language of the text: "en" (also used when empty) or "zh"
	// (Simplified Chinese). It sets the HTML lang attribute, which picks CJK
	// glyphs, and the few words the writers add themselves ("Note").
	Lang string
	// Cells are the notebook's cells in reading order.
	Cells []Cell
	// Meta holds free-form facts about the run (e.g. "generator":
	// "gptviz v0.1.0", "model": "gpt2"). Written as <meta name=… content=…>
	// in the HTML head and as metadata.gptviz in the ipynb, keys sorted.
	// Nothing time-dependent is written unless the caller puts it here.
	Meta map[string]string
}

// CellKind says what a [Cell] holds.
type CellKind int

// The cell kinds. The zero value is KindMarkdown.
const (
	// KindMarkdown: Cell.Source is CommonMark (+ GFM tables and strikethrough).
	// Raw HTML in it is shown as text, never rendered; links and images that
	// would load or open a network address are shown as text (see WriteHTML).
	KindMarkdown CellKind = iota
	// KindCode: Cell.Source is code (a shell command line or a Go call), shown
	// verbatim in a monospace block; Cell.Syntax names its language.
	KindCode
	// KindChart: Cell.Chart is a chart (interactive ECharts option and/or static
	// renderings).
	KindChart
	// KindTable: Cell.Table is a table of plain-text cells.
	KindTable
	// KindChips: Cell.Chips is a row of labelled chips, e.g. the prompt's tokens.
	KindChips
	// KindNote: Cell.Source is a short plain-text callout, e.g. "attention beyond
	// 256 positions was averaged". Not markdown.
	KindNote
	// KindPlayground: Cell.Playground is a sampling playground, sliders
	// that recompute recorded next-token distributions in the page.
	KindPlayground
)

var kindNames = [...]string{"markdown", "code", "chart", "table", "chips", "note", "playground"}

// String returns the kind's lower-case name ("markdown", "code", …).
func (k CellKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("CellKind(%d)", int(k))
}

// Cell is one cell of a [Notebook]. Exactly the field that belongs to Kind is
// set: Source for Markdown, Code and Note; Chart, Table or Chips for the
// others. Use the constructors ([MarkdownCell], [CodeCell], …) to be sure.
type Cell struct {
	// Kind says which of the fields below is used.
	Kind CellKind
	// Source is the text of a Markdown, Code or Note cell (UTF-8). Markdown:
	// markdown whose raw HTML is shown as text. Code: code, verbatim. Note:
	// plain text, shown as a callout.
	Source string
	// Syntax is the language of a Code cell: "shell" (used when empty) or
	// "go". It labels the block in the HTML page.
	Syntax string
	// Summary, when set on a Markdown cell, folds the cell away under this
	// plain-text line for the reader to open (HTML <details>; in the ipynb
	// a markdown cell holding <details>), e.g. the answer to a question.
	Summary string
	// Chart is the chart of a Chart cell.
	Chart *Chart
	// Table is the table of a Table cell.
	Table *Table
	// Chips is the chip row of a Chips cell.
	Chips *Chips
	// Playground is the playground of a Playground cell.
	Playground *Playground
}

// Playground is an interactive sampling playground: a step selector and
// sliders for temperature, top-k and top-p that recompute recorded
// next-token distributions in the page, filter by filter. Its script and
// styles (assets/playground.js and playground.css, plain JavaScript, no
// library) are inlined only into pages that hold a playground; the ipynb
// and static figures show a line saying it is interactive in the HTML
// page. Package viz builds it (viz.SamplingPlayground); playground.js
// documents the Data it reads.
type Playground struct {
	// ID names the playground like Chart.ID (1 to 64 characters from
	// [a-z0-9-], unique among the notebook's charts and playgrounds): the
	// id of its element in the HTML page.
	ID string
	// Title is a short plain-text caption shown above it.
	Title string
	// Data is the playground's data, a JSON object (viz.PlaygroundData),
	// embedded as inert JSON and read with JSON.parse, never evaluated.
	Data json.RawMessage
}

// Chart is one chart. The HTML page draws Option with ECharts when it is set,
// otherwise shows PNG, otherwise SVG; the ipynb and WriteFigures use SVG and
// PNG. At least one of Option, SVG and PNG must be set.
type Chart struct {
	// ID names the chart: 1 to 64 characters from [a-z0-9-], unique in the
	// notebook, fixed for a given report (no random parts) so that output is
	// deterministic. It is the id of the chart's <div> in the HTML page and
	// the file name (ID.svg, ID.png) in WriteFigures.
	ID string
	// Title is a short plain-text caption shown above the chart and used as
	// the alt text of static images. Leave the option's own title empty to
	// avoid showing it twice.
	Title string
	// Option is a complete ECharts 5 option object: what echarts.setOption
	// takes, as JSON. It may use "baseOption"/"options" with a timeline. It
	// must be pure data: strings are never evaluated as code (formatters can
	// only be ECharts string templates), and no go-echarts "__f__" function
	// markers are honoured. ECharts escapes the values it puts into a
	// tooltip template ({b}, {c}), but the template itself is HTML: never
	// build a formatter string from model or user text. Empty means no
	// interactive chart.
	Option json.RawMessage
	// Height is the chart's height in CSS pixels; 0 means 400 for an
	// interactive chart and the image's own size for a static one (a static
	// image with a Height is scaled to it, pixels kept square and crisp). The
	// width is the page column's (about 920 px) for interactive charts.
	Height int
	// SVG is an optional static rendering (e.g. gonum/plot's vgsvg), an SVG
	// document. Used by the ipynb writer, WriteFigures, and by the HTML page
	// when Option and PNG are empty (shown as an <img>, so scripts in it never
	// run).
	SVG []byte
	// PNG is an optional raster rendering (a PNG file), for grids too big to
	// draw interactively. Same uses as SVG; preferred over SVG in the page.
	PNG []byte
}

// Table is a table of plain-text cells. Rows with fewer cells than the widest
// row are padded with empty cells.
type Table struct {
	// Caption is an optional plain-text caption shown above the table.
	Caption string
	// Header holds the column names; may be empty for a headerless table.
	Header []string
	// Rows holds the body, row by row; each row holds at most as many cells
	// as the table has columns (len(Header) when Header is set).
	Rows [][]string
	// Align holds one alignment per column: "" or "left", "right" (numbers),
	// "center". It may be shorter than the number of columns; missing ones are
	// left-aligned.
	Align []string
	// Folded shows the table closed, under its caption, for the reader to
	// open (HTML <details>; in the ipynb too); for long tables that would
	// make the page too long to scroll. The plain-text forms are unchanged.
	Folded bool
}

// Chips is a row of chips: small labelled boxes that wrap like words, e.g.
// the prompt's tokens.
type Chips struct {
	// Caption is an optional plain-text caption shown above the chips.
	Caption string
	// Items are the chips in order.
	Items []Chip
}

// Chip is one chip of a [Chips] row.
type Chip struct {
	// Label is the text shown, verbatim (white space preserved). Callers
	// choose a display form, e.g. "␣fox" for a token with a leading space.
	Label string
	// Title is shown on hover (the HTML title attribute), e.g. "id 21831".
	// May be empty.
	Title string
	// Group picks the chip's colour: 0 is neutral grey, 1… cycle through a
	// palette of 8 colours (Group 9 looks like Group 1). Negative means 0.
	Group int
	// Highlight draws the chip emphasised (bold, darker outline), e.g. the
	// token chosen at this step.
	Highlight bool
	// Shade, when > 0, fills the chip with blue of this strength instead
	// of Group's colour: 0 < Shade ≤ 1 (larger values count as 1), e.g. a
	// token's probability. The fill is written with two decimals, so equal
	// notebooks give equal pages.
	Shade float64
}

// MarkdownCell returns a Markdown cell holding src.
func MarkdownCell(src string) Cell { return Cell{Kind: KindMarkdown, Source: src} }

// FoldedCell returns a Markdown cell holding src, folded away under the
// plain-text summary (e.g. "Answer").
func FoldedCell(summary, src string) Cell {
	return Cell{Kind: KindMarkdown, Source: src, Summary: summary}
}

// CodeCell returns a Code cell holding src, in the given syntax ("shell" or
// "go"; "" means "shell").
func CodeCell(syntax, src string) Cell { return Cell{Kind: KindCode, Syntax: syntax, Source: src} }

// ChartCell returns a Chart cell holding c.
func ChartCell(c *Chart) Cell { return Cell{Kind: KindChart, Chart: c} }

// TableCell returns a Table cell holding t.
func TableCell(t *Table) Cell { return Cell{Kind: KindTable, Table: t} }

// ChipsCell returns a Chips cell holding c.
func ChipsCell(c *Chips) Cell { return Cell{Kind: KindChips, Chips: c} }

// NoteCell returns a Note cell holding the plain text s.
func NoteCell(s string) Cell { return Cell{Kind: KindNote, Source: s} }

// PlaygroundCell returns a Playground cell holding p.
func PlaygroundCell(p *Playground) Cell { return Cell{Kind: KindPlayground, Playground: p} }

// ErrInvalid is wrapped by every error [Notebook.Validate] returns.
var ErrInvalid = errors.New("invalid notebook")

// DefaultChartHeight is the height in CSS pixels of a chart whose Height is 0.
const DefaultChartHeight = 400

// maxChartHeight bounds Chart.Height (CSS pixels).
const maxChartHeight = 20000

// Validate checks nb before it is written; every writer calls it first. It
// returns an error wrapping [ErrInvalid] that names the cell (0-based index)
// and the problem: unknown Lang or Kind, a Kind whose field is nil or a field
// set that does not belong to it, a chart or playground ID that is empty,
// longer than 64, not [a-z0-9-]+ or used twice, playground data that is not
// a JSON object, a chart with no Option, SVG or PNG, an Option
// that is not a JSON object, a Height outside [0, 20000], a table row wider
// than the header, an unknown alignment, or an unknown code syntax. Text that
// is not valid UTF-8 is not an error: writers show invalid bytes as U+FFFD.
func (nb *Notebook) Validate() error {
	if nb == nil {
		return fmt.Errorf("%w: nil notebook", ErrInvalid)
	}
	if nb.Lang != "" && nb.Lang != "en" && nb.Lang != "zh" {
		return fmt.Errorf("%w: lang %q: want \"en\" or \"zh\"", ErrInvalid, nb.Lang)
	}
	ids := make(map[string]int)
	for i := range nb.Cells {
		if err := nb.Cells[i].validate(ids, i); err != nil {
			return fmt.Errorf("%w: cell %d (%v): %v", ErrInvalid, i, nb.Cells[i].Kind, err)
		}
	}
	return nil
}

func (c *Cell) validate(ids map[string]int, index int) error {
	want := map[CellKind]bool{}
	switch c.Kind {
	case KindMarkdown, KindNote:
	case KindCode:
		if c.Syntax != "" && c.Syntax != "shell" && c.Syntax != "go" {
			return fmt.Errorf("syntax %q: want \"shell\" or \"go\"", c.Syntax)
		}
	case KindChart:
		want[KindChart] = true
	case KindTable:
		want[KindTable] = true
	case KindChips:
		want[KindChips] = true
	case KindPlayground:
		want[KindPlayground] = true
	default:
		return errors.New("unknown kind")
	}
	if c.Kind != KindMarkdown && c.Kind != KindCode && c.Kind != KindNote && c.Source != "" {
		return errors.New("Source is set but only markdown, code and note cells use it")
	}
	if c.Kind != KindCode && c.Syntax != "" {
		return errors.New("Syntax is set but only code cells use it")
	}
	if c.Kind != KindMarkdown && c.Summary != "" {
		return errors.New("Summary is set but only markdown cells use it")
	}
	if (c.Chart != nil) != want[KindChart] || (c.Table != nil) != want[KindTable] || (c.Chips != nil) != want[KindChips] ||
		(c.Playground != nil) != want[KindPlayground] {
		return fmt.Errorf("a %v cell must set exactly its own field (Chart, Table, Chips or Playground)", c.Kind)
	}
	switch {
	case c.Chart != nil:
		return c.Chart.validate(ids, index)
	case c.Playground != nil:
		return c.Playground.validate(ids, index)
	case c.Table != nil:
		return c.Table.validate()
	}
	return nil
}

// validID reports whether id is 1–64 characters from [a-z0-9-].
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

func (ch *Chart) validate(ids map[string]int, index int) error {
	if !validID(ch.ID) {
		return fmt.Errorf("chart id %q: want 1 to 64 characters from [a-z0-9-]", ch.ID)
	}
	if prev, ok := ids[ch.ID]; ok {
		return fmt.Errorf("chart id %q: already used by cell %d", ch.ID, prev)
	}
	ids[ch.ID] = index
	if ch.Height < 0 || ch.Height > maxChartHeight {
		return fmt.Errorf("chart %q: height %d px: want 0 to %d", ch.ID, ch.Height, maxChartHeight)
	}
	if len(ch.Option) == 0 && len(ch.SVG) == 0 && len(ch.PNG) == 0 {
		return fmt.Errorf("chart %q: no Option, SVG or PNG", ch.ID)
	}
	if len(ch.Option) > 0 {
		if !json.Valid(ch.Option) {
			return fmt.Errorf("chart %q: option is not valid JSON", ch.ID)
		}
		if t := bytes.TrimLeft(ch.Option, " \t\r\n"); t[0] != '{' {
			return fmt.Errorf("chart %q: option is not a JSON object", ch.ID)
		}
	}
	if len(ch.PNG) > 0 && !bytes.HasPrefix(ch.PNG, pngMagic) {
		return fmt.Errorf("chart %q: PNG does not start with the PNG signature", ch.ID)
	}
	return nil
}

func (p *Playground) validate(ids map[string]int, index int) error {
	if !validID(p.ID) {
		return fmt.Errorf("playground id %q: want 1 to 64 characters from [a-z0-9-]", p.ID)
	}
	if prev, ok := ids[p.ID]; ok {
		return fmt.Errorf("playground id %q: already used by cell %d", p.ID, prev)
	}
	ids[p.ID] = index
	if !json.Valid(p.Data) {
		return fmt.Errorf("playground %q: data is not valid JSON", p.ID)
	}
	if t := bytes.TrimLeft(p.Data, " \t\r\n"); t[0] != '{' {
		return fmt.Errorf("playground %q: data is not a JSON object", p.ID)
	}
	return nil
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// columns returns the table's number of columns: len(Header), or the widest
// row when there is no header.
func (t *Table) columns() int {
	n := len(t.Header)
	if n == 0 {
		for _, r := range t.Rows {
			n = max(n, len(r))
		}
	}
	return n
}

func (t *Table) validate() error {
	n := t.columns()
	for i, r := range t.Rows {
		if len(r) > n {
			return fmt.Errorf("table row %d has %d cells, the header %d", i, len(r), n)
		}
	}
	if len(t.Align) > n {
		return fmt.Errorf("table has %d alignments for %d columns", len(t.Align), n)
	}
	for j, a := range t.Align {
		switch a {
		case "", "left", "right", "center":
		default:
			return fmt.Errorf("table column %d: alignment %q: want left, right or center", j, a)
		}
	}
	return nil
}
