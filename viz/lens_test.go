package viz

import (
	"maps"
	"testing"
)

// TestLensCellLabel: the logit lens's cell labels fit their cells, upright
// where a token is wider than its cell and cells are taller than wide
// (many positions, few layers), level where they are wider (few
// positions, many layers) or every token fits (one Chinese character).
func TestLensCellLabel(t *testing.T) {
	for _, c := range []struct {
		name                     string
		token                    string // the widest cell's token
		positions, layers        int
		bottom                   int
		wantRotate               int
		wantWidthLo, wantWidthHi int
	}{
		{"default model, 34 positions, 4 layers", "␣through", 34, 4, 110, 90, 40, 60},
		{"gpt2, 34 positions, 12 layers", "␣through", 34, 12, 110, 90, 25, 40},
		{"4 positions, 4 layers", "␣through", 4, 4, 110, 0, 150, 185},
		{"40 positions, 48 layers", "␣through", 40, 48, 110, 0, 8, 18},
		{"Chinese, one character fits level", "月", 30, 4, 110, 0, 20, 24},
		{"Chinese, three characters stand up", "明月光", 30, 4, 110, 90, 40, 60},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := lensData{layers: c.layers, positions: make([]int, c.positions), tokens: [][]string{{c.token}}}
			w, rot := d.cellLabel(c.bottom)
			if rot != c.wantRotate || w < c.wantWidthLo || w > c.wantWidthHi {
				t.Errorf("cellLabel = width %d, rotate %d; want rotate %d, width in [%d, %d]", w, rot, c.wantRotate, c.wantWidthLo, c.wantWidthHi)
			}
			colPx := lensPlotPx / c.positions
			rowPx := (d.height() - lensTop - c.bottom) / c.layers
			if limit := map[int]int{0: colPx, 90: rowPx}[rot]; w > limit && w > 8 {
				t.Errorf("label %d px wider than its cell (%d px)", w, limit)
			}
		})
	}
}

// TestLensCellLabelOf: a cell's own label options: light text on a dark
// cell; among upright labels, a Chinese token stacked one character per
// line (cut with ⋮ to what the cell's height holds), a Latin one left to
// the series' options.
func TestLensCellLabelOf(t *testing.T) {
	for _, c := range []struct {
		name   string
		token  string
		p      float64
		width  int
		rotate int
		want   map[string]any
	}{
		{"Latin, pale, upright", "␣through", 0.2, 44, 90, nil},
		{"Latin, dark, upright", "␣through", 0.9, 44, 90, map[string]any{"color": "#fff", "textBorderColor": "#08306b"}},
		{"Chinese, pale, level", "孟浩然", 0.2, 44, 0, nil},
		{"Chinese, pale, upright", "孟浩然", 0.2, 44, 90, map[string]any{"rotate": 0, "formatter": "孟\n浩\n然"}},
		{"Chinese, cut to the cell", "孟浩然孟浩然", 0.2, 44, 90, map[string]any{"rotate": 0, "formatter": "孟\n浩\n⋮"}},
		{"Chinese, dark, upright", "作者", 0.7, 44, 90, map[string]any{"rotate": 0, "formatter": "作\n者", "color": "#fff", "textBorderColor": "#08306b"}},
		{"mixed, upright", "作a", 0.2, 44, 90, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := cellLabelOf(c.token, c.p, c.width, c.rotate); !maps.Equal(got, c.want) {
				t.Errorf("cellLabelOf(%q, %v, %d, %d) = %v, want %v", c.token, c.p, c.width, c.rotate, got, c.want)
			}
		})
	}
}
