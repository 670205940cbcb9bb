package output

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
)

// FuzzWriters puts arbitrary text into every slot of a notebook and checks
// that the HTML page stays inert (checkPageSafe: only the page's scripts, no
// handlers, no foreign elements, JSON blocks that cannot end early and that
// decode to the option given) and that the ipynb stays valid nbformat 4.5.
func FuzzWriters(f *testing.F) {
	for _, p := range payloads {
		f.Add(p, p, p)
	}
	f.Add("# title\n\n<b>x</b> [a](https://x) ![b](c)", "</SCRIPT >", "<!--<script>")
	f.Add("```\n</script>\n```", "\xff\xfe", "\u2028")
	f.Fuzz(func(t *testing.T, md, label, cell string) {
		opt, err := json.Marshal(map[string]any{"xAxis": map[string]any{"data": []string{label, cell}}, "title": map[string]any{"text": md}})
		if err != nil {
			t.Fatal(err) // Marshal replaces invalid UTF-8, so strings always encode
		}
		nb := &Notebook{
			Title: label,
			Meta:  map[string]string{label: cell},
			Cells: []Cell{
				MarkdownCell(md),
				CodeCell("go", cell),
				NoteCell(md),
				ChipsCell(&Chips{Caption: md, Items: []Chip{{Label: label, Title: cell, Group: len(md)}}}),
				TableCell(&Table{Caption: label, Header: []string{label}, Rows: [][]string{{cell}}}),
				ChartCell(&Chart{ID: "c", Title: label, Option: opt}),
				ChartCell(&Chart{ID: "s", Title: cell, SVG: []byte(md)}),
			},
		}
		var page bytes.Buffer
		if err := WriteHTML(&page, nb); err != nil {
			t.Fatalf("WriteHTML: %v", err)
		}
		options := checkPageSafe(t, page.Bytes())
		if got, _ := json.Marshal(options["c"]); !bytes.Equal(got, mustRemarshal(t, opt)) {
			t.Errorf("option changed in the page: %s, want %s", got, opt)
		}

		var ipynb bytes.Buffer
		if err := WriteIPYNB(&ipynb, nb); err != nil {
			t.Fatalf("WriteIPYNB: %v", err)
		}
		schemaOnce.Do(func() { schema = nbformatSchema(t) })
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(ipynb.Bytes()))
		if err != nil {
			t.Fatalf("ipynb is not JSON: %v", err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("ipynb not valid nbformat 4.5: %v", err)
		}
	})
}

// mustRemarshal decodes and re-encodes JSON, normalising it for comparison.
func mustRemarshal(t *testing.T, b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return out
}
