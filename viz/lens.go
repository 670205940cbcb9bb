package viz

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot/vg"

	"github.com/gptviz/gptviz/model/trace"
)

// namedCells is heatmap data whose items carry a name shown as the cell's
// label and in the tooltip: [{"name": …, "value": [x, y, v]}, …]. Names are
// marshalled by encoding/json (HTML-escaped).
type namedCells struct {
	cells
	Names []string
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
		b = append(b, "]}"...)
	}
	return append(b, ']'), nil
}

// positionRows gathers one value per (row, absolute position) from every
// step: get(st) returns the step's rows ([row][NQuery] or nil). It returns
// the sorted recorded positions and, per row, the value at each.
func positionRows[T any](tr *trace.Trace, nRows int, get func(st *trace.Step) [][]T) (positions []int, vals []map[int]T) {
	vals = make([]map[int]T, nRows)
	for i := range vals {
		vals[i] = map[int]T{}
	}
	seen := map[int]bool{}
	for si := range tr.Steps {
		st := &tr.Steps[si]
		rows := get(st)
		for r := 0; r < nRows && r < len(rows); r++ {
			for q, v := range rows[r] {
				p := st.QueryStart + q
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

// LogitLens charts the logit lens: for each layer (rows, "block l": the
// residual stream after block l, read out early through ln_f and the tied
// output head) and each recorded position (columns), the probability of the
// top token, with the top token's display string as the cell label (when
// there are at most 40 positions) and in the tooltip. The colour legend
// spans [0, 1]. More than MaxSide positions are sampled (every s-th; noted).
// ID "logit-lens". It returns an error wrapping ErrNoData when the trace has
// no logit lens.
func LogitLens(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc, en := settingsOf(options), settings{}
	L := 0
	for _, st := range tr.Steps {
		L = max(L, len(st.LogitLens))
	}
	if L == 0 {
		return nil, fmt.Errorf("logit lens: %w", ErrNoData)
	}
	if err := checkSteps(tr); err != nil {
		return nil, fmt.Errorf("logit lens: %w", err)
	}
	positions, vals := positionRows(tr, L, func(st *trace.Step) [][]trace.LensEntry { return st.LogitLens })
	positions, s := sampleEvery(positions, MaxSide)
	var notes []string
	sub := lc.t("ll.sub")
	if s > 1 {
		sub += "\n" + lc.t("ll.sample", s)
		notes = append(notes, lc.t("ll.note", s, MaxSide))
	}
	colLabels := make([]string, len(positions))
	for i, p := range positions {
		colLabels[i] = tokenLabel(tr, p)
	}
	rowLabels, staticRows := make([]string, L), make([]string, L)
	for l := range rowLabels {
		rowLabels[l], staticRows[l] = lc.t("ll.block", l), en.t("ll.block", l)
	}
	m := newMatrix(L, len(positions), 1, 1)
	m.rowLabels, m.colLabels = staticRows, colLabels
	data := make([]namedCells, L)
	for l := 0; l < L; l++ {
		data[l].Digits = 3
		for c, p := range positions {
			e, ok := vals[l][p]
			if !ok {
				continue
			}
			m.add(l, c, e.Prob)
			data[l].add(c, l, e.Prob)
			data[l].Names = append(data[l].Names, inertTemplate(display(e.Display, "", e.ID)))
		}
	}
	showLabels := len(positions) <= maxLensLabels
	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: sub}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "80", Right: "90", Top: "70", Bottom: "110"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "position", Data: colLabels,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: 60, FontSize: 9}, AxisPointer: axisPointer()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Name: "layer", Data: rowLabels,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), FontSize: 10}, AxisPointer: axisPointer()}),
		charts.WithVisualMapOpts(probVisualMap()),
	)
	for l := 0; l < L; l++ {
		hm.AddSeries(lc.t("ll.after", l), nil,
			charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}),
			charts.WithLabelOpts(opts.Label{Show: opts.Bool(showLabels), Formatter: "{b}", FontSize: 9, Color: "#222"}))
	}
	tree, err := treeOf(hm)
	if err != nil {
		return nil, fmt.Errorf("logit lens: %w", err)
	}
	g := obj(tree, "grid")
	greyGrid(g)
	g["bottom"] = nameAxis(objAt(tree, "xAxis", 0), lc.t("position"), colLabels, 60)
	g["left"] = nameAxis(objAt(tree, "yAxis", 0), lc.t("layer"), rowLabels, 0)
	for l := 0; l < L; l++ {
		objAt(tree, "series", l)["data"] = data[l]
	}
	option, err := jsonOf(tree)
	if err != nil {
		return nil, fmt.Errorf("logit lens: %w", err)
	}
	c := &Chart{
		ID:       "logit-lens",
		Title:    lc.t("ll.title"),
		Subtitle: sub,
		Option:   option,
		Height:   min(900, max(320, 250+L*34)),
		Notes:    notes,
	}
	c.static = &staticFig{w: 9 * vg.Inch, h: vg.Length(min(9, 2.5+0.3*float64(L))) * vg.Inch,
		draw: heatPlot(en.t("ll.title")+en.t("ll.static"), en.t("position"), en.t("layer"), m, newRamp(seqStops, 0, 1))}
	return c, nil
}

// ResidualNorm charts the L2 norm of the residual stream at each layer
// (rows: the embeddings, then after each block) and each recorded position
// (columns). The colour range is the data's [min, max]. More than MaxSide
// positions are block-averaged (noted). ID "residual-norm". It returns an
// error wrapping ErrNoData when the trace has no residual norms.
func ResidualNorm(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc, en := settingsOf(options), settings{}
	R := 0
	for _, st := range tr.Steps {
		R = max(R, len(st.ResidualNorm))
	}
	if R == 0 {
		return nil, fmt.Errorf("residual stream: norms: %w", ErrNoData)
	}
	if err := checkSteps(tr); err != nil {
		return nil, fmt.Errorf("residual stream: %w", err)
	}
	positions, vals := positionRows(tr, R, func(st *trace.Step) [][]float32 { return st.ResidualNorm })
	s := strideFor(len(positions), MaxSide)
	m := newMatrix(R, len(positions), 1, s)
	for r := 0; r < R; r++ {
		for c, p := range positions {
			if v, ok := vals[r][p]; ok {
				m.add(r, c, float64(v))
			}
		}
	}
	m.rowLabels = make([]string, R)
	rowLabels := make([]string, R)
	for r := range m.rowLabels {
		m.rowLabels[r], rowLabels[r] = en.t("ll.after", r-1), lc.t("ll.after", r-1)
		if r == 0 {
			m.rowLabels[r], rowLabels[r] = en.t("rn.embed"), lc.t("rn.embed")
		}
	}
	m.colLabels = make([]string, m.cols)
	for c := range m.colLabels {
		p := positions[c*s]
		if s == 1 {
			m.colLabels[c] = tokenLabel(tr, p)
		} else {
			q := positions[min((c+1)*s, len(positions))-1]
			m.colLabels[c] = fmt.Sprintf("%d–%d", p, q)
		}
	}
	lo, hi := m.minMax()
	top := hi
	// A few positions (often the first) can have norms many times the
	// others; let the colours saturate there rather than wash out the rest.
	if p98 := m.quantile(0.98); hi > 1.5*p98 {
		hi = p98
	}
	lo, hi = sig(lo, 3), sig(hi, 3)
	if hi <= lo {
		hi = lo + 1
	}
	sub := lc.t("rn.sub", fmtSig(lo, 3), fmtSig(hi, 3))
	if top > hi && fmtSig(top, 3) != fmtSig(hi, 3) { // not just rounding
		sub += lc.t("rn.sat", fmtSig(hi, 3), fmtSig(top, 3))
	}
	var notes []string
	if s > 1 {
		sub += "\n" + lc.t("rn.cols", s)
		notes = append(notes, lc.t("rn.note", len(positions), MaxSide, s))
	}
	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: sub}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "100", Right: "90", Top: "70", Bottom: "110"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "position", Data: m.colLabels,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: 60, FontSize: 9}, AxisPointer: axisPointer()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: rowLabels, Inverse: opts.Bool(true),
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), FontSize: 10}, AxisPointer: axisPointer()}),
		charts.WithVisualMapOpts(opts.VisualMap{
			Type: "continuous", Calculable: opts.Bool(true), Min: float32(lo), Max: float32(hi),
			Right: "10", Top: "middle", InRange: &opts.VisualMapInRange{Color: seqStops},
		}),
	)
	for r := 0; r < m.rows; r++ {
		hm.AddSeries(rowLabels[r], nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}))
	}
	tree, err := treeOf(hm)
	if err != nil {
		return nil, fmt.Errorf("residual stream: %w", err)
	}
	g := obj(tree, "grid")
	greyGrid(g)
	g["bottom"] = nameAxis(objAt(tree, "xAxis", 0), lc.t("position"), m.colLabels, 60)
	vm := objAt(tree, "visualMap", 0)
	vm["min"], vm["max"] = lo, hi // go-echarts drops a zero min
	for r := 0; r < m.rows; r++ {
		objAt(tree, "series", r)["data"] = m.rowCells(r, 4)
	}
	option, err := jsonOf(tree)
	if err != nil {
		return nil, fmt.Errorf("residual stream: %w", err)
	}
	c := &Chart{
		ID:       "residual-norm",
		Title:    lc.t("rn.title"),
		Subtitle: sub,
		Option:   option,
		Height:   min(900, max(320, 250+R*30)),
		Notes:    notes,
	}
	c.static = &staticFig{w: 9 * vg.Inch, h: vg.Length(min(9, 2.5+0.3*float64(R))) * vg.Inch,
		draw: heatPlot(en.t("rn.title"), en.t("position"), "", m, newRamp(seqStops, lo, hi))}
	return c, nil
}
