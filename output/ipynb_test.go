package output

import (
	"bytes"
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

// ipynbCells decodes a written notebook's cells.
type testCell struct {
	CellType       string           `json:"cell_type"`
	ID             string           `json:"id"`
	Source         []string         `json:"source"`
	ExecutionCount *int             `json:"execution_count"`
	Outputs        []map[string]any `json:"outputs"`
}

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
		k := c.CellType
		if k == "code" {
			k += "(" + itoa(len(c.Outputs)) + ")"
		}
		kinds = append(kinds, k)
	}
	// markdown, code+chips, note, markdown, chart+table (new code cell),
	// markdown, code+3 charts, static svg attaches to the same code cell,
	// markdown (zh).
	want := "markdown code(1) markdown markdown code(2) markdown code(4) markdown"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("cells = %s\nwant    %s", got, want)
	}
	chartCell := doc.Cells[4]
	if got := strings.Join(chartCell.Source, ""); got != "# Probability of each prompt token given the ones before it" {
		t.Errorf("made-up code cell source = %q", got)
	}
	if doc.Metadata["title"] != nb.Title {
		t.Errorf("metadata title = %v", doc.Metadata["title"])
	}
	png := doc.Cells[6].Outputs[2]["data"].(map[string]any)
	if _, ok := png["image/png"].(string); !ok {
		t.Errorf("raster chart output lacks image/png: %v", png)
	}
	if _, ok := png["image/svg+xml"]; !ok {
		t.Errorf("raster chart output lacks image/svg+xml: %v", png)
	}
	note := strings.Join(doc.Cells[2].Source, "")
	if note != `> **Note:** The first token has no context: its probability is not shown.` {
		t.Errorf("note cell = %q", note)
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
	md := strings.Join(doc.Cells[0].Source, "")
	if strings.Contains(md, "<img src=x") || strings.Contains(md, "<div onclick") {
		t.Errorf("markdown cell keeps raw HTML Jupyter would render: %q", md)
	}
	for _, c := range doc.Cells {
		for _, o := range c.Outputs {
			data := o["data"].(map[string]any)
			h, ok := data["text/html"].([]any)
			if !ok {
				continue
			}
			var s strings.Builder
			for _, l := range h {
				s.WriteString(l.(string))
			}
			checkFragmentInert(t, s.String())
		}
	}
}

// checkFragmentInert checks that an HTML fragment written for a Jupyter
// output holds only table, chip and caption elements with style, title and
// class attributes.
func checkFragmentInert(t *testing.T, frag string) {
	t.Helper()
	allowed := map[string]bool{"div": true, "span": true, "p": true, "table": true, "caption": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true}
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
