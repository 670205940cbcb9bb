package viz

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/gptviz/gptviz/model/trace"
)

// matrix is a heatmap's data before it becomes an option or an image: rows ×
// cols cells, each the average of the values added to it. A cell nothing was
// added to is masked (drawn grey, absent from the option's data).
//
// Row r covers positions rowStart + r*rowStride … + rowStride-1, and the same
// for columns, so a stride of 1 is the full-resolution matrix.
type matrix struct {
	rows, cols           int
	rowStride, colStride int
	rowStart, colStart   int
	sum                  []float64
	cnt                  []int32
	rowLabels, colLabels []string
	// rowQueries, when set, makes a cell the attention mass its block of
	// queries puts on its block of keys: the sum over the cell's values
	// divided by the number of queries recorded in its block row, so that
	// downsampled rows still sum to 1.
	rowQueries []int32
	// unrecorded, when set, marks rows for which the trace recorded
	// nothing (a long prompt keeps only its last query rows): they are
	// drawn in notRecordedHex across the whole row, never in the masked
	// grey, and named in a legend.
	unrecorded []bool
}

// nUnrecorded is the number of rows marked unrecorded.
func (m *matrix) nUnrecorded() int {
	n := 0
	for _, u := range m.unrecorded {
		if u {
			n++
		}
	}
	return n
}

// strideFor is the block size that fits n positions into at most side cells.
func strideFor(n, side int) int {
	if n <= side || side <= 0 {
		return 1
	}
	return (n + side - 1) / side
}

// newMatrix makes a masked matrix over nRows × nCols positions, with the
// given strides.
func newMatrix(nRows, nCols, rowStride, colStride int) *matrix {
	m := &matrix{rowStride: rowStride, colStride: colStride}
	m.rows = (nRows + rowStride - 1) / rowStride
	m.cols = (nCols + colStride - 1) / colStride
	m.sum = make([]float64, m.rows*m.cols)
	m.cnt = make([]int32, m.rows*m.cols)
	return m
}

// add adds v at position (rp, cp), counted from rowStart and colStart.
func (m *matrix) add(rp, cp int, v float64) {
	r, c := rp/m.rowStride, cp/m.colStride
	if rp < 0 || cp < 0 || r >= m.rows || c >= m.cols || math.IsNaN(v) {
		return
	}
	m.sum[r*m.cols+c] += v
	m.cnt[r*m.cols+c]++
}

// at returns the average of cell (r, c) and whether it holds data.
func (m *matrix) at(r, c int) (float64, bool) {
	i := r*m.cols + c
	if m.cnt[i] == 0 {
		return math.NaN(), false
	}
	if m.rowQueries != nil {
		return m.sum[i] / float64(max(1, m.rowQueries[r])), true
	}
	return m.sum[i] / float64(m.cnt[i]), true
}

// minMax returns the smallest and largest cell values (0, 0 when empty).
func (m *matrix) minMax() (lo, hi float64) {
	first := true
	for r := 0; r < m.rows; r++ {
		for c := 0; c < m.cols; c++ {
			v, ok := m.at(r, c)
			if !ok {
				continue
			}
			if first {
				lo, hi, first = v, v, false
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}

// quantile returns the q-quantile (0…1) of the unmasked cell values (0
// when there are none), by the nearest-rank method.
func (m *matrix) quantile(q float64) float64 {
	var vs []float64
	for r := 0; r < m.rows; r++ {
		for c := 0; c < m.cols; c++ {
			if v, ok := m.at(r, c); ok {
				vs = append(vs, v)
			}
		}
	}
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	i := int(math.Ceil(q*float64(len(vs)))) - 1
	return vs[min(max(i, 0), len(vs)-1)]
}

// cellsOf returns the unmasked cells of m as heatmap data [[col, row, v]].
func (m *matrix) cellsOf(digits int) cells {
	c := cells{Digits: digits}
	for r := 0; r < m.rows; r++ {
		for k := 0; k < m.cols; k++ {
			if v, ok := m.at(r, k); ok {
				c.add(k, r, v)
			}
		}
	}
	return c
}

// rowCells returns row r's unmasked cells as heatmap data [[col, r, v]].
func (m *matrix) rowCells(r, digits int) cells {
	c := cells{Digits: digits}
	for k := 0; k < m.cols; k++ {
		if v, ok := m.at(r, k); ok {
			c.add(k, r, v)
		}
	}
	return c
}

// tokenLabel is the axis label of absolute position p: "p display".
func tokenLabel(tr *trace.Trace, p int) string {
	if p >= 0 && p < len(tr.Tokens) {
		t := tr.Tokens[p]
		return strconv.Itoa(p) + " " + display(t.Display, t.Text, t.ID)
	}
	return strconv.Itoa(p)
}

// positionLabels labels n cells of stride positions from start: "p token"
// for a stride of 1, "p–q token…" (the block's first token) otherwise.
func positionLabels(tr *trace.Trace, start, n, stride, end int) []string {
	out := make([]string, n)
	for i := range out {
		p := start + i*stride
		if stride == 1 {
			out[i] = tokenLabel(tr, p)
			continue
		}
		q := min(p+stride, end) - 1
		lbl := tokenLabel(tr, p)
		out[i] = fmt.Sprintf("%d–%d%s…", p, q, lbl[len(strconv.Itoa(p)):])
	}
	return out
}

// Filter picks layers and heads by their real indices (0-based). Nil or
// empty means all. Charts built with a filter keep the real indices in
// their titles and IDs ("layer 3, head 5", "attn-l3-h5").
type Filter struct {
	Layers []int
	Heads  []int
}

// Resolve returns the filter's layers and heads, sorted and deduplicated
// (all of them where the filter is empty), or an error wrapping ErrRange
// naming the first index outside [0, nLayer) or [0, nHead).
func (f Filter) Resolve(nLayer, nHead int) (layers, heads []int, err error) {
	pick := func(what string, sel []int, n int) ([]int, error) {
		if len(sel) == 0 {
			out := make([]int, n)
			for i := range out {
				out[i] = i
			}
			return out, nil
		}
		out := slices.Clone(sel)
		slices.Sort(out)
		out = slices.Compact(out)
		for _, i := range out {
			if i < 0 || i >= n {
				return nil, fmt.Errorf("%s %d: %w: the model has %d (0 to %d)", what, i, ErrRange, n, n-1)
			}
		}
		return out, nil
	}
	if layers, err = pick("layer", f.Layers, nLayer); err != nil {
		return nil, nil, err
	}
	if heads, err = pick("head", f.Heads, nHead); err != nil {
		return nil, nil, err
	}
	return layers, heads, nil
}

// checkLayerHead returns an error wrapping ErrRange when layer or head is
// outside the trace's model.
func checkLayerHead(tr *trace.Trace, layer, head int) error {
	_, _, err := Filter{Layers: []int{layer}, Heads: []int{head}}.Resolve(tr.Model.Config.NLayer, tr.Model.Config.NHead)
	return err
}

// attnExtent returns the number of absolute positions covered by recorded
// query rows of layer (the last query position + 1), and whether any row
// was recorded.
func attnExtent(tr *trace.Trace, layer int) (n int, ok bool) {
	for _, st := range tr.Steps {
		if layer < len(st.Attention) && st.NQuery > 0 {
			n = max(n, st.QueryStart+st.NQuery)
			ok = true
		}
	}
	return n, ok
}

// summarised reports whether any recorded attention of layer was
// block-averaged by the recorder, and the largest key stride used.
func summarised(tr *trace.Trace, layer int) (bool, int) {
	s, stride := false, 1
	for _, st := range tr.Steps {
		if layer < len(st.Attention) && st.Attention[layer].Summarised {
			s = true
			stride = max(stride, st.Attention[layer].KeyStride)
		}
	}
	return s, stride
}

// attentionMatrix gathers the attention probabilities of one layer and head
// over the whole run into a query × key matrix over absolute positions
// 0…n-1, downsampled to at most side × side cells. A downsampled cell is the
// attention a block of stride queries puts on a block of stride keys:
// summed over the keys, averaged over the queries — so rows still sum to 1
// and a cell reads "the share of attention these queries give these keys".
// Rows no step recorded (the first queries of a long prompt) are marked
// unrecorded.
//
// Each step's rows are [query][key] over keys WindowStart… of that step
// (model.Step). Keys after the query (the causal mask) and keys before the
// step's window (evicted) are left masked, even if the row stores values
// there. A stored column that the recorder averaged over KeyStride keys is
// spread evenly over those keys; a stored row standing for several query
// rows (fewer rows than NQuery) is spread over them.
func attentionMatrix(tr *trace.Trace, layer, head, side int) (*matrix, error) {
	if err := checkSteps(tr); err != nil {
		return nil, err
	}
	n, ok := attnExtent(tr, layer)
	if !ok {
		return nil, fmt.Errorf("attention of layer %d: %w", layer, ErrNoData)
	}
	s := strideFor(n, side)
	m := newMatrix(n, n, s, s)
	m.rowQueries = make([]int32, m.rows)
	seen := make([]bool, n)
	for si, st := range tr.Steps {
		if layer >= len(st.Attention) || st.NQuery <= 0 {
			continue
		}
		la := st.Attention[layer]
		if head >= len(la.Probs) {
			return nil, fmt.Errorf("step %d: attention of layer %d has %d heads, want head %d: %w", si, layer, len(la.Probs), head, ErrRange)
		}
		rows := la.Probs[head]
		if len(rows) == 0 {
			continue
		}
		qSpan := (st.NQuery + len(rows) - 1) / len(rows)
		kStride := max(1, la.KeyStride)
		qEnd := st.QueryStart + st.NQuery
		for ri, row := range rows {
			q0 := st.QueryStart + ri*qSpan
			for q := q0; q < min(q0+qSpan, qEnd); q++ {
				if !seen[q] {
					seen[q] = true
					m.rowQueries[q/s]++
				}
				for ci, v := range row {
					k0 := st.WindowStart + ci*kStride
					if k0 > q {
						break
					}
					for k := k0; k < k0+kStride && k <= q; k++ {
						m.add(q, k, float64(v))
					}
				}
			}
		}
	}
	m.unrecorded = make([]bool, m.rows)
	for r, nq := range m.rowQueries {
		m.unrecorded[r] = nq == 0
	}
	m.rowLabels = positionLabels(tr, 0, m.rows, s, n)
	m.colLabels = m.rowLabels
	return m, nil
}
