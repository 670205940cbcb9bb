package output

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/net/html"
)

// nbformatSchema compiles the vendored nbformat v4.5 schema.
func nbformatSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/nbformat/nbformat.v4.5.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("nbformat.v4.5.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("nbformat.v4.5.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeIPYNBBytes(t testing.TB, nb *Notebook) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteIPYNB(&b, nb); err != nil {
		t.Fatalf("WriteIPYNB: %v", err)
	}
	return b.Bytes()
}

func TestWriteIPYNBGolden(t *testing.T) {
	t.Parallel()
	checkGolden(t, "sample.ipynb", writeIPYNBBytes(t, sampleNotebook(t)))
}

func TestIPYNBSchema(t *testing.T) {
	t.Parallel()
	schema := nbformatSchema(t)
	for name, nb := range map[string]*Notebook{
		"sample":      sampleNotebook(t),
		"adversarial": adversarialNotebook(t),
		"empty":       {},
		"outputs first": {Cells: []Cell{
			ChipsCell(&Chips{Items: []Chip{{Label: "a"}}}), TableCell(&Table{}),
			ChartCell(&Chart{ID: "x", Option: json.RawMessage(`{}`)}), NoteCell(""), MarkdownCell(""),
		}},
	} {
		t.Run(name, func(t *testing.T) {
			out := writeIPYNBBytes(t, nb)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Errorf("not valid nbformat 4.5: %v", err)
			}
		})
	}
	// The schema is not vacuous: it rejects a broken notebook.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","id":"a","metadata":{},"source":""}]}`))
	if schema.Validate(bad) == nil {
		t.Error("schema accepted a code cell without outputs and execution_count")
	}
}

// testCell is a written notebook's cell, decoded.
type testCell struct {
	CellType    string                       `json:"cell_type"`
	ID          string                       `json:"id"`
	Source      []string                     `json:"source"`
	Outputs     []map[string]any             `json:"outputs"`
	Attachments map[string]map[string]string `json:"attachments"`
}

func (c testCell) source() string { return strings.Join(c.Source, "") }

func TestWriteIPYNBStructure(t *testing.T) {
	t.Parallel()
	nb := sampleNotebook(t)
	var doc struct {
		Cells    []testCell     `json:"cells"`
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal(writeIPYNBBytes(t, nb), &doc); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, c := range doc.Cells {
		if c.ID != "cell-"+itoa(i) {
			t.Errorf("cell %d has id %q", i, c.ID)
		}
		kinds = append(kinds, c.CellType)
	}
	// One cell per notebook cell: markdown, code → raw, chips, note,
	// markdown, chart, table, markdown, code → raw, 4 charts, markdown (zh).
	want := "markdown raw markdown markdown markdown markdown markdown markdown raw markdown markdown markdown markdown markdown"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("cells = %s\nwant    %s", got, want)
	}
	if got := doc.Cells[1].source(); got != `gptviz report "The quick brown fox jumps over the lazy dog."` {
		t.Errorf("raw cell source = %q", got)
	}
	if got := doc.Cells[5].source(); got != `*Probability of each prompt token given the ones before it* \[interactive chart: open the HTML report to see it\]` {
		t.Errorf("interactive chart cell = %q", got)
	}
	if doc.Metadata["title"] != nb.Title {
		t.Errorf("metadata title = %v", doc.Metadata["title"])
	}
	if _, ok := doc.Metadata["kernelspec"]; ok {
		t.Errorf("metadata names a kernel: %v", doc.Metadata["kernelspec"])
	}
	raster := doc.Cells[11]
	if got, want := raster.source(), "**All heads (raster, scaled up crisply)**\n\n![All heads (raster, scaled up crisply)](attachment:attn-grid-png.png)"; got != want {
		t.Errorf("raster chart cell = %q, want %q", got, want)
	}
	if b64 := raster.Attachments["attn-grid-png.png"]["image/png"]; b64 == "" || len(raster.Attachments) != 1 {
		t.Errorf("raster chart attachments = %v", raster.Attachments)
	} else if data, err := base64.StdEncoding.DecodeString(b64); err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Errorf("raster chart attachment is not a base64 PNG: %v", err)
	}
	if svg := doc.Cells[12].Attachments["static-svg.svg"]["image/svg+xml"]; svg == "" {
		t.Errorf("SVG chart attachments = %v", doc.Cells[12].Attachments)
	}
	note := doc.Cells[3].source()
	if note != `> **Note:** The first token has no context: its probability is not shown.` {
		t.Errorf("note cell = %q", note)
	}
	for _, i := range []int{2, 6} {
		if src := doc.Cells[i].source(); strings.ContainsAny(src, "\n$\\") || !strings.HasPrefix(src, "<") {
			t.Errorf("HTML cell %d is not one line of HTML without $ and \\: %q", i, src)
		}
	}
}

// TestWriteIPYNBNothingToRun: the notebook's first code cell held shell
// text with no kernel that could run it, so "Run All" failed with a
// SyntaxError and replaced the outputs the cells held. No cell of a
// written notebook is a code cell now, and none has outputs.
func TestWriteIPYNBNothingToRun(t *testing.T) {
	t.Parallel()
	for name, nb := range map[string]*Notebook{"sample": sampleNotebook(t), "adversarial": adversarialNotebook(t)} {
		var doc struct {
			Cells []testCell `json:"cells"`
		}
		if err := json.Unmarshal(writeIPYNBBytes(t, nb), &doc); err != nil {
			t.Fatal(err)
		}
		for _, c := range doc.Cells {
			if c.CellType == "code" || c.Outputs != nil {
				t.Errorf("%s: cell %s is %s with %d outputs", name, c.ID, c.CellType, len(c.Outputs))
			}
		}
	}
}

func TestWriteIPYNBAdversarial(t *testing.T) {
	t.Parallel()
	out := writeIPYNBBytes(t, adversarialNotebook(t))
	var doc struct {
		Cells []testCell `json:"cells"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	md := doc.Cells[0].source()
	if strings.Contains(md, "<img src=x") || strings.Contains(md, "<div onclick") {
		t.Errorf("markdown cell keeps raw HTML Jupyter would render: %q", md)
	}
	for _, c := range doc.Cells {
		if src := c.source(); c.CellType == "markdown" && strings.HasPrefix(src, "<") {
			checkFragmentInert(t, src)
		}
	}
}

// checkFragmentInert checks that an HTML fragment written for a Jupyter
// output holds only table, chip and caption elements with style, title and
// class attributes.
func checkFragmentInert(t *testing.T, frag string) {
	t.Helper()
	allowed := map[string]bool{"details": true, "summary": true, "div": true, "span": true, "p": true, "table": true, "caption": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true}
	z := html.NewTokenizer(strings.NewReader(frag))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			if !allowed[string(name)] {
				t.Errorf("output HTML has element <%s>", name)
			}
			for more {
				var k []byte
				k, _, more = z.TagAttr()
				if a := string(k); a != "style" && a != "title" && a != "class" {
					t.Errorf("output HTML has attribute %s on <%s>", a, name)
				}
			}
		}
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestEscapeMarkdownText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain words: fine.", "plain words: fine."},
		{"a*b_c`d", `a\*b\_c` + "\\`" + "d"},
		{"<img src=x>", `\<img src=x\>`},
		{"costs $5 and $6", `costs \$5 and \$6`},
		{"- item\n+ item\n1. item\n12) item\n# h", "\\- item\n\\+ item\n1\\. item\n12\\) item\n\\# h"},
		{"3.14 is pi", `3\.14 is pi`},
		{"pi is 3.14", "pi is 3.14"},
		{"a & b", `a \& b`},
	} {
		if got := escapeMarkdownText(tc.in); got != tc.want {
			t.Errorf("escapeMarkdownText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
