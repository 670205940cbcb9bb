package output

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gptviz/gptviz/internal/i18n"
)

// EChartsVersion is the version of the Apache ECharts bundle inlined into
// every HTML page (assets/echarts, from the npm package echarts).
const EChartsVersion = "5.6.0"

var (
	//go:embed assets/echarts/echarts.min.js
	echartsJS string
	//go:embed assets/page.css
	pageCSS string
	//go:embed assets/page.js
	pageJS string
	//go:embed assets/playground.js
	playgroundJS string
	//go:embed assets/playground.css
	playgroundCSS string
)

// contentSecurityPolicy returns the page's CSP: nothing may be loaded from
// anywhere (default-src 'none'); images only from data: addresses (static
// charts); styles inline; scripts only the inline blocks whose SHA-256
// hashes it names (the playground's only in a page that has one). An
// injected <script> or on…= handler would not run even if escaping failed
// somewhere.
func contentSecurityPolicy(playground bool) string {
	if playground {
		return cspPlayground()
	}
	return cspPlain()
}

var (
	cspPlain      = sync.OnceValue(func() string { return csp(echartsJS, pageJS) })
	cspPlayground = sync.OnceValue(func() string { return csp(echartsJS, pageJS, playgroundJS) })
)

func csp(scripts ...string) string {
	src := ""
	for _, s := range scripts {
		sum := sha256.Sum256([]byte(s))
		src += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src" + src + "; base-uri 'none'; form-action 'none'"
}

// hasPlayground reports whether nb holds a Playground cell.
func hasPlayground(nb *Notebook) bool {
	for i := range nb.Cells {
		if nb.Cells[i].Kind == KindPlayground {
			return true
		}
	}
	return false
}

// words are the few words the writers add to the page themselves.
var words = i18n.Table{
	"note":     {"Note", "说明"},
	"noscript": {"The charts of this report need JavaScript, which is turned off.", "本报告的图表需要 JavaScript，但它已被关闭。"},
	"footer": {"Charts drawn by Apache ECharts " + EChartsVersion + " (Apache License 2.0), included in this file: it works offline.",
		"图表由 Apache ECharts " + EChartsVersion + "（Apache License 2.0）绘制，已内嵌于本文件，可离线查看。"},
	"untitled":    {"gptviz report", "gptviz 报告"},
	"interactive": {"interactive chart: open the HTML report to see it", "交互式图表：请在 HTML 报告中查看"},
	"playground":  {"interactive sampling playground: open the HTML page to use it", "交互式采样实验台：请在 HTML 页面中使用"},
}

func lang(nb *Notebook) i18n.Lang { return i18n.ParseLang(nb.Lang) }

// esc escapes s for HTML text and double-quoted attribute values; invalid
// UTF-8 and NUL (a parse error in HTML) become U+FFFD.
func esc(s string) string {
	return html.EscapeString(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD"))
}

// WriteHTML writes nb as one self-contained HTML5 page (UTF-8) to w.
//
// The page is a single column of cells in a notebook look, styled by inlined
// CSS with CJK font fallbacks. Markdown is rendered by goldmark (CommonMark,
// GFM tables and strikethrough); raw HTML in it is shown as escaped text, and
// links or images pointing outside the page are shown as text, so no src or
// href refers to a network address. Code is shown verbatim; tables, chips and
// notes are escaped plain text. A chart with an Option becomes <div id=ID>
// drawn by the inlined ECharts bundle; its option is embedded as JSON with
// <, >, & and U+2028/U+2029 escaped (\u003c …) in a <script
// type="application/json"> block and read with JSON.parse, so no text in it
// can end the block or run as code. Charts without an Option show their PNG
// (else SVG) as a data: image. A Content-Security-Policy forbids all network
// loads and any script but the page's own two. The output is deterministic:
// the same notebook gives the same bytes.
//
// It returns an error wrapping ErrInvalid if nb.Validate fails (nothing is
// written then), or the first error from w.
func WriteHTML(w io.Writer, nb *Notebook) error {
	if err := nb.Validate(); err != nil {
		return err
	}
	// Render every cell before writing anything, so that a failure leaves w
	// untouched.
	body, err := htmlBody(nb)
	if err != nil {
		return err
	}
	l := lang(nb)
	bw := bufio.NewWriterSize(w, 64<<10)
	title := nb.Title
	if title == "" {
		title = words.Get(l, "untitled")
	}
	htmlLang := "en"
	if l == i18n.Chinese {
		htmlLang = "zh-CN"
	}
	fmt.Fprintf(bw, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n", htmlLang)
	pg := hasPlayground(nb)
	fmt.Fprintf(bw, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n", esc(contentSecurityPolicy(pg)))
	bw.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	keys := make([]string, 0, len(nb.Meta))
	for k := range nb.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(bw, "<meta name=\"%s\" content=\"%s\">\n", esc(k), esc(nb.Meta[k]))
	}
	fmt.Fprintf(bw, "<title>%s</title>\n<style>\n%s</style>\n", esc(title), pageCSS)
	if pg {
		fmt.Fprintf(bw, "<style>\n%s</style>\n", playgroundCSS)
	}
	bw.WriteString("</head>\n<body>\n<main class=\"notebook\">\n")
	if nb.Title != "" {
		fmt.Fprintf(bw, "<header><h1>%s</h1></header>\n", esc(nb.Title))
	}
	fmt.Fprintf(bw, "<noscript><p class=\"noscript\">%s</p></noscript>\n", esc(words.Get(l, "noscript")))
	bw.Write(body)
	fmt.Fprintf(bw, "<footer>%s</footer>\n</main>\n", esc(words.Get(l, "footer")))
	bw.WriteString("<script>")
	bw.WriteString(echartsJS)
	bw.WriteString("</script>\n<script>")
	bw.WriteString(pageJS)
	if pg {
		bw.WriteString("</script>\n<script>")
		bw.WriteString(playgroundJS)
	}
	bw.WriteString("</script>\n</body>\n</html>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

// htmlBody renders the cells of a valid notebook.
func htmlBody(nb *Notebook) ([]byte, error) {
	var b bytes.Buffer
	l := lang(nb)
	for i := range nb.Cells {
		c := &nb.Cells[i]
		switch c.Kind {
		case KindMarkdown:
			md, err := renderMarkdown(c.Source)
			if err != nil {
				return nil, fmt.Errorf("cell %d: markdown: %w", i, err)
			}
			if c.Summary != "" {
				fmt.Fprintf(&b, "<details class=\"cell cell-markdown cell-folded\"><summary>%s</summary>\n", esc(c.Summary))
				b.Write(md)
				b.WriteString("</details>\n")
				continue
			}
			b.WriteString("<div class=\"cell cell-markdown\">\n")
			b.Write(md)
			b.WriteString("</div>\n")
		case KindCode:
			syntax := c.Syntax
			if syntax == "" {
				syntax = "shell"
			}
			fmt.Fprintf(&b, "<div class=\"cell cell-code\"><span class=\"lang\">%s</span><pre><code>%s</code></pre></div>\n",
				syntax, esc(strings.TrimRight(c.Source, "\n")))
		case KindNote:
			fmt.Fprintf(&b, "<aside class=\"cell cell-note\" role=\"note\"><strong>%s</strong>%s</aside>\n",
				esc(words.Get(l, "note")), esc(strings.TrimSpace(c.Source)))
		case KindChart:
			if err := writeChartHTML(&b, c.Chart); err != nil {
				return nil, fmt.Errorf("cell %d: %w", i, err)
			}
		case KindTable:
			b.WriteString("<div class=\"cell cell-table\">")
			writeTableHTML(&b, c.Table, false)
			b.WriteString("</div>\n")
		case KindChips:
			b.WriteString("<div class=\"cell cell-chips\">")
			writeChipsHTML(&b, c.Chips, false)
			b.WriteString("</div>\n")
		case KindPlayground:
			if err := writePlaygroundHTML(&b, c.Playground); err != nil {
				return nil, fmt.Errorf("cell %d: %w", i, err)
			}
		}
	}
	return b.Bytes(), nil
}

// writeChartHTML writes a chart: a caption, then the ECharts container and
// its option, or a static image.
func writeChartHTML(b *bytes.Buffer, ch *Chart) error {
	h := ch.Height
	if h == 0 {
		h = DefaultChartHeight
	}
	b.WriteString("<figure class=\"cell cell-chart\">")
	if ch.Title != "" {
		fmt.Fprintf(b, "<figcaption class=\"caption\">%s</figcaption>", esc(ch.Title))
	}
	switch {
	case len(ch.Option) > 0:
		var opt bytes.Buffer
		if err := json.Compact(&opt, ch.Option); err != nil {
			return fmt.Errorf("chart %q: option: %w", ch.ID, err)
		}
		fmt.Fprintf(b, "\n<div id=\"%s\" class=\"chart\" style=\"height:%dpx\"></div>\n", ch.ID, h)
		fmt.Fprintf(b, "<script type=\"application/json\" id=\"opt_%s\" data-chart=\"%s\">", ch.ID, ch.ID)
		// HTMLEscape turns <, >, & into \u003c, \u003e, \u0026 and U+2028,
		// U+2029 into \u2028, \u2029 (valid JSON, so JSON.parse restores
		// them): nothing inside can close the script element.
		json.HTMLEscape(b, opt.Bytes())
		b.WriteString("</script>\n")
	default:
		// A static image shows at its own size, or scaled to Height (PNG
		// pixels stay crisp squares), never wider than the column.
		class, mime, data := "static", "image/svg+xml", ch.SVG
		if len(ch.PNG) > 0 {
			class, mime, data = "static raster", "image/png", ch.PNG
		}
		style := ""
		if ch.Height > 0 {
			style = fmt.Sprintf(" style=\"height:%dpx\"", ch.Height)
		}
		fmt.Fprintf(b, "\n<img id=\"%s\" class=\"%s\"%s alt=\"%s\" src=\"data:%s;base64,%s\">\n",
			ch.ID, class, style, esc(ch.Title), mime, base64.StdEncoding.EncodeToString(data))
	}
	b.WriteString("</figure>\n")
	return nil
}

// writePlaygroundHTML writes a playground: a caption, the element
// playground.js fills, and its data as inert JSON (escaped like a chart's
// option).
func writePlaygroundHTML(b *bytes.Buffer, p *Playground) error {
	var data bytes.Buffer
	if err := json.Compact(&data, p.Data); err != nil {
		return fmt.Errorf("playground %q: data: %w", p.ID, err)
	}
	b.WriteString("<figure class=\"cell cell-playground\">")
	if p.Title != "" {
		fmt.Fprintf(b, "<figcaption class=\"caption\">%s</figcaption>", esc(p.Title))
	}
	fmt.Fprintf(b, "\n<div id=\"%s\" class=\"playground\"></div>\n", p.ID)
	fmt.Fprintf(b, "<script type=\"application/json\" id=\"pg_%s\" data-playground=\"%s\">", p.ID, p.ID)
	json.HTMLEscape(b, data.Bytes())
	b.WriteString("</script>\n</figure>\n")
	return nil
}

// writeTableHTML writes t as an HTML table. inline styles it for places
// without the page's CSS (Jupyter outputs).
func writeTableHTML(b *bytes.Buffer, t *Table, inline bool) {
	n := t.columns()
	cellAttr := func(j int, th bool) string {
		a := ""
		if j < len(t.Align) {
			a = t.Align[j]
		}
		if inline {
			if a == "" {
				a = "left"
			}
			return ` style="text-align:` + a + `"`
		}
		if a == "right" || a == "center" {
			return ` class="al-` + a + `"`
		}
		return ""
	}
	if t.Folded {
		// The caption becomes the summary that opens the table.
		b.WriteString("<details><summary>" + esc(t.Caption) + "</summary>")
		defer b.WriteString("</details>")
		u := *t
		u.Caption, u.Folded = "", false
		t = &u
	}
	b.WriteString("<div class=\"table-wrap\"><table>")
	if t.Caption != "" {
		if inline {
			fmt.Fprintf(b, "<caption style=\"text-align:left;font-weight:bold\">%s</caption>", esc(t.Caption))
		} else {
			fmt.Fprintf(b, "<caption class=\"caption\">%s</caption>", esc(t.Caption))
		}
	}
	if len(t.Header) > 0 {
		b.WriteString("\n<thead><tr>")
		for j, h := range t.Header {
			fmt.Fprintf(b, "<th%s>%s</th>", cellAttr(j, true), esc(h))
		}
		b.WriteString("</tr></thead>")
	}
	b.WriteString("\n<tbody>\n")
	for _, r := range t.Rows {
		b.WriteString("<tr>")
		for j := 0; j < n; j++ {
			s := ""
			if j < len(r) {
				s = r[j]
			}
			fmt.Fprintf(b, "<td%s>%s</td>", cellAttr(j, false), esc(s))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table></div>")
}

// chipColours are the chip palette (background, border) for groups 0–8,
// mirroring .chip.gN in page.css, for inline-styled chips.
var chipColours = [9][2]string{
	{"#f1f3f5", "#d0d7de"},
	{"#dbeafe", "#93c5fd"}, {"#dcfce7", "#86efac"}, {"#fef3c7", "#fcd34d"}, {"#fce7f3", "#f9a8d4"},
	{"#ede9fe", "#c4b5fd"}, {"#ccfbf1", "#5eead4"}, {"#ffedd5", "#fdba74"}, {"#e0e7ff", "#a5b4fc"},
}

// shadeStyle is the inline style of a chip of Shade v > 0: a blue fill of
// opacity 0.08 to 0.88, white text on the darker ones.
func shadeStyle(v float64) string {
	v = min(v, 1)
	st := fmt.Sprintf(";background:rgba(49,130,189,%.2f)", 0.08+0.8*v)
	if v > 0.55 {
		st += ";color:#fff"
	}
	return st
}

// chipGroup maps Chip.Group to a palette index 0–8.
func chipGroup(g int) int {
	if g <= 0 {
		return 0
	}
	return (g-1)%8 + 1
}

// writeChipsHTML writes a chip row; inline styles it for places without the
// page's CSS (Jupyter outputs).
func writeChipsHTML(b *bytes.Buffer, c *Chips, inline bool) {
	if c.Caption != "" {
		if inline {
			fmt.Fprintf(b, "<p style=\"font-weight:bold\">%s</p>", esc(c.Caption))
		} else {
			fmt.Fprintf(b, "<p class=\"caption\">%s</p>", esc(c.Caption))
		}
	}
	if inline {
		b.WriteString("<div style=\"line-height:2.2\">")
	} else {
		b.WriteString("<div class=\"chips\">")
	}
	for _, it := range c.Items {
		g := chipGroup(it.Group)
		title := ""
		if it.Title != "" {
			title = ` title="` + esc(it.Title) + `"`
		}
		shade := ""
		if it.Shade > 0 {
			shade = shadeStyle(it.Shade)
		}
		if inline {
			border := "1px solid " + chipColours[g][1]
			weight := ""
			if it.Highlight {
				border = "2px solid #1f2328"
				weight = ";font-weight:bold"
			}
			fmt.Fprintf(b, "<span style=\"display:inline-block;white-space:pre;font-family:monospace;padding:2px 5px;margin:2px;border-radius:5px;background:%s;border:%s%s%s\"%s>%s</span>",
				chipColours[g][0], border, weight, shade, title, esc(it.Label))
			continue
		}
		class := "chip"
		if g > 0 {
			class += " g" + strconv.Itoa(g)
		}
		if it.Highlight {
			class += " hl"
		}
		if shade != "" {
			shade = ` style="` + strings.TrimPrefix(shade, ";") + `"`
		}
		fmt.Fprintf(b, "<span class=\"%s\"%s%s>%s</span>", class, shade, title, esc(it.Label))
	}
	b.WriteString("</div>")
}
