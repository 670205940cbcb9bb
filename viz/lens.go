package viz

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot/vg"

	"github.com/gptviz/gptviz/model/trace"
)

// namedCells is heatmap data whose items carry a name shown as the cell's
// label and in the tooltip: [{"name": …, "value": [x, y, v]}, …], and
// where Labels[i] is set, that cell's own label options (overriding the
// series'): {"name": …, "value": …, "label": {…}}. Names and labels are
// marshalled by encoding/json (HTML-escaped).
type namedCells struct {
	cells
	Names  []string
	Labels []map[string]any // nil, or one entry per cell (nil: none)
}

// MarshalJSON implements json.Marshaler.
func (c namedCells) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(c.V)*40)
	b = append(b, '[')
	for i := range c.V {
		if i > 0 {
			b = append(b, ',')
		}
		name, err := json.Marshal(c.Names[i])
		if err != nil {
			return nil, err
		}
		b = append(b, `{"name":`...)
		b = append(b, name...)
		b = append(b, `,"value":[`...)
		b = strconv.AppendInt(b, int64(c.X[i]), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(c.Y[i]), 10)
		b = append(b, ',')
		b = appendNum(b, float64(c.V[i]), c.Digits)
		b = append(b, ']')
		if i < len(c.Labels) && c.Labels[i] != nil {
			lb, err := json.Marshal(c.Labels[i])
			if err != nil {
				return nil, err
			}
			b = append(b, `,"label":`...)
			b = append(b, lb...)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// positionRows gathers one value per (row, absolute position) from every
// step: get(st) returns the step's rows ([row][NQuery−from] or nil) and the
// query row from which they start. It returns the sorted recorded positions
// and, per row, the value at each.
func positionRows[T any](tr *trace.Trace, nRows int, get func(st *trace.Step) (rows [][]T, from int)) (positions []int, vals []map[int]T) {
	vals = make([]map[int]T, nRows)
	for i := range vals {
		vals[i] = map[int]T{}
	}
	seen := map[int]bool{}
	for si := range tr.Steps {
		st := &tr.Steps[si]
		rows, from := get(st)
		for r := 0; r < nRows && r < len(rows); r++ {
			for q, v := range rows[r] {
				p := st.QueryStart + from + q
				vals[r][p] = v
				if !seen[p] {
					seen[p] = true
					positions = append(positions, p)
				}
			}
		}
	}
	slices.Sort(positions)
	return positions, vals
}

// sampleEvery keeps every s-th position (always the last) so that at most
// side remain; it returns the kept positions and s.
func sampleEvery(positions []int, side int) ([]int, int) {
	s := strideFor(len(positions), side)
	if s == 1 {
		return positions, 1
	}
	var out []int
	for i := len(positions) - 1; i >= 0; i -= s {
		out = append(out, positions[i])
	}
	slices.Reverse(out)
	return out, s
}

// maxLensLabels is the most positions whose cells show the token as text.
const maxLensLabels = 40

// lensPlotPx is about how wide the logit-lens heatmap's cells span in
// pixels on a wide screen: the page's 1,000-pixel column less the chart's
// margins and axis names.
const lensPlotPx = 740

// lensTop is the heatmap's top margin in pixels (title and subtitle).
const lensTop = 70

// height is the chart's height in pixels: about 34 per layer, within
// 320–900.
func (d lensData) height() int { return min(900, max(320, 250+d.layers*34)) }

// cellLabel sizes the cells' token labels, given the grid's bottom margin
// in pixels: each label is cut (with an ellipsis) to its cell, so that
// neighbouring tokens do not run into each other, and turned upright
// (rotate 90) where some token is wider than its cell and cells are taller
// than wide, as with many positions and few layers; the tooltip keeps the
// whole token.
func (d lensData) cellLabel(bottom int) (width, rotate int) {
	colPx := lensPlotPx / max(len(d.positions), 1)
	rowPx := (d.height() - lensTop - bottom) / max(d.layers, 1)
	widest := 0.0
	for _, row := range d.tokens {
		for _, tok := range row {
			widest = max(widest, labelPx(tok))
		}
	}
	if widest > float64(colPx-2) && rowPx > colPx {
		return max(8, rowPx-6), 90
	}
	return max(8, colPx-2), 0
}

// labelPx estimates the width in pixels of s in a 9-pixel label: about
// 5.2 per Latin character (as nameAxis counts), 9 per wide (CJK) one.
func labelPx(s string) float64 {
	w := 0.0
	for _, r := range s {
		if isWide(r) {
			w += 9
		} else {
			w += 5.2
		}
	}
	return w
}

// isWide reports whether r is a wide (East Asian) character: Han, kana,
// Hangul, CJK punctuation or a full-width form.
func isWide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana) ||
		r >= 0x3000 && r <= 0x303f || r >= 0xff00 && r <= 0xffef
}

// lensData is what the logit-lens chart shows: for each layer (rows) and
// each shown position (columns: every stride-th recorded position, the last
// always kept), the probability of the layer's top token (prob) and the
// token's display form (tokens[layer][column], "" where not recorded).
type lensData struct {
	layers    int
	positions []int
	labels    []string // "position token" per column
	stride    int
	prob      *matrix
	tokens    [][]string
}

// newLensData gathers every step's logit lens. It returns an error
// wrapping ErrNoData when the trace has none, ErrInvalid for inconsistent
// positions.
func newLensData(tr *trace.Trace) (lensData, error) {
	L := 0
	for _, st := range tr.Steps {
		L = max(L, len(st.LogitLens))
	}
	if L == 0 {
		return lensData{}, ErrNoData
	}
	if err := checkSteps(tr); err != nil {
		return lensData{}, err
	}
	positions, vals := positionRows(tr, L, func(st *trace.Step) ([][]trace.LensEntry, int) { return st.LogitLens, st.LensStart })
	d := lensData{layers: L}
	d.positions, d.stride = sampleEvery(positions, MaxSide)
	d.labels = make([]string, len(d.positions))
	for i, p := range d.positions {
		d.labels[i] = tokenLabel(tr, p)
	}
	d.prob = newMatrix(L, len(d.positions), 1, 1)
	d.tokens = make([][]string, L)
	for l := range L {
		d.tokens[l] = make([]string, len(d.positions))
		for c, p := range d.positions {
			if e, ok := vals[l][p]; ok {
				d.prob.add(l, c, e.Prob)
				d.tokens[l][c] = display(e.Display, "", e.ID)
			}
		}
	}
	return d, nil
}

// rowLabels name the layers: "layer 0", "layer 1", …
func (d lensData) rowLabels(lc settings) []string {
	out := make([]string, d.layers)
	for l := range out {
		out[l] = lc.t("ll.block", l)
	}
	return out
}

// LogitLens charts the logit lens: for each layer (rows, "layer l": the
// residual stream after layer l, read out early through ln_f and the tied
// output head) and each recorded position (columns), the probability of the
// top token, with the top token's display string as the cell label (when
// there are at most 40 positions) and in the tooltip. The colour legend
// spans [0, 1]. More than MaxSide positions are sampled (every s-th; noted).
// ID "logit-lens". It returns an error wrapping ErrNoData when the trace has
// no logit lens.
func LogitLens(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	d, err := newLensData(tr)
	if err != nil {
		return nil, fmt.Errorf("logit lens: %w", err)
	}
	var notes []string
	sub := lc.t("ll.sub")
	if d.stride > 1 {
		sub += "\n" + lc.t("ll.sample", d.stride)
		notes = append(notes, lc.t("ll.note", d.stride, MaxSide))
	}
	option, err := d.option(lc, sub)
	if err != nil {
		return nil, fmt.Errorf("logit lens: %w", err)
	}
	return &Chart{
		ID:       "logit-lens",
		Title:    lc.t("ll.title"),
		Subtitle: sub,
		Option:   option,
		Height:   d.height(),
		Notes:    notes,
		static:   d.figure(lc.static()),
	}, nil
}

// cells are layer l's recorded cells, each named by its top token, with
// their own label options where the series' do not suit them
// (cellLabelOf); width and rotate are the series' (cellLabel).
func (d lensData) cells(l, width, rotate int) namedCells {
	c := namedCells{cells: cells{Digits: 3}}
	for col := range d.positions {
		if v, ok := d.prob.at(l, col); ok {
			c.add(col, l, v)
			c.Names = append(c.Names, inertTemplate(d.tokens[l][col]))
			c.Labels = append(c.Labels, cellLabelOf(d.tokens[l][col], v, width, rotate))
		}
	}
	return c
}

// allWide reports whether every rune is wide (isWide).
func allWide(runes []rune) bool {
	for _, r := range runes {
		if !isWide(r) {
			return false
		}
	}
	return true
}

// darkFrom is the probability from which a lens cell is dark enough
// (seqStops) that its label is written light on a dark halo.
const darkFrom = 0.55

// cellLabelOf returns a cell's own label options, or nil: light text on a
// cell of probability p ≥ darkFrom; and where the series' labels stand
// upright (rotate 90), a token all of wide (CJK) characters stacked
// upright one character per line instead of lying on its side, as many
// as the width (the cell's height) holds, with a ⋮ for the rest.
func cellLabelOf(token string, p float64, width, rotate int) map[string]any {
	var lb map[string]any
	if p >= darkFrom {
		lb = map[string]any{"color": "#fff", "textBorderColor": seqStops[len(seqStops)-1]}
	}
	runes := []rune(token)
	if rotate == 0 || len(runes) == 0 || !allWide(runes) {
		return lb
	}
	if lb == nil {
		lb = map[string]any{}
	}
	if fit := max(1, width/12); len(runes) > fit {
		runes = append(runes[:max(fit-1, 1)], '⋮')
	}
	lines := make([]string, len(runes))
	for i, r := range runes {
		lines[i] = string(r)
	}
	lb["rotate"], lb["formatter"] = 0, inertTemplate(strings.Join(lines, "\n"))
	return lb
}

// option is the interactive form: one heatmap series per layer, cells
// labelled with their token when there are few positions.
func (d lensData) option(lc settings, sub string) (json.RawMessage, error) {
	rowLabels := d.rowLabels(lc)
	showLabels := len(d.positions) <= maxLensLabels
	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: sub}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "80", Right: "90", Top: strconv.Itoa(lensTop), Bottom: "110"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "position", Data: d.labels,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: 60, FontSize: 9}, AxisPointer: axisPointer()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: rowLabels,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), FontSize: 10}, AxisPointer: axisPointer()}),
		charts.WithVisualMapOpts(probVisualMap()),
	)
	for l := range d.layers {
		hm.AddSeries(lc.t("ll.after", l), nil,
			charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}),
			charts.WithLabelOpts(opts.Label{Show: opts.Bool(showLabels), Formatter: "{b}", FontSize: 9, Color: "#222"}))
	}
	tree, err := treeOf(hm)
	if err != nil {
		return nil, err
	}
	g := obj(tree, "grid")
	greyGrid(g)
	bottom := nameAxis(objAt(tree, "xAxis", 0), lc.t("position"), d.labels, 60)
	g["bottom"] = bottom
	g["left"] = nameAxis(objAt(tree, "yAxis", 0), lc.t("ll.axis"), rowLabels, 0)
	width, rotate := d.cellLabel(bottom)
	for l := range d.layers {
		objAt(tree, "series", l)["data"] = d.cells(l, width, rotate)
		// A white halo keeps a dark label readable on mid-blue cells (dark
		// cells get light text, cellLabelOf); a label fits its cell
		// (cellLabel). (ECharts' labelLayout.hideOverlap would also hide
		// labels that meet on a screen narrower than lensPlotPx, but with
		// it ECharts 5.6 draws no label at all once a cell's own label
		// turns upright, as a stacked Chinese token's does.)
		if lb, ok := objAt(tree, "series", l)["label"].(map[string]any); ok {
			lb["textBorderColor"], lb["textBorderWidth"] = "#fff", 2
			lb["width"], lb["overflow"], lb["ellipsis"], lb["rotate"] = width, "truncate", "…", rotate
		}
	}
	return jsonOf(tree)
}

// figure is the static form in en's language: the probabilities as a
// heatmap.
func (d lensData) figure(en settings) *staticFig {
	m := *d.prob
	m.rowLabels, m.colLabels = d.rowLabels(en), d.labels
	return &staticFig{w: 9 * vg.Inch, h: vg.Length(min(9, 2.5+0.3*float64(d.layers))) * vg.Inch,
		draw: heatPlot(en, en.t("ll.title")+en.t("ll.static"), en.t("position"), en.t("ll.axis"), &m, newRamp(seqStops, 0, 1))}
}

// residualData is what the residual-norm chart shows: the L2 norm of the
// residual stream for each row (the embeddings, then after each layer) and
// each recorded position, block-averaged by stride positions per column
// (columns labelled "position token" or "p–q"); the colour range [lo, hi]
// (3 significant digits, hi lowered to the 98th percentile when a few
// norms dwarf the rest) and the largest norm, top.
type residualData struct {
	norms       *matrix
	positions   int
	stride      int
	lo, hi, top float64
}

// newResidualData gathers every step's residual norms. It returns an
// error wrapping ErrNoData when the trace has none, ErrInvalid for
// inconsistent positions.
func newResidualData(tr *trace.Trace) (residualData, error) {
	R := 0
	for _, st := range tr.Steps {
		R = max(R, len(st.ResidualNorm))
	}
	if R == 0 {
		return residualData{}, fmt.Errorf("norms: %w", ErrNoData)
	}
	if err := checkSteps(tr); err != nil {
		return residualData{}, err
	}
	positions, vals := positionRows(tr, R, func(st *trace.Step) ([][]float32, int) { return st.ResidualNorm, 0 })
	d := residualData{positions: len(positions), stride: strideFor(len(positions), MaxSide)}
	m := newMatrix(R, len(positions), 1, d.stride)
	for r := range R {
		for c, p := range positions {
			if v, ok := vals[r][p]; ok {
				m.add(r, c, float64(v))
			}
		}
	}
	m.colLabels = make([]string, m.cols)
	for c := range m.colLabels {
		p := positions[c*d.stride]
		if d.stride == 1 {
			m.colLabels[c] = tokenLabel(tr, p)
		} else {
			m.colLabels[c] = fmt.Sprintf("%d–%d", p, positions[min((c+1)*d.stride, len(positions))-1])
		}
	}
	d.norms = m
	d.lo, d.hi, d.top = residualRange(m)
	return d, nil
}

// residualRange is the colour range of the norms and the largest norm. A
// few positions (often the first) can have norms many times the others;
// the colours saturate there rather than wash out the rest.
func residualRange(m *matrix) (lo, hi, top float64) {
	lo, hi = m.minMax()
	top = hi
	if p98 := m.quantile(0.98); hi > 1.5*p98 {
		hi = p98
	}
	lo, hi = colorRange(sig(lo, 3), sig(hi, 3))
	return lo, hi, top
}

// rowLabels name the rows: "embeddings", "after layer 0", …
func (d residualData) rowLabels(lc settings) []string {
	out := make([]string, d.norms.rows)
	for r := range out {
		out[r] = lc.t("ll.after", r-1)
		if r == 0 {
			out[r] = lc.t("rn.embed")
		}
	}
	return out
}

// subtitle gives the colour range, where it saturates and the stride.
func (d residualData) subtitle(lc settings) string {
	sub := lc.t("rn.sub", fmtSig(d.lo, 3), fmtSig(d.hi, 3))
	if d.top > d.hi && fmtSig(d.top, 3) != fmtSig(d.hi, 3) { // not just rounding
		sub += lc.t("rn.sat", fmtSig(d.hi, 3), fmtSig(d.top, 3))
	}
	if d.stride > 1 {
		sub += "\n" + lc.t("rn.cols", d.stride)
	}
	return sub
}

// ResidualNorm charts the L2 norm of the residual stream at each layer
// (rows: the embeddings, then after each layer) and each recorded position
// (columns). The colour range is the data's [min, max]. More than MaxSide
// positions are block-averaged (noted). ID "residual-norm". It returns an
// error wrapping ErrNoData when the trace has no residual norms.
func ResidualNorm(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	d, err := newResidualData(tr)
	if err != nil {
		return nil, fmt.Errorf("residual stream: %w", err)
	}
	var notes []string
	if d.stride > 1 {
		notes = append(notes, lc.t("rn.note", d.positions, MaxSide, d.stride))
	}
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("residual stream: %w", err)
	}
	return &Chart{
		ID:       "residual-norm",
		Title:    lc.t("rn.title"),
		Subtitle: d.subtitle(lc),
		Option:   option,
		Height:   min(900, max(320, 250+d.norms.rows*30)),
		Notes:    notes,
		static:   d.figure(lc.static()),
	}, nil
}

// option is the interactive form: one heatmap series per row.
func (d residualData) option(lc settings) (json.RawMessage, error) {
	m, rowLabels := d.norms, d.rowLabels(lc)
	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: d.subtitle(lc)}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "100", Right: "90", Top: "70", Bottom: "110"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "position", Data: m.colLabels,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: 60, FontSize: 9}, AxisPointer: axisPointer()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: rowLabels, Inverse: opts.Bool(true),
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), FontSize: 10}, AxisPointer: axisPointer()}),
		charts.WithVisualMapOpts(opts.VisualMap{
			Type: "continuous", Calculable: opts.Bool(true), // min and max: below

			Right: "10", Top: "middle", InRange: &opts.VisualMapInRange{Color: seqStops},
		}),
	)
	for r := range m.rows {
		hm.AddSeries(rowLabels[r], nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}))
	}
	tree, err := treeOf(hm)
	if err != nil {
		return nil, err
	}
	g := obj(tree, "grid")
	greyGrid(g)
	g["bottom"] = nameAxis(objAt(tree, "xAxis", 0), lc.t("position"), m.colLabels, 60)
	vm := objAt(tree, "visualMap", 0)
	// float64, set here: go-echarts drops a zero min, and its float32
	// overflows for norms near the float32 limit.
	vm["min"], vm["max"] = d.lo, d.hi
	for r := range m.rows {
		objAt(tree, "series", r)["data"] = m.rowCells(r, 4)
	}
	return jsonOf(tree)
}

// figure is the static form in en's language.
func (d residualData) figure(en settings) *staticFig {
	m := *d.norms
	m.rowLabels = d.rowLabels(en)
	return &staticFig{w: 9 * vg.Inch, h: vg.Length(min(9, 2.5+0.3*float64(m.rows))) * vg.Inch,
		draw: heatPlot(en, en.t("rn.title"), en.t("position"), "", &m, newRamp(seqStops, d.lo, d.hi))}
}
