package viz

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gptviz/gptviz/model/trace"
)

// probVisualMap is the legend of probability heatmaps: range [0, 1].
func probVisualMap() opts.VisualMap {
	return opts.VisualMap{
		Type: "continuous", Calculable: opts.Bool(true), Min: 0, Max: 1,
		Right: "10", Top: "middle",
		InRange: &opts.VisualMapInRange{Color: seqStops},
	}
}

// axisPointer highlights the hovered row or column and labels it.
func axisPointer() *opts.AxisPointer {
	return &opts.AxisPointer{Show: opts.Bool(true), Type: "shadow", Label: &opts.Label{Show: opts.Bool(true), FontSize: 11}}
}

// greyGrid makes a grid's background the masked colour: cells absent from
// the data show it.
func greyGrid(g map[string]any) {
	g["show"] = true
	g["backgroundColor"] = maskedHex
	g["borderWidth"] = 0
}

// strideNote says in plain words that a matrix was block-averaged.
func strideNote(lc settings, what string, stride, n int) string {
	return lc.t("stride.note", what, formatBytes(int64(n)), MaxSide, stride)
}

// heatHeight is a heatmap's height in CSS pixels for rows × cols cells drawn
// about square in a page column about 960 px wide.
func heatHeight(rows, cols, extra int) int {
	plotW := 760.0
	h := float64(rows)*plotW/float64(max(1, cols)) + float64(extra)
	return int(min(1000, max(320, h)))
}

// AttentionHead charts the attention probabilities of one layer and head
// over the whole run: query rows (the token reading working memory) ×
// key columns (the tokens read), both labelled "position token", rows
// top to bottom. It gathers the prefill's rows and one row per decode step.
// Masked cells — future keys under the causal mask and keys evicted from
// the context window — are absent from the data and drawn grey, never as
// zero. The colour legend (visualMap) spans [0, 1]. Hovering a cell shades
// its row and column, labels the query and key on the axes, and the tooltip
// shows "query …", "key …" and the probability. More than MaxSide positions
// are block-averaged (stated in the subtitle and Notes). ID
// "attn-l{layer}-h{head}" with real indices. Errors wrap ErrRange for a
// layer or head outside the model and ErrNoData when the layer's attention
// was not recorded.
func AttentionHead(tr *trace.Trace, layer, head int, options ...Option) (*Chart, error) {
	lc, en := settingsOf(options), settings{}
	if err := checkLayerHead(tr, layer, head); err != nil {
		return nil, fmt.Errorf("attention chart: %w", err)
	}
	m, err := attentionMatrix(tr, layer, head, MaxSide)
	if err != nil {
		return nil, fmt.Errorf("attention chart, layer %d, head %d: %w", layer, head, err)
	}
	n, _ := attnExtent(tr, layer)
	title := lc.t("at.title", layer, head)
	sub := lc.t("at.sub") + lc.t("masked")
	var notes []string
	if m.rowStride > 1 {
		sub += "\n" + lc.t("stride", m.rowStride)
		notes = append(notes, strideNote(lc, title, m.rowStride, n))
	}
	if s, ks := summarised(tr, layer); s {
		notes = append(notes, lc.t("recorder.note", title, ks))
	}

	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: sub}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "130", Right: "90", Top: "70", Bottom: "110"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "key", Data: m.colLabels,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: 60, FontSize: 9}, AxisPointer: axisPointer()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Name: "query", Inverse: opts.Bool(true), Data: m.rowLabels,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), FontSize: 9}, AxisPointer: axisPointer()}),
		charts.WithVisualMapOpts(probVisualMap()),
	)
	// One series per query row: its name heads the tooltip, and the data
	// item's name is the key (the x category), so hovering reads
	// "query 12 ␣dog / ● 5 ␣fox 0.123" without any JavaScript.
	for r := 0; r < m.rows; r++ {
		hm.AddSeries(lc.t("at.series", m.rowLabels[r]), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}))
	}
	tree, err := treeOf(hm)
	if err != nil {
		return nil, fmt.Errorf("attention chart, layer %d, head %d: %w", layer, head, err)
	}
	g := obj(tree, "grid")
	greyGrid(g)
	g["bottom"] = nameAxis(objAt(tree, "xAxis", 0), lc.t("at.key"), m.colLabels, 60)
	g["left"] = nameAxis(objAt(tree, "yAxis", 0), lc.t("at.query"), m.rowLabels, 0)
	for r := 0; r < m.rows; r++ {
		objAt(tree, "series", r)["data"] = m.rowCells(r, 3)
	}
	option, err := jsonOf(tree)
	if err != nil {
		return nil, fmt.Errorf("attention chart, layer %d, head %d: %w", layer, head, err)
	}
	c := &Chart{
		ID:       fmt.Sprintf("attn-l%d-h%d", layer, head),
		Title:    title,
		Subtitle: sub,
		Option:   option,
		Height:   heatHeight(m.rows, m.cols, 250),
		Notes:    notes,
	}
	stitle := en.t("at.title", layer, head)
	if m.rowStride > 1 {
		stitle += en.t("at.static", m.rowStride)
	}
	c.static = &staticFig{w: 7 * vg.Inch, h: 6.5 * vg.Inch, draw: heatPlot(stitle, en.t("at.key"), en.t("at.query"), m, newRamp(seqStops, 0, 1))}
	return c, nil
}

// headList names heads for a title: "heads 0–11" for a full range, else
// "heads 2, 5".
func headList(lc settings, heads []int) string {
	if len(heads) == 1 {
		return lc.t("at.head", heads[0])
	}
	contiguous := true
	for i := 1; i < len(heads); i++ {
		contiguous = contiguous && heads[i] == heads[i-1]+1
	}
	if contiguous {
		return lc.t("at.heads", heads[0], heads[len(heads)-1])
	}
	s := make([]string, len(heads))
	for i, h := range heads {
		s[i] = strconv.Itoa(h)
	}
	return lc.t("at.headlist", strings.Join(s, ", "))
}

// AttentionGrid is the model view: for every layer the filter selects, one
// chart with a small heatmap per selected head (small multiples, up to six
// per row), each block-averaged to at most ThumbSide × ThumbSide cells and
// titled with the head's real index ("head 5"). Masked cells are grey; the
// colour legend spans [0, 1]; hovering shows the head, the key and the
// probability. IDs "attn-grid-l{layer}". Errors wrap ErrRange for indices
// outside the model and ErrNoData when no selected layer has recorded
// attention.
func AttentionGrid(tr *trace.Trace, f Filter, options ...Option) ([]*Chart, error) {
	lc := settingsOf(options)
	layers, heads, err := f.Resolve(tr.Model.Config.NLayer, tr.Model.Config.NHead)
	if err != nil {
		return nil, fmt.Errorf("attention model view: %w", err)
	}
	var out []*Chart
	for _, l := range layers {
		if _, ok := attnExtent(tr, l); !ok {
			continue
		}
		c, err := attentionLayerGrid(tr, l, heads, lc)
		if err != nil {
			return nil, fmt.Errorf("attention model view: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("attention model view: attention of layers %v: %w", layers, ErrNoData)
	}
	return out, nil
}

// Layout of the model view, CSS pixels.
const (
	gridCols    = 6   // small multiples per row
	thumbSidePx = 130 // side of one small heatmap
	thumbColPx  = 150 // horizontal pitch (6 fit the ~920 px page column)
	thumbLeftPx = 10
	thumbRowPx  = 165 // vertical pitch, with the head's title
	gridTopPx   = 40
)

func attentionLayerGrid(tr *trace.Trace, layer int, heads []int, lc settings) (*Chart, error) {
	ms := make([]*matrix, len(heads))
	for i, h := range heads {
		m, err := attentionMatrix(tr, layer, h, ThumbSide)
		if err != nil {
			return nil, fmt.Errorf("layer %d, head %d: %w", layer, h, err)
		}
		ms[i] = m
	}
	n, _ := attnExtent(tr, layer)
	cols := min(gridCols, len(heads))
	rows := (len(heads) + gridCols - 1) / gridCols
	title := lc.t("at.grid", layer, headList(lc, heads))
	sub := lc.t("at.grid.sub")
	var notes []string
	if s := ms[0].rowStride; s > 1 {
		sub += " · " + lc.t("at.grid.cell", s)
		notes = append(notes, lc.t("at.grid.note", title, ThumbSide, formatBytes(int64(n)), s))
	}

	hm := charts.NewHeatMap()
	var grids []opts.Grid
	for i := range heads {
		r, c := i/gridCols, i%gridCols
		grids = append(grids, opts.Grid{
			Left:   strconv.Itoa(thumbLeftPx + c*thumbColPx),
			Width:  strconv.Itoa(thumbSidePx),
			Top:    strconv.Itoa(gridTopPx + 22 + r*thumbRowPx),
			Height: strconv.Itoa(thumbSidePx),
		})
	}
	hm.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(grids...),
		charts.WithVisualMapOpts(opts.VisualMap{
			Type: "continuous", Min: 0, Max: 1, Text: []string{"1", "0 "},
			Right: "10", Top: "0", InRange: &opts.VisualMapInRange{Color: seqStops},
		}),
	)
	hidden := &opts.AxisLabel{Show: opts.Bool(false)}
	for i, h := range heads {
		x := opts.XAxis{Type: "category", GridIndex: i, Data: ms[i].colLabels, AxisLabel: hidden}
		y := opts.YAxis{Type: "category", GridIndex: i, Inverse: opts.Bool(true), Data: ms[i].rowLabels, AxisLabel: hidden}
		if i == 0 {
			hm.XAxisList[0], hm.YAxisList[0] = x, y
		} else {
			hm.ExtendXAxis(x)
			hm.ExtendYAxis(y)
		}
		idx := i
		hm.AddSeries(lc.t("at.lh", layer, h), nil,
			charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.XAxisIndex, s.YAxisIndex = idx, idx }))
	}
	tree, err := treeOf(hm)
	if err != nil {
		return nil, fmt.Errorf("layer %d: %w", layer, err)
	}
	titles := []any{map[string]any{"subtext": sub, "left": 0, "top": 0}}
	for i, h := range heads {
		greyGrid(objAt(tree, "grid", i))
		objAt(tree, "series", i)["data"] = ms[i].cellsOf(2)
		r, c := i/gridCols, i%gridCols
		for _, ax := range []map[string]any{objAt(tree, "xAxis", i), objAt(tree, "yAxis", i)} {
			ax["axisTick"] = map[string]any{"show": false}
			ax["axisLine"] = map[string]any{"show": false}
		}
		titles = append(titles, map[string]any{
			"text": lc.t("at.head", h), "left": thumbLeftPx + c*thumbColPx,
			"top": gridTopPx + r*thumbRowPx, "textStyle": map[string]any{"fontSize": 12, "fontWeight": "normal"},
		})
	}
	tree["title"] = titles
	vm := objAt(tree, "visualMap", 0)
	vm["orient"], vm["itemHeight"] = "horizontal", 120
	delete(vm, "top")
	vm["bottom"] = 0
	option, err := jsonOf(tree)
	if err != nil {
		return nil, fmt.Errorf("layer %d: %w", layer, err)
	}
	c := &Chart{
		ID:       fmt.Sprintf("attn-grid-l%d", layer),
		Title:    title,
		Subtitle: sub,
		Option:   option,
		Height:   gridTopPx + 50 + rows*thumbRowPx,
		Notes:    notes,
	}
	c.static = &staticFig{w: vg.Length(cols) * 1.5 * vg.Inch, h: vg.Length(rows)*1.5*vg.Inch + 0.6*vg.Inch, draw: func(dc draw.Canvas) error {
		head := draw.Crop(dc, 0, 0, dc.Max.Y-dc.Min.Y-0.5*vg.Inch, 0)
		tp := plot.New()
		tp.HideAxes()
		tp.Title.Text = staticTitle(fmt.Sprintf("Attention, layer %d (model view)\n0 = white, 1 = dark blue, grey = masked", layer))
		tp.Title.TextStyle.Font.Size = vg.Points(10)
		tp.Draw(head)
		body := draw.Crop(dc, 0, 0, 0, -0.55*vg.Inch)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(6), PadY: vg.Points(4)}
		cmap := newRamp(seqStops, 0, 1)
		for i, h := range heads {
			p := plot.New()
			p.Title.Text = "head " + strconv.Itoa(h)
			p.Title.TextStyle.Font.Size = vg.Points(8)
			p.HideAxes()
			p.Add(&raster{m: ms[i], cmap: cmap})
			p.X.Min, p.X.Max = 0, float64(ms[i].cols)
			p.Y.Min, p.Y.Max = 0, float64(ms[i].rows)
			p.Draw(tiles.At(body, i%cols, i/cols))
		}
		return nil
	}}
	return c, nil
}

// newTokenRow is the attention of one decode step's new token.
type newTokenRow struct {
	step, q, window int
	keyStride       int
	probs           []float64 // per stored key column, keys window… q
	mean            []float64 // averaged over the layer's heads
}

// labels are the key labels of a new-token row: "position token", or a
// position range for stored block averages.
func (r newTokenRow) labels(tr *trace.Trace) []string {
	labels := make([]string, len(r.probs))
	for k := range labels {
		p := r.window + k*r.keyStride
		if r.keyStride == 1 {
			labels[k] = tokenLabel(tr, p)
		} else {
			labels[k] = fmt.Sprintf("%d–%d", p, min(p+r.keyStride, r.q+1)-1)
		}
	}
	return labels
}

// newTokenLabels are the key labels of every row, for sizing the axis.
func newTokenLabels(tr *trace.Trace, rows []newTokenRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.labels(tr)...)
	}
	return out
}

// NewTokenAttention charts, at each decode step, how the new token (the
// query at that step) spreads its attention over all previous positions in
// the context window: bars over key positions for layer and head, plus the
// mean over all heads of the layer, with a step slider (ECharts timeline).
// The static form is a heatmap of decode steps × key positions. ID
// "attn-new-l{layer}-h{head}". Errors wrap ErrRange for indices outside the
// model and ErrNoData when there are no decode steps with recorded
// attention.
func NewTokenAttention(tr *trace.Trace, layer, head int, options ...Option) (*Chart, error) {
	lc, en := settingsOf(options), settings{}
	if err := checkLayerHead(tr, layer, head); err != nil {
		return nil, fmt.Errorf("new-token attention: %w", err)
	}
	if err := checkSteps(tr); err != nil {
		return nil, fmt.Errorf("new-token attention: %w", err)
	}
	var rows []newTokenRow
	for _, st := range tr.Steps {
		if !st.Kind.Generates() || layer >= len(st.Attention) || st.NQuery <= 0 {
			continue
		}
		la := st.Attention[layer]
		if head >= len(la.Probs) || len(la.Probs[head]) == 0 {
			return nil, fmt.Errorf("new-token attention: step %d: layer %d has no head %d: %w", st.Index, layer, head, ErrRange)
		}
		q := st.QueryStart + st.NQuery - 1
		ks := max(1, la.KeyStride)
		nk := (q-st.WindowStart)/ks + 1
		row := newTokenRow{step: st.Index, q: q, window: st.WindowStart, keyStride: ks}
		last := func(h int) []float32 {
			r := la.Probs[h]
			return r[len(r)-1]
		}
		src := last(head)
		for k := 0; k < nk && k < len(src); k++ {
			row.probs = append(row.probs, float64(src[k]))
			var s float64
			nh := 0
			for h := range la.Probs {
				if rr := la.Probs[h]; len(rr) > 0 && k < len(rr[len(rr)-1]) {
					s += float64(rr[len(rr)-1][k])
					nh++
				}
			}
			row.mean = append(row.mean, s/float64(max(1, nh)))
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("new-token attention, layer %d: decode steps with attention: %w", layer, ErrNoData)
	}
	headName := lc.t("at.lh", layer, head)
	meanName := lc.t("at.mean", layer)
	steps := make([]string, len(rows))
	for i, r := range rows {
		steps[i] = strconv.Itoa(r.step)
	}
	base := charts.NewBar()
	base.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis", AxisPointer: &opts.AxisPointer{Type: "shadow"}}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10", Top: "40"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "40", Top: "80", Bottom: strconv.Itoa(70 + labelRoom(newTokenLabels(tr, rows), 50))}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: 50, FontSize: 10}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("nw.attention"), Min: 0, Max: 1, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	base.AddSeries(headName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: keptHex}))
	base.AddSeries(meanName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#9ecae1"}))
	baseTree, err := treeOf(base)
	if err != nil {
		return nil, fmt.Errorf("new-token attention: %w", err)
	}
	baseTree["timeline"] = map[string]any{
		"axisType": "category", "data": steps, "autoPlay": false, "playInterval": 1500,
		"left": 40, "right": 40, "bottom": 10, "label": map[string]any{"fontSize": 10}, "currentIndex": 0,
	}
	var notes []string
	stepOptions := make([]any, len(rows))
	for i, r := range rows {
		labels := r.labels(tr)
		if r.keyStride > 1 && len(notes) == 0 {
			notes = append(notes, lc.t("nw.note", headName, r.keyStride))
		}
		b := charts.NewBar()
		b.SetGlobalOptions(charts.WithTitleOpts(opts.Title{
			Title:      lc.t("nw.step", r.step, tokenLabel(tr, r.q), r.window, r.q),
			TitleStyle: &opts.TextStyle{FontSize: 14},
		}))
		b.SetXAxis(labels)
		b.AddSeries(headName, nil)
		b.AddSeries(meanName, nil)
		t, err := treeOf(b)
		if err != nil {
			return nil, fmt.Errorf("new-token attention: step %d: %w", r.step, err)
		}
		objAt(t, "series", 0)["data"] = nums{V: r.probs, Digits: 3}
		objAt(t, "series", 1)["data"] = nums{V: r.mean, Digits: 3}
		stepOptions[i] = map[string]any{"title": t["title"], "xAxis": t["xAxis"], "series": t["series"]}
	}
	option, err := jsonOf(map[string]any{"baseOption": baseTree, "options": stepOptions})
	if err != nil {
		return nil, fmt.Errorf("new-token attention: %w", err)
	}
	c := &Chart{
		ID:       fmt.Sprintf("attn-new-l%d-h%d", layer, head),
		Title:    lc.t("nw.title", layer, head),
		Subtitle: lc.t("slider"),
		Option:   option,
		Height:   460,
		Notes:    notes,
	}
	// Static: decode steps × key positions.
	nPos := rows[len(rows)-1].q + 1
	for _, r := range rows {
		nPos = max(nPos, r.q+1)
	}
	colStride := strideFor(nPos, MaxSide)
	m := newMatrix(len(rows), nPos, 1, colStride)
	for i, r := range rows {
		for k, v := range r.probs {
			k0 := r.window + k*r.keyStride
			for p := k0; p < k0+r.keyStride && p <= r.q; p++ {
				m.add(i, p, v)
			}
		}
	}
	m.rowLabels = make([]string, len(rows))
	for i, r := range rows {
		m.rowLabels[i] = en.t("nw.row", r.step, tokenLabel(tr, r.q))
	}
	m.colLabels = positionLabels(tr, 0, m.cols, colStride, nPos)
	c.static = &staticFig{w: 8 * vg.Inch, h: vg.Length(math.Min(9, 2.5+0.12*float64(len(rows)))) * vg.Inch,
		draw: heatPlot(en.t("nw.title", layer, head), en.t("at.key"), en.t("nw.static.y"), m, newRamp(seqStops, 0, 1))}
	return c, nil
}
