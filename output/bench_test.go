package output

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

// bigNotebook is report-shaped: n heatmap charts of size×size cells (values
// with 3 decimals), each with a markdown and a code cell, plus token chips.
func bigNotebook(b *testing.B, n, size int) *Notebook {
	b.Helper()
	nb := &Notebook{Title: "bench"}
	var chips []Chip
	for i := range size {
		chips = append(chips, Chip{Label: fmt.Sprintf("␣tok%d", i), Title: fmt.Sprintf("id %d", i), Group: i})
	}
	nb.Cells = append(nb.Cells, ChipsCell(&Chips{Items: chips}))
	for c := range n {
		cells := make([][3]any, 0, size*size)
		for q := range size {
			for k := range size {
				if k > q {
					cells = append(cells, [3]any{k, q, "-"})
				} else {
					cells = append(cells, [3]any{k, q, float64((q*k+c)%1000) / 1000})
				}
			}
		}
		opt, err := json.Marshal(map[string]any{
			"xAxis":     map[string]any{"type": "category"},
			"yAxis":     map[string]any{"type": "category"},
			"visualMap": map[string]any{"min": 0, "max": 1},
			"series":    []any{map[string]any{"type": "heatmap", "data": cells}},
		})
		if err != nil {
			b.Fatal(err)
		}
		nb.Cells = append(nb.Cells,
			MarkdownCell(fmt.Sprintf("### Layer %d\n\nRows are **queries**, columns keys.", c)),
			CodeCell("go", fmt.Sprintf("trace.Attention[%d]", c)),
			ChartCell(&Chart{ID: fmt.Sprintf("attn-%d", c), Title: "attention", Option: opt}))
	}
	return nb
}

// countWriter counts the bytes written.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkWriteHTML measures the writer alone on a report of 24 heatmaps
// of 64×64 (≈ what 12 layers × 2 views of a 64-token prompt needs) and
// reports the page size.
func BenchmarkWriteHTML(b *testing.B) {
	nb := bigNotebook(b, 24, 64)
	var w countWriter
	for b.Loop() {
		w.n = 0
		if err := WriteHTML(&w, nb); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(w.n)
	b.ReportMetric(float64(w.n)/1e6, "MB/page")
}

// BenchmarkWriteIPYNB measures the ipynb writer on the same notebook
// (charts have no static renderings here, so the file is small).
func BenchmarkWriteIPYNB(b *testing.B) {
	nb := bigNotebook(b, 24, 64)
	for b.Loop() {
		if err := WriteIPYNB(io.Discard, nb); err != nil {
			b.Fatal(err)
		}
	}
}
