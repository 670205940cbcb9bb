package viz

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
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

// attentionHeadData is what the attention chart of one head shows: the
// query × key matrix over the positions of the whole run (block-averaged to
// at most MaxSide per side; see attentionMatrix), how many positions it
// covers, and the largest key stride the recorder averaged over (1 when it
// stored full rows).
type attentionHeadData struct {
	layer, head int
	m           *matrix
	positions   int
	keyStride   int
	// keptRows is how many last query rows of the prompt the trace kept
	// (trace.NotePromptRows), 0 when every row was recorded.
	keptRows int
}

// keptPromptRows is the number of the prompt's last query rows the trace
// recorded, from its NotePromptRows note; 0 when there is none.
func keptPromptRows(tr *trace.Trace) int {
	for _, n := range tr.Notes {
		if n.Code == trace.NotePromptRows && len(n.Args) == 2 {
			return n.Args[1]
		}
	}
	return 0
}

// newAttentionHeadData gathers the attention of one layer and head. Errors
// wrap ErrRange for indices outside the model, ErrNoData when the layer's
// attention was not recorded and ErrInvalid for inconsistent positions.
func newAttentionHeadData(tr *trace.Trace, layer, head int) (attentionHeadData, error) {
	if err := checkLayerHead(tr, layer, head); err != nil {
		return attentionHeadData{}, err
	}
	m, err := attentionMatrix(tr, layer, head, MaxSide)
	if err != nil {
		return attentionHeadData{}, fmt.Errorf("layer %d, head %d: %w", layer, head, err)
	}
	d := attentionHeadData{layer: layer, head: head, m: m, keyStride: 1}
	if m.nUnrecorded() > 0 {
		d.keptRows = keptPromptRows(tr)
	}
	d.positions, _ = attnExtent(tr, layer)
	if s, ks := summarised(tr, layer); s {
		d.keyStride = ks
	}
	return d, nil
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
	lc := settingsOf(options)
	d, err := newAttentionHeadData(tr, layer, head)
	if err != nil {
		return nil, fmt.Errorf("attention chart: %w", err)
	}
	title := lc.t("at.title", layer, head)
	sub := lc.t("at.sub") + lc.t("masked")
	if d.m.nUnrecorded() > 0 {
		sub += "\n" + lc.t("notrec", d.keptRows)
	}
	var notes []string
	if s := d.m.rowStride; s > 1 {
		sub += "\n" + lc.t("stride", s)
		notes = append(notes, strideNote(lc, title, s, d.positions))
	}
	if d.keyStride > 1 {
		notes = append(notes, lc.t("recorder.note", title, d.keyStride))
	}
	option, err := d.option(lc, sub)
	if err != nil {
		return nil, fmt.Errorf("attention chart, layer %d, head %d: %w", layer, head, err)
	}
	return &Chart{
		ID:       fmt.Sprintf("attn-l%d-h%d", layer, head),
		Title:    title,
		Subtitle: sub,
		Option:   option,
		Height:   heatHeight(d.m.rows, d.m.cols, 250),
		Notes:    notes,
		static:   d.figure(lc.static()),
	}, nil
}

// option is the interactive form: one heatmap series per query row, its
// name heading the tooltip, so hovering reads "query 12 ␣dog / ● 5 ␣fox
// 0.123" without any JavaScript.
func (d attentionHeadData) option(lc settings, sub string) (json.RawMessage, error) {
	m := d.m
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
	for r := range m.rows {
		hm.AddSeries(lc.t("at.series", m.rowLabels[r]), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}))
	}
	tree, err := treeOf(hm)
	if err != nil {
		return nil, err
	}
	g := obj(tree, "grid")
	greyGrid(g)
	g["bottom"] = nameAxis(objAt(tree, "xAxis", 0), lc.t("at.key"), m.colLabels, 60)
	g["left"] = nameAxis(objAt(tree, "yAxis", 0), lc.t("at.query"), m.rowLabels, 0)
	for r := range m.rows {
		objAt(tree, "series", r)["data"] = m.rowCells(r, 3)
	}
	legendUnrecorded(lc, tree, m)
	return jsonOf(tree)
}

// legendUnrecorded marks the unrecorded rows of m in a heatmap option
// whose series 0…m.rows-1 are its rows: a sand band over each run of such
// rows (markArea of an extra, data-less series "not recorded") and a legend
// naming it and the masked grey. The colour scale keeps to the heatmap
// series. Nothing changes when every row was recorded.
func legendUnrecorded(lc settings, tree map[string]any, m *matrix) {
	if m.nUnrecorded() == 0 {
		return
	}
	series, _ := tree["series"].([]any)
	heat := make([]any, len(series))
	for i := range series {
		heat[i] = i
	}
	notRec, masked := lc.t("notrec.legend"), lc.t("masked.legend")
	series = append(series, notRecordedSeries(notRec, m, -1), maskedLegendSeries(masked))
	tree["series"] = series
	tree["legend"] = map[string]any{"show": true, "data": []any{masked, notRec}, "icon": "rect", "selectedMode": false, "right": 90, "top": 0}
	objAt(tree, "visualMap", 0)["seriesIndex"] = heat
}

// notRecordedSeries is a data-less line series named name whose markArea
// shades every run of m's unrecorded rows in notRecordedHex, across the
// whole row; axis ≥ 0 puts it on that x/y axis pair (a small multiple).
func notRecordedSeries(name string, m *matrix, axis int) map[string]any {
	var areas []any
	for r := 0; r < m.rows; r++ {
		if !m.unrecorded[r] {
			continue
		}
		end := r
		for end+1 < m.rows && m.unrecorded[end+1] {
			end++
		}
		areas = append(areas, []any{
			map[string]any{"xAxis": m.colLabels[0], "yAxis": m.rowLabels[r]},
			map[string]any{"xAxis": m.colLabels[m.cols-1], "yAxis": m.rowLabels[end]},
		})
		r = end
	}
	s := map[string]any{"type": "line", "name": name, "data": []any{}, "itemStyle": map[string]any{"color": notRecordedHex},
		"markArea": map[string]any{"silent": true, "itemStyle": map[string]any{"color": notRecordedHex}, "data": areas}}
	if axis >= 0 {
		s["xAxisIndex"], s["yAxisIndex"] = axis, axis
	}
	return s
}

// maskedLegendSeries is a data-less series that only gives the legend its
// masked-grey entry.
func maskedLegendSeries(name string) map[string]any {
	return map[string]any{"type": "line", "name": name, "data": []any{}, "itemStyle": map[string]any{"color": maskedHex}}
}

// figure is the static form in en's language.
func (d attentionHeadData) figure(en settings) *staticFig {
	title := en.t("at.title", d.layer, d.head)
	if d.m.rowStride > 1 {
		title += en.t("at.static", d.m.rowStride)
	}
	return &staticFig{w: 7 * vg.Inch, h: 6.5 * vg.Inch, draw: heatPlot(en, title, en.t("at.key"), en.t("at.query"), d.m, newRamp(seqStops, 0, 1))}
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

// attentionGridData is what the model view of one layer shows: for each
// selected head (real indices), its query × key matrix block-averaged to at
// most ThumbSide per side, and how many positions the layer covers.
type attentionGridData struct {
	layer     int
	heads     []int
	ms        []*matrix
	positions int
}

// newAttentionGridData gathers the attention of the heads of one layer.
// It returns an error wrapping ErrNoData when there are no heads (a
// corrupt trace's model with n_head 0).
func newAttentionGridData(tr *trace.Trace, layer int, heads []int) (attentionGridData, error) {
	d := attentionGridData{layer: layer, heads: heads, ms: make([]*matrix, len(heads))}
	if len(heads) == 0 {
		return d, fmt.Errorf("layer %d: heads: %w", layer, ErrNoData)
	}
	for i, h := range heads {
		m, err := attentionMatrix(tr, layer, h, ThumbSide)
		if err != nil {
			return d, fmt.Errorf("layer %d, head %d: %w", layer, h, err)
		}
		d.ms[i] = m
	}
	d.positions, _ = attnExtent(tr, layer)
	return d, nil
}

// tiles are the numbers of columns and rows of small multiples.
func (d attentionGridData) tiles() (cols, rows int) {
	return min(gridCols, len(d.heads)), (len(d.heads) + gridCols - 1) / gridCols
}

func attentionLayerGrid(tr *trace.Trace, layer int, heads []int, lc settings) (*Chart, error) {
	d, err := newAttentionGridData(tr, layer, heads)
	if err != nil {
		return nil, err
	}
	title := lc.t("at.grid", layer, headList(lc, heads))
	sub := lc.t("at.grid.sub")
	var notes []string
	if s := d.ms[0].rowStride; s > 1 {
		sub += " · " + lc.t("at.grid.cell", s)
		notes = append(notes, lc.t("at.grid.note", title, ThumbSide, formatBytes(int64(d.positions)), s))
	}
	if d.nUnrecorded() > 0 {
		sub += lc.t("at.grid.notrec", keptPromptRows(tr))
	}
	option, err := d.option(lc, sub)
	if err != nil {
		return nil, fmt.Errorf("layer %d: %w", layer, err)
	}
	_, rows := d.tiles()
	return &Chart{
		ID:       fmt.Sprintf("attn-grid-l%d", layer),
		Title:    title,
		Subtitle: sub,
		Option:   option,
		Height:   d.top() + 50 + rows*thumbRowPx,
		Notes:    notes,
		static:   d.figure(lc.static()),
	}, nil
}

// chart is the go-echarts part of the model view: one grid, axis pair and
// series per head, a shared colour scale.
func (d attentionGridData) chart(lc settings) *charts.HeatMap {
	hm := charts.NewHeatMap()
	var grids []opts.Grid
	for i := range d.heads {
		r, c := i/gridCols, i%gridCols
		grids = append(grids, opts.Grid{
			Left:   strconv.Itoa(thumbLeftPx + c*thumbColPx),
			Width:  strconv.Itoa(thumbSidePx),
			Top:    strconv.Itoa(d.top() + 22 + r*thumbRowPx),
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
	for i, h := range d.heads {
		x := opts.XAxis{Type: "category", GridIndex: i, Data: d.ms[i].colLabels, AxisLabel: hidden}
		y := opts.YAxis{Type: "category", GridIndex: i, Inverse: opts.Bool(true), Data: d.ms[i].rowLabels, AxisLabel: hidden}
		if i == 0 {
			hm.XAxisList[0], hm.YAxisList[0] = x, y
		} else {
			hm.ExtendXAxis(x)
			hm.ExtendYAxis(y)
		}
		idx := i
		hm.AddSeries(lc.t("at.lh", d.layer, h), nil,
			charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.XAxisIndex, s.YAxisIndex = idx, idx }))
	}
	return hm
}

// option is the interactive form: the chart with its data, a title per
// head, grey backgrounds and a horizontal colour scale at the bottom.
func (d attentionGridData) option(lc settings, sub string) (json.RawMessage, error) {
	tree, err := treeOf(d.chart(lc))
	if err != nil {
		return nil, err
	}
	titles := []any{map[string]any{"subtext": sub, "left": 0, "top": 0}}
	for i, h := range d.heads {
		greyGrid(objAt(tree, "grid", i))
		objAt(tree, "series", i)["data"] = d.ms[i].cellsOf(2)
		r, c := i/gridCols, i%gridCols
		for _, ax := range []map[string]any{objAt(tree, "xAxis", i), objAt(tree, "yAxis", i)} {
			ax["axisTick"] = map[string]any{"show": false}
			ax["axisLine"] = map[string]any{"show": false}
		}
		titles = append(titles, map[string]any{
			"text": lc.t("at.head", h), "left": thumbLeftPx + c*thumbColPx,
			"top": d.top() + r*thumbRowPx, "textStyle": map[string]any{"fontSize": 12, "fontWeight": "normal"},
		})
	}
	tree["title"] = titles
	vm := objAt(tree, "visualMap", 0)
	vm["orient"], vm["itemHeight"] = "horizontal", 120
	delete(vm, "top")
	vm["bottom"] = 0
	if d.nUnrecorded() > 0 {
		// Rows the trace did not record get their own colour and legend
		// entry in every small multiple, never the masked grey.
		series, _ := tree["series"].([]any)
		heat := make([]any, len(series))
		for i := range series {
			heat[i] = i
		}
		notRec, masked := lc.t("notrec.legend"), lc.t("masked.legend")
		for i, m := range d.ms {
			if m.nUnrecorded() > 0 {
				series = append(series, notRecordedSeries(notRec, m, i))
			}
		}
		series = append(series, maskedLegendSeries(masked))
		tree["series"] = series
		tree["legend"] = map[string]any{"show": true, "data": []any{masked, notRec}, "icon": "rect", "selectedMode": false, "right": 10, "top": 0}
		vm["seriesIndex"] = heat
	}
	return jsonOf(tree)
}

// top is where the first row of small multiples starts, CSS pixels: below
// the subtitle, which takes a second line when rows were not recorded.
func (d attentionGridData) top() int {
	if d.nUnrecorded() > 0 {
		return gridTopPx + 18
	}
	return gridTopPx
}

// nUnrecorded is the largest number of unrecorded rows of any head's
// small multiple (they all share the layer's recorded steps).
func (d attentionGridData) nUnrecorded() int {
	n := 0
	for _, m := range d.ms {
		n = max(n, m.nUnrecorded())
	}
	return n
}

// figure is the static form in lc's language: a title, then the small
// multiples in rows of up to six.
func (d attentionGridData) figure(lc settings) *staticFig {
	cols, rows := d.tiles()
	return &staticFig{w: vg.Length(cols) * 1.5 * vg.Inch, h: vg.Length(rows)*1.5*vg.Inch + 0.6*vg.Inch, draw: func(dc draw.Canvas) error {
		head := draw.Crop(dc, 0, 0, dc.Max.Y-dc.Min.Y-0.5*vg.Inch, 0)
		tp := figPlot()
		tp.HideAxes()
		tp.Title.Text = lc.t("at.grid.static", d.layer)
		if d.nUnrecorded() > 0 {
			tp.Title.Text += lc.t("at.grid.static.notrec")
		}
		tp.Title.Text = staticTitle(tp.Title.Text)
		tp.Title.TextStyle.Font.Size = vg.Points(labelPt)
		drawPlot(head, tp)
		body := draw.Crop(dc, 0, 0, 0, -0.55*vg.Inch)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(6), PadY: vg.Points(4)}
		cmap := newRamp(seqStops, 0, 1)
		for i, h := range d.heads {
			p := figPlot()
			p.Title.Text = staticText(lc.t("at.head", h))
			p.Title.TextStyle.Font.Size = vg.Points(tickPt)
			p.HideAxes()
			p.Add(&raster{m: d.ms[i], cmap: cmap})
			p.X.Min, p.X.Max = 0, float64(d.ms[i].cols)
			p.Y.Min, p.Y.Max = 0, float64(d.ms[i].rows)
			drawPlot(tiles.At(body, i%cols, i/cols), p)
		}
		return nil
	}}
}

// newTokenRow is the attention of one generating step's new token: its
// query position q and label, the key labels ("position token", or a
// position range for the recorder's block averages of keyStride keys), and
// per key column the head's probability and the mean over the layer's
// heads.
type newTokenRow struct {
	step, q, window, keyStride int
	query                      string
	keys                       []string
	probs, mean                []float64
}

// newTokenData is what the new-token attention chart shows: one row per
// step that generated a token (decode or recompute), in order, and the same
// rows as a steps × key positions matrix for the static form.
type newTokenData struct {
	layer, head int
	rows        []newTokenRow
	grid        *matrix
}

// newTokenAttentionData gathers the new token's attention row of layer and
// head at every generating step. Errors wrap ErrRange for indices outside
// the model, ErrNoData when no generating step recorded attention and
// ErrInvalid for inconsistent positions.
func newTokenAttentionData(tr *trace.Trace, layer, head int) (newTokenData, error) {
	d := newTokenData{layer: layer, head: head}
	if err := checkLayerHead(tr, layer, head); err != nil {
		return d, err
	}
	if err := checkSteps(tr); err != nil {
		return d, err
	}
	for _, st := range tr.Steps {
		if !st.Kind.Generates() || layer >= len(st.Attention) || st.NQuery <= 0 {
			continue
		}
		la := st.Attention[layer]
		if head >= len(la.Probs) || len(la.Probs[head]) == 0 {
			return d, fmt.Errorf("step %d: layer %d has no head %d: %w", st.Index, layer, head, ErrRange)
		}
		d.rows = append(d.rows, newTokenRowOf(tr, st, la, head))
	}
	if len(d.rows) == 0 {
		return d, fmt.Errorf("layer %d: decode steps with attention: %w", layer, ErrNoData)
	}
	d.grid = d.stepMatrix(tr)
	return d, nil
}

// newTokenRowOf is the last query row of one step's attention la.
func newTokenRowOf(tr *trace.Trace, st trace.Step, la trace.LayerAttention, head int) newTokenRow {
	q := st.QueryStart + st.NQuery - 1
	r := newTokenRow{step: st.Index, q: q, window: st.WindowStart, keyStride: max(1, la.KeyStride), query: tokenLabel(tr, q)}
	lastRow := func(h int) []float32 {
		rows := la.Probs[h]
		if len(rows) == 0 {
			return nil
		}
		return rows[len(rows)-1]
	}
	src := lastRow(head)
	for k := 0; k < (q-st.WindowStart)/r.keyStride+1 && k < len(src); k++ {
		r.probs = append(r.probs, float64(src[k]))
		var sum float64
		nh := 0
		for h := range la.Probs {
			if row := lastRow(h); k < len(row) {
				sum += float64(row[k])
				nh++
			}
		}
		r.mean = append(r.mean, sum/float64(max(1, nh)))
		p := r.window + k*r.keyStride
		if r.keyStride == 1 {
			r.keys = append(r.keys, tokenLabel(tr, p))
		} else {
			r.keys = append(r.keys, fmt.Sprintf("%d–%d", p, min(p+r.keyStride, q+1)-1))
		}
	}
	return r
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
	lc := settingsOf(options)
	d, err := newTokenAttentionData(tr, layer, head)
	if err != nil {
		return nil, fmt.Errorf("new-token attention: %w", err)
	}
	var notes []string
	for _, r := range d.rows {
		if r.keyStride > 1 {
			notes = append(notes, lc.t("nw.note", lc.t("at.lh", layer, head), r.keyStride))
			break
		}
	}
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("new-token attention: %w", err)
	}
	return &Chart{
		ID:       fmt.Sprintf("attn-new-l%d-h%d", layer, head),
		Title:    lc.t("nw.title", layer, head),
		Subtitle: lc.t("slider"),
		Option:   option,
		Height:   460,
		Notes:    notes,
		static:   d.figure(lc.static()),
	}, nil
}

// option is the interactive form: a base option with the slider and one
// option per step with its bars.
func (d newTokenData) option(lc settings) (json.RawMessage, error) {
	base, err := d.baseOption(lc)
	if err != nil {
		return nil, err
	}
	stepOptions := make([]any, len(d.rows))
	for i, r := range d.rows {
		if stepOptions[i], err = r.option(lc, d.layer, d.head); err != nil {
			return nil, fmt.Errorf("step %d: %w", r.step, err)
		}
	}
	return jsonOf(map[string]any{"baseOption": base, "options": stepOptions})
}

// baseOption holds what every step shares: axes, legend, slider.
func (d newTokenData) baseOption(lc settings) (map[string]any, error) {
	var keys []string
	steps := make([]string, len(d.rows))
	for i, r := range d.rows {
		keys = append(keys, r.keys...)
		steps[i] = strconv.Itoa(r.step)
	}
	base := charts.NewBar()
	base.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis", AxisPointer: &opts.AxisPointer{Type: "shadow"}}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10", Top: "40"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "40", Top: "80", Bottom: strconv.Itoa(70 + labelRoom(keys, 50))}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: 50, FontSize: 10}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("nw.attention"), Min: 0, Max: 1, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	base.AddSeries(lc.t("at.lh", d.layer, d.head), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: keptHex}))
	base.AddSeries(lc.t("at.mean", d.layer), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#9ecae1"}))
	tree, err := treeOf(base)
	if err != nil {
		return nil, err
	}
	tree["timeline"] = timeline(steps)
	return tree, nil
}

// option is one step's part of the timeline: title, key labels, bars.
func (r newTokenRow) option(lc settings, layer, head int) (map[string]any, error) {
	b := charts.NewBar()
	b.SetGlobalOptions(charts.WithTitleOpts(opts.Title{
		Title:      lc.t("nw.step", r.step, r.query, r.window, r.q),
		TitleStyle: &opts.TextStyle{FontSize: 14},
	}))
	b.SetXAxis(r.keys)
	b.AddSeries(lc.t("at.lh", layer, head), nil)
	b.AddSeries(lc.t("at.mean", layer), nil)
	t, err := treeOf(b)
	if err != nil {
		return nil, err
	}
	objAt(t, "series", 0)["data"] = nums{V: r.probs, Digits: 3}
	objAt(t, "series", 1)["data"] = nums{V: r.mean, Digits: 3}
	return map[string]any{"title": t["title"], "xAxis": t["xAxis"], "series": t["series"]}, nil
}

// stepMatrix is the static form's data: generating steps × key positions
// 0…last query (block-averaged to at most MaxSide columns), a stored block
// average spread over its keys. Row labels are "step token" (English;
// figure relabels them).
func (d newTokenData) stepMatrix(tr *trace.Trace) *matrix {
	en := settings{}
	nPos := 0
	for _, r := range d.rows {
		nPos = max(nPos, r.q+1)
	}
	colStride := strideFor(nPos, MaxSide)
	m := newMatrix(len(d.rows), nPos, 1, colStride)
	m.rowLabels = make([]string, len(d.rows))
	for i, r := range d.rows {
		for k, v := range r.probs {
			k0 := r.window + k*r.keyStride
			for p := k0; p < k0+r.keyStride && p <= r.q; p++ {
				m.add(i, p, v)
			}
		}
		m.rowLabels[i] = en.t("nw.row", r.step, r.query)
	}
	m.colLabels = positionLabels(tr, 0, m.cols, colStride, nPos)
	return m
}

// figure is the static form in en's language: the steps × keys heatmap.
func (d newTokenData) figure(en settings) *staticFig {
	h := vg.Length(math.Min(9, 2.5+0.16*float64(len(d.rows)))) * vg.Inch
	m := *d.grid
	m.rowLabels = make([]string, len(d.rows))
	for i, r := range d.rows {
		m.rowLabels[i] = en.t("nw.row", r.step, r.query)
	}
	return &staticFig{w: 8 * vg.Inch, h: h,
		draw: heatPlot(en, en.t("nw.title", d.layer, d.head), en.t("at.key"), en.t("nw.static.y"), &m, newRamp(seqStops, 0, 1))}
}
