package output

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/gptviz/gptviz/internal/i18n/i18ntest"
)

// TestWords: the writers' words have both languages, and every word they
// use exists.
func TestWords(t *testing.T) {
	t.Parallel()
	i18ntest.Check(t, words, regexp.MustCompile(`words\.Get\([^,]+, "([a-z]+)"\)`), "*.go")
}

// writeHTMLString runs WriteHTML and fails the test on error.
func writeHTMLString(t testing.TB, nb *Notebook) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, nb); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return b.Bytes()
}

func TestWriteHTMLGolden(t *testing.T) {
	t.Parallel()
	page := writeHTMLString(t, sampleNotebook(t))
	if n := bytes.Count(page, []byte(echartsJS)); n != 1 {
		t.Fatalf("ECharts bundle inlined %d times, want 1", n)
	}
	// The 1 MB bundle is checked above; the golden file holds the rest.
	checkGolden(t, "sample.html", bytes.Replace(page, []byte(echartsJS), []byte("/* echarts.min.js "+EChartsVersion+" */"), 1))
}

func TestWriteHTMLDeterministic(t *testing.T) {
	t.Parallel()
	a := writeHTMLString(t, sampleNotebook(t))
	b := writeHTMLString(t, sampleNotebook(t))
	if !bytes.Equal(a, b) {
		t.Error("two writes of the same notebook differ")
	}
}

// allowedElements are the only elements a page may contain; anything else
// would mean some text was not escaped.
var allowedElements = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
	"main": true, "header": true, "footer": true, "noscript": true, "script": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"p": true, "div": true, "span": true, "pre": true, "code": true, "aside": true,
	"strong": true, "em": true, "del": true, "a": true, "ul": true, "ol": true, "li": true,
	"blockquote": true, "hr": true, "br": true, "img": true,
	"table": true, "caption": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	"figure": true, "figcaption": true,
}

// checkPageSafe tokenizes page as a browser would and checks that it holds
// only the page's own two scripts plus inert JSON blocks, no event-handler
// attribute, no element outside allowedElements, no src other than data:,
// no href with a scheme, and no way for the JSON to end its block. It
// returns the decoded JSON option of each chart by id.
func checkPageSafe(t testing.TB, page []byte) map[string]any {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	options := map[string]any{}
	scripts := 0
	var inScript string // "js", "json:ID" or ""
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if scripts != 2 {
				t.Errorf("page has %d executable scripts, want 2 (ECharts and the page's)", scripts)
			}
			return options
		case html.TextToken:
			if inScript == "" {
				continue
			}
			text := string(z.Text())
			switch {
			case inScript == "js":
				if text != echartsJS && text != pageJS {
					t.Errorf("unexpected script content: %.200q", text)
				}
			default:
				id := strings.TrimPrefix(inScript, "json:")
				if strings.ContainsAny(text, "<>&\u2028\u2029") {
					t.Errorf("chart %s: JSON block contains an unescaped <, >, & or U+2028/9: %.200q", id, text)
				}
				var v any
				if err := json.Unmarshal([]byte(text), &v); err != nil {
					t.Errorf("chart %s: JSON block does not parse: %v", id, err)
				}
				options[id] = v
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if !allowedElements[tag] {
				t.Errorf("unexpected element <%s>", tag)
			}
			attrs := map[string]string{}
			for {
				k, v, more := z.TagAttr()
				key := string(k)
				if strings.HasPrefix(key, "on") {
					t.Errorf("<%s> has event handler %s=%q", tag, key, v)
				}
				if _, dup := attrs[key]; dup {
					t.Errorf("<%s> has attribute %s twice", tag, key)
				}
				attrs[key] = string(v)
				if !more {
					break
				}
			}
			if src, ok := attrs["src"]; ok && !strings.HasPrefix(src, "data:image/") {
				t.Errorf("<%s src=%q>: only data:image/ sources are allowed", tag, src)
			}
			if href, ok := attrs["href"]; ok && !localURL(href) {
				t.Errorf("<%s href=%q>: only local links are allowed", tag, href)
			}
			if tag == "meta" && attrs["http-equiv"] != "" && attrs["http-equiv"] != "Content-Security-Policy" {
				t.Errorf("unexpected <meta http-equiv=%q>", attrs["http-equiv"])
			}
			if tag == "script" && tt == html.StartTagToken {
				switch typ := attrs["type"]; typ {
				case "":
					scripts++
					inScript = "js"
				case "application/json":
					inScript = "json:" + attrs["data-chart"]
				default:
					t.Errorf("unexpected <script type=%q>", typ)
				}
			}
		case html.EndTagToken:
			inScript = ""
		}
	}
}

// textsOf parses page and returns the text content of every element with
// the given class, in document order.
func textsOf(t testing.TB, page []byte, class string) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "class" && (a.Val == class || strings.HasPrefix(a.Val, class+" ")) {
					out = append(out, text(n))
					return
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func TestWriteHTMLSample(t *testing.T) {
	t.Parallel()
	nb := sampleNotebook(t)
	page := writeHTMLString(t, nb)
	options := checkPageSafe(t, page)
	for _, c := range nb.Cells {
		if c.Kind != KindChart || len(c.Chart.Option) == 0 {
			continue
		}
		var want any
		if err := json.Unmarshal(c.Chart.Option, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(options[c.Chart.ID], want) {
			t.Errorf("chart %s: option in the page differs from the notebook's", c.Chart.ID)
		}
		if !bytes.Contains(page, []byte(`<div id="`+c.Chart.ID+`" class="chart"`)) {
			t.Errorf("chart %s: no fixed-id div", c.Chart.ID)
		}
	}
	for _, want := range []string{
		`<html lang="en">`, `<meta charset="utf-8">`, `<meta name="generator" content="gptviz test">`,
		`<h2>Tokens entering working memory</h2>`, `<a href="#attn-heatmap">the charts</a>`,
		`<span class="link">the source blog</span> <span class="url">(https://example.com/blog)</span>`,
		`<th style="text-align:right">unit</th>`, `<span class="lang">go</span>`,
		`<span class="chip g4 hl" title="position 3, id 3464">␣fox</span>`,
		`<td class="al-right">0.012</td>`, `class="static raster"`, `src="data:image/svg+xml;base64,`,
		`<strong>Note</strong>The first token`,
		"模型把提示词切分成<strong>词元</strong>，每个词元占据上下文窗口中的一个位置。注意力矩阵", // no space at the CJK line break
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	if bytes.Contains(page, []byte("http://")) && bytes.Count(page, []byte("http://")) != bytes.Count([]byte(echartsJS), []byte("http://")) {
		t.Error("page has http:// outside the ECharts bundle's licence comments and namespaces")
	}
}

func TestWriteHTMLAdversarial(t *testing.T) {
	t.Parallel()
	nb := adversarialNotebook(t)
	page := writeHTMLString(t, nb)
	options := checkPageSafe(t, page)

	// No payload appears unescaped outside the scripts, JSON blocks and CSS
	// (checkPageSafe checked those).
	rest := regexp.MustCompile(`(?s)<script.*?</script>|<style>.*?</style>`).ReplaceAll(page, nil)
	for _, p := range []string{"<script>alert(1)", "<img src=x", `"onmouseover=`, "<div onclick", "<!--", "</style>"} {
		if bytes.Contains(rest, []byte(p)) {
			t.Errorf("page contains %q unescaped", p)
		}
	}

	// Every payload is shown as itself.
	chips := textsOf(t, page, "chip")
	if len(chips) != len(payloads) {
		t.Fatalf("%d chips, want %d", len(chips), len(payloads))
	}
	for i, p := range payloads {
		if chips[i] != p {
			t.Errorf("chip %d shows %q, want %q", i, chips[i], p)
		}
	}
	cells := textsOf(t, page, "table-wrap")
	if len(cells) != 1 || !strings.Contains(cells[0], payloads[0]+payloads[1]) {
		t.Errorf("table text %q lacks the header payloads", cells)
	}
	md := textsOf(t, page, "cell cell-markdown")
	if len(md) != 1 {
		t.Fatalf("%d markdown cells", len(md))
	}
	for _, want := range []string{payloads[0], payloads[1], payloads[2] + " in code", `<div onclick="alert(1)">block</div>`, "[x]", "(https://example.com/x.png)", "https://example.com/y"} {
		if !strings.Contains(md[0], want) {
			t.Errorf("markdown text lacks %q:\n%s", want, md[0])
		}
	}
	notes := textsOf(t, page, "cell cell-note")
	if len(notes) != 1 || !strings.HasSuffix(notes[0], strings.TrimSpace(strings.Join(payloads, " "))) {
		t.Errorf("note text %q", notes)
	}
	code := textsOf(t, page, "cell cell-code")
	if len(code) != 1 || !strings.HasSuffix(code[0], strings.Join(payloads, " ")) {
		t.Errorf("code text %q", code)
	}

	// The option survives exactly, __f__ markers included.
	var want any
	if err := json.Unmarshal(nb.Cells[5].Chart.Option, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(options["evil"], want) {
		t.Error("chart option changed on its way into the page")
	}
	if !bytes.Contains(page, []byte(`"__f__alert(1)__f__"`)) {
		t.Error("__f__ marker string was altered or dropped")
	}
	if !bytes.Contains(page, []byte(`<html lang="zh-CN">`)) || !bytes.Contains(page, []byte("<strong>说明</strong>")) {
		t.Error("zh page lacks lang zh-CN or the Chinese note label")
	}
}

func TestWriteHTMLInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		nb   *Notebook
	}{
		{"nil", nil},
		{"bad lang", &Notebook{Lang: "fr"}},
		{"bad id", &Notebook{Cells: []Cell{ChartCell(&Chart{ID: "Bad_ID", SVG: []byte("<svg/>")})}}},
		{"option not object", &Notebook{Cells: []Cell{ChartCell(&Chart{ID: "a", Option: json.RawMessage(`[1]`)})}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := WriteHTML(&b, tc.nb)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes for an invalid notebook", b.Len())
			}
		})
	}
}

// failWriter fails every write.
type failWriter struct{}

var errDiskFull = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWritersReturnWriteErrors(t *testing.T) {
	t.Parallel()
	nb := sampleNotebook(t)
	if err := WriteHTML(failWriter{}, nb); !errors.Is(err, errDiskFull) {
		t.Errorf("WriteHTML: err = %v, want %v", err, errDiskFull)
	}
	if err := WriteIPYNB(failWriter{}, nb); !errors.Is(err, errDiskFull) {
		t.Errorf("WriteIPYNB: err = %v, want %v", err, errDiskFull)
	}
	if err := WriteJSON(failWriter{}, nb.Meta); !errors.Is(err, errDiskFull) {
		t.Errorf("WriteJSON: err = %v, want %v", err, errDiskFull)
	}
}

func TestEChartsBundleInlinable(t *testing.T) {
	t.Parallel()
	// The bundle is inlined in a <script> element: it must not contain
	// anything that ends or changes the element's raw text.
	low := strings.ToLower(echartsJS)
	for _, bad := range []string{"</script", "<!--", "<script"} {
		if strings.Contains(low, bad) {
			t.Errorf("echarts.min.js contains %q", bad)
		}
	}
	if !strings.Contains(echartsJS, "Licensed to the Apache Software Foundation") {
		t.Error("echarts.min.js lost its licence header")
	}
	if !strings.Contains(echartsJS, `version="`+EChartsVersion+`"`) && !strings.Contains(echartsJS, `"`+EChartsVersion+`"`) {
		t.Errorf("echarts.min.js does not say it is version %s", EChartsVersion)
	}
}

// TestWriteHTMLNoNUL: a NUL in model text (a crafted trace) must not reach
// the page, where it is an HTML parse error; it is shown as U+FFFD.
func TestWriteHTMLNoNUL(t *testing.T) {
	t.Parallel()
	nb := &Notebook{Cells: []Cell{
		ChipsCell(&Chips{Items: []Chip{{Label: "a\x00b", Title: "t\x00"}}}),
		TableCell(&Table{Header: []string{"h\x00"}, Rows: [][]string{{"c\x00"}}}),
		CodeCell("shell", "x\x00y"),
		NoteCell("n\x00"),
	}}
	page := writeHTMLString(t, nb)
	if bytes.IndexByte(page, 0) >= 0 {
		t.Error("the page contains a NUL byte")
	}
	if !bytes.Contains(page, []byte("a\uFFFDb")) {
		t.Error("the NUL is not shown as U+FFFD")
	}
}

// TestWriteHTMLPlayground: the playground's script and styles are inlined,
// and its script allowed by the CSP, only in a page that holds a
// playground; its data is inert JSON that nothing in it can escape.
func TestWriteHTMLPlayground(t *testing.T) {
	t.Parallel()
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return esc("'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
	}
	plain := &Notebook{Cells: []Cell{MarkdownCell("x")}}
	data := json.RawMessage(`{"v":1,"labels":{"1":"</script><script>alert(1)</script>"},"words":{"pg.step":"\u2028<!--"}}`)
	with := &Notebook{Cells: []Cell{MarkdownCell("x"), PlaygroundCell(&Playground{ID: "pg-1", Title: "<b>Play</b>", Data: data})}}
	var a, b bytes.Buffer
	if err := WriteHTML(&a, plain); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&b, with); err != nil {
		t.Fatal(err)
	}
	pa, pb := a.String(), b.String()
	for _, part := range []string{playgroundJS, playgroundCSS, hash(playgroundJS)} {
		if strings.Contains(pa, part[:min(len(part), 200)]) {
			t.Errorf("a page without a playground contains %.40q", part)
		}
		if !strings.Contains(pb, part[:min(len(part), 200)]) {
			t.Errorf("a page with a playground lacks %.40q", part)
		}
	}
	for _, want := range []string{
		`<div id="pg-1" class="playground"></div>`,
		`data-playground="pg-1">`,
		`\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e`,
		`&lt;b&gt;Play&lt;/b&gt;`,
		hash(echartsJS), hash(pageJS),
	} {
		if !strings.Contains(pb, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(pb, "<script>alert") || strings.Contains(pb, "<b>Play") {
		t.Error("playground text reached the page as markup")
	}
	// The script can sit in a <script> element.
	low := strings.ToLower(playgroundJS)
	for _, bad := range []string{"</script", "<!--", "<script"} {
		if strings.Contains(low, bad) {
			t.Errorf("playground.js contains %q", bad)
		}
	}
	// The ipynb says where the playground works.
	var nb bytes.Buffer
	if err := WriteIPYNB(&nb, with); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(nb.String(), "interactive sampling playground: open the HTML page to use it") {
		t.Errorf("ipynb lacks the playground's line:\n%s", nb.String())
	}
}

// TestChipShade: a chip's Shade fills it with blue of that strength, in
// the page (inline style beside the class) and in the notebook's inline
// chips; 0 leaves the group colour.
func TestChipShade(t *testing.T) {
	t.Parallel()
	nb := &Notebook{Cells: []Cell{ChipsCell(&Chips{Items: []Chip{{Label: "a", Shade: 1}, {Label: "b", Shade: 0.25}, {Label: "c", Group: 2}}})}}
	var page, ipynb bytes.Buffer
	if err := WriteHTML(&page, nb); err != nil {
		t.Fatal(err)
	}
	if err := WriteIPYNB(&ipynb, nb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<span class="chip" style="background:rgba(49,130,189,0.88);color:#fff">a</span>`, `style="background:rgba(49,130,189,0.28)">b</span>`, `<span class="chip g2">c</span>`} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if !strings.Contains(ipynb.String(), "background:rgba(49,130,189,0.88);color:#fff") {
		t.Error("the notebook's chips are not shaded")
	}
}
