package viz

import "testing"

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
