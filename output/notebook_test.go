package output

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	svg := []byte("<svg/>")
	chart := func(id string) Cell { return ChartCell(&Chart{ID: id, SVG: svg}) }
	for _, tc := range []struct {
		name string
		nb   *Notebook
		want string // substring of the error; "" means valid
	}{
		{"empty", &Notebook{}, ""},
		{"zh", &Notebook{Lang: "zh"}, ""},
		{"all kinds", &Notebook{Cells: []Cell{
			MarkdownCell("# x"), CodeCell("", "ls"), CodeCell("go", "f()"), NoteCell("n"), chart("a-1"),
			TableCell(&Table{Header: []string{"a"}, Rows: [][]string{{"1"}, {}}, Align: []string{"right"}}),
			TableCell(&Table{Rows: [][]string{{"1", "2"}, {"3"}}}), ChipsCell(&Chips{}),
			ChartCell(&Chart{ID: "opt", Option: json.RawMessage(" {\"series\":[]}")}),
			ChartCell(&Chart{ID: "png", PNG: pngMagic}),
		}}, ""},
		{"nil", nil, "nil notebook"},
		{"lang", &Notebook{Lang: "de"}, `lang "de"`},
		{"unknown kind", &Notebook{Cells: []Cell{{Kind: 42}}}, "cell 0 (CellKind(42)): unknown kind"},
		{"chart without payload", &Notebook{Cells: []Cell{{Kind: KindChart}}}, "must set exactly its own field"},
		{"markdown with chart", &Notebook{Cells: []Cell{{Kind: KindMarkdown, Chart: &Chart{ID: "a", SVG: svg}}}}, "must set exactly its own field"},
		{"chart with source", &Notebook{Cells: []Cell{{Kind: KindChart, Source: "x", Chart: &Chart{ID: "a", SVG: svg}}}}, "Source is set"},
		{"syntax on markdown", &Notebook{Cells: []Cell{{Kind: KindMarkdown, Syntax: "go"}}}, "Syntax is set"},
		{"bad syntax", &Notebook{Cells: []Cell{CodeCell("python", "x")}}, `syntax "python"`},
		{"empty id", &Notebook{Cells: []Cell{chart("")}}, `chart id ""`},
		{"upper-case id", &Notebook{Cells: []Cell{chart("Attn")}}, `chart id "Attn"`},
		{"id with quote", &Notebook{Cells: []Cell{chart(`a"b`)}}, "[a-z0-9-]"},
		{"long id", &Notebook{Cells: []Cell{chart(strings.Repeat("a", 65))}}, "1 to 64"},
		{"duplicate id", &Notebook{Cells: []Cell{chart("a"), MarkdownCell("x"), chart("a")}}, `cell 2 (chart): chart id "a": already used by cell 0`},
		{"no rendering", &Notebook{Cells: []Cell{ChartCell(&Chart{ID: "a"})}}, "no Option, SVG or PNG"},
		{"option not json", &Notebook{Cells: []Cell{ChartCell(&Chart{ID: "a", Option: json.RawMessage("{")})}}, "not valid JSON"},
		{"option array", &Notebook{Cells: []Cell{ChartCell(&Chart{ID: "a", Option: json.RawMessage("[]")})}}, "not a JSON object"},
		{"option string with __f__", &Notebook{Cells: []Cell{ChartCell(&Chart{ID: "a", Option: json.RawMessage(`"__f__x__f__"`)})}}, "not a JSON object"},
		{"negative height", &Notebook{Cells: []Cell{ChartCell(&Chart{ID: "a", SVG: svg, Height: -1})}}, "height -1"},
		{"huge height", &Notebook{Cells: []Cell{ChartCell(&Chart{ID: "a", SVG: svg, Height: 1 << 20})}}, "height"},
		{"png not png", &Notebook{Cells: []Cell{ChartCell(&Chart{ID: "a", PNG: []byte("GIF89a")})}}, "PNG signature"},
		{"row too wide", &Notebook{Cells: []Cell{TableCell(&Table{Header: []string{"a"}, Rows: [][]string{{"1", "2"}}})}}, "row 0 has 2 cells"},
		{"too many aligns", &Notebook{Cells: []Cell{TableCell(&Table{Header: []string{"a"}, Align: []string{"left", "left"}})}}, "2 alignments"},
		{"playground", &Notebook{Cells: []Cell{chart("a"), PlaygroundCell(&Playground{ID: "pg", Data: json.RawMessage(`{"v":1}`)})}}, ""},
		{"playground id used by a chart", &Notebook{Cells: []Cell{chart("pg"), PlaygroundCell(&Playground{ID: "pg", Data: json.RawMessage(`{}`)})}}, `playground id "pg": already used by cell 0`},
		{"playground bad id", &Notebook{Cells: []Cell{PlaygroundCell(&Playground{ID: "Pg 1", Data: json.RawMessage(`{}`)})}}, `playground id "Pg 1"`},
		{"playground data not json", &Notebook{Cells: []Cell{PlaygroundCell(&Playground{ID: "pg", Data: json.RawMessage(`{`)})}}, "not valid JSON"},
		{"playground data empty", &Notebook{Cells: []Cell{PlaygroundCell(&Playground{ID: "pg"})}}, "not valid JSON"},
		{"playground data array", &Notebook{Cells: []Cell{PlaygroundCell(&Playground{ID: "pg", Data: json.RawMessage(`[1]`)})}}, "not a JSON object"},
		{"playground without payload", &Notebook{Cells: []Cell{{Kind: KindPlayground}}}, "must set exactly its own field"},
		{"chart with playground", &Notebook{Cells: []Cell{{Kind: KindChart, Chart: &Chart{ID: "a", SVG: svg}, Playground: &Playground{ID: "b", Data: json.RawMessage(`{}`)}}}}, "must set exactly its own field"},
		{"bad align", &Notebook{Cells: []Cell{TableCell(&Table{Header: []string{"a"}, Align: []string{"justify"}})}}, `alignment "justify"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.nb.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Errorf("Validate() = nil, want an error with %q", tc.want)
			case tc.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}
}

func TestCellKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[CellKind]string{KindMarkdown: "markdown", KindCode: "code", KindChart: "chart", KindTable: "table", KindChips: "chips", KindNote: "note", KindPlayground: "playground", -1: "CellKind(-1)", 7: "CellKind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("CellKind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
