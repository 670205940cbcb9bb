package viz

import (
	"fmt"
	"math"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
)

// KVFormula is the size of a float32 KV cache in words.
const KVFormula = "bytes = 2 (keys and values) × n_layer × positions × n_embd × 4 (bytes per float32)"

// KVFormulaFor is KVFormula with the numbers of one step filled in, e.g.
// "2 × 12 × 128 × 768 × 4 = 9,437,184 bytes (9.44 MB)".
func KVFormulaFor(cfg arch.Config, positions int, options ...Option) string {
	b := cfg.KVBytes(positions)
	return settingsOf(options).t("kv.numbers", cfg.NLayer, positions, cfg.NEmbd, formatBytes(b), fmtSig(float64(b)/1e6, 3))
}

// stepPositions is the number of cached positions after a step: the largest
// over layers.
func stepPositions(st trace.Step) int {
	n := 0
	for _, p := range st.KV.Positions {
		n = max(n, p)
	}
	return n
}

// KVSize charts the KV cache's size after every step (prefill = step 0) as a
// line of bytes (left axis) and cached positions (right axis). The subtitle
// gives the formula, bytes = 2 × n_layer × positions × n_embd × 4, with the
// last step's numbers; a marker shows the first step at which a token left
// the full context window. ID "kv-bytes". It returns an error wrapping
// ErrNoData when the trace has no steps.
func KVSize(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc, en := settingsOf(options), settings{}
	if len(tr.Steps) == 0 {
		return nil, fmt.Errorf("KV cache size: steps: %w", ErrNoData)
	}
	n := len(tr.Steps)
	labels := make([]string, n)
	bytes, pos := make([]float64, n), make([]float64, n)
	for i, st := range tr.Steps {
		labels[i] = strconv.Itoa(st.Index)
		if st.Kind == trace.Prefill {
			labels[i] += " " + lc.t("kv.prefill")
		}
		bytes[i], pos[i] = float64(st.KV.Bytes), float64(stepPositions(st))
	}
	last := tr.Steps[n-1]
	sub := lc.t("kv.formula") + "\n" + lc.t("kv.last", KVFormulaFor(tr.Model.Config, stepPositions(last), options...))
	if rec := tr.Model.Config.KVBytes(stepPositions(last)); rec != last.KV.Bytes {
		sub += lc.t("kv.recorded", formatBytes(last.KV.Bytes))
	}
	bName, pName := lc.t("kv.bytes"), lc.t("kv.cached")
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: sub}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10", Top: "40"}),
		charts.WithGridOpts(opts.Grid{Left: "90", Right: "70", Top: "90", Bottom: "60"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: lc.t("step"), AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("kv.bytesax"), Min: 0, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	line.SetXAxis(labels)
	line.ExtendYAxis(opts.YAxis{Type: "value", Name: lc.t("kv.posax"), Min: 0, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}, SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	bOpts := []charts.SeriesOpts{charts.WithItemStyleOpts(opts.ItemStyle{Color: "#3182bd"}), charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.15)})}
	if len(tr.Evictions) > 0 {
		first := tr.Evictions[0]
		for i, st := range tr.Steps {
			if st.Index == first.Step {
				bOpts = append(bOpts, charts.WithMarkLineNameXAxisItemOpts(opts.MarkLineNameXAxisItem{
					Name: lc.t("kv.full"), XAxis: labels[i],
				}), charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Label: &opts.Label{Show: opts.Bool(true), Formatter: "{b}"}}))
				break
			}
		}
	}
	line.AddSeries(bName, nil, bOpts...)
	line.AddSeries(pName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#9e9ac8"}), charts.WithLineStyleOpts(opts.LineStyle{Type: "dashed"}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.YAxisIndex = 1 }))
	tree, err := treeOf(line)
	if err != nil {
		return nil, fmt.Errorf("KV cache size: %w", err)
	}
	xa := objAt(tree, "xAxis", 0)
	xa["nameLocation"], xa["nameGap"] = "middle", 28
	objAt(tree, "series", 0)["data"] = nums{V: bytes, Digits: 15}
	objAt(tree, "series", 1)["data"] = nums{V: pos, Digits: 15}
	option, err := jsonOf(tree)
	if err != nil {
		return nil, fmt.Errorf("KV cache size: %w", err)
	}
	c := &Chart{ID: "kv-bytes", Title: lc.t("kv.title"), Subtitle: sub, Option: option, Height: 360}
	c.static = &staticFig{w: 8 * vg.Inch, h: 4 * vg.Inch, draw: func(dc draw.Canvas) error {
		p := newPlot(en.t("kv.title")+"\n"+KVFormula+"\n"+KVFormulaFor(tr.Model.Config, stepPositions(last)), en.t("step"), en.t("kv.bytesax"))
		l, err := plotter.NewLine(linePoints(bytes))
		if err != nil {
			return err
		}
		l.Color = hexColor("#3182bd")
		p.Add(l)
		p.X.Tick.Marker = indexTicker(labels, 30)
		p.Y.Min = 0
		p.Draw(dc)
		return nil
	}}
	return c, nil
}

// KVHeatmap charts what the KV cache of one layer and head holds at the end
// of the run: the cached keys (left) and values (right), rows = cached
// positions (labelled "position token"), columns = the d_head dimensions.
// The colour scales are diverging and symmetric around 0, each panel's range
// ±max|x| taken from its own data (values are often much smaller than keys,
// and would look empty on the keys' scale). More than MaxSide positions are block-averaged. ID
// "kv-l{layer}-h{head}". Errors wrap ErrRange for indices outside the model
// and ErrNoData when the trace did not record that layer's cache.
func KVHeatmap(tr *trace.Trace, layer, head int, options ...Option) (*Chart, error) {
	lc, en := settingsOf(options), settings{}
	if err := checkLayerHead(tr, layer, head); err != nil {
		return nil, fmt.Errorf("KV cache heatmap: %w", err)
	}
	var kv *trace.LayerKV
	var have []int
	for i := range tr.Cache {
		have = append(have, tr.Cache[i].Layer)
		if tr.Cache[i].Layer == layer {
			kv = &tr.Cache[i]
		}
	}
	if kv == nil {
		return nil, fmt.Errorf("KV cache heatmap: layer %d (recorded: %v): %w", layer, have, ErrNoData)
	}
	if head >= len(kv.Keys) || head >= len(kv.Values) || len(kv.Keys[head]) == 0 {
		return nil, fmt.Errorf("KV cache heatmap: layer %d, head %d: %w", layer, head, ErrNoData)
	}
	keys, vals := kv.Keys[head], kv.Values[head]
	nPos := max(len(keys), len(vals))
	dHead := 0
	for _, r := range keys {
		dHead = max(dHead, len(r))
	}
	rs, cs := strideFor(nPos, MaxSide), strideFor(dHead, MaxSide)
	fill := func(rows [][]float32) *matrix {
		m := newMatrix(nPos, dHead, rs, cs)
		for p, r := range rows {
			for d, v := range r {
				m.add(p, d, float64(v))
			}
		}
		m.rowStart = kv.WindowStart
		m.rowLabels = positionLabels(tr, kv.WindowStart, m.rows, rs, kv.WindowStart+nPos)
		m.colLabels = make([]string, m.cols)
		for i := range m.colLabels {
			m.colLabels[i] = lc.t("kh.dim", i*cs)
		}
		return m
	}
	mk, mv := fill(keys), fill(vals)
	limit := func(m *matrix) float64 {
		lo, hi := m.minMax()
		lim := sig(max(math.Abs(lo), math.Abs(hi)), 3)
		if lim == 0 || math.IsNaN(lim) {
			lim = 1
		}
		return lim
	}
	limK, limV := limit(mk), limit(mv)
	title := lc.t("kh.title", layer, head)
	sub := lc.t("kh.sub", dHead, fmtSig(limK, 3), fmtSig(limV, 3))
	var notes []string
	if rs > 1 {
		sub += "\n" + lc.t("kh.rows", rs)
		notes = append(notes, lc.t("kh.note", title, formatBytes(int64(nPos)), MaxSide, rs))
	}

	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(
			opts.Grid{Left: "130", Width: "36%", Top: "80", Bottom: "50"},
			opts.Grid{Left: "56%", Width: "36%", Top: "80", Bottom: "50"},
		),
	)
	lbl := &opts.AxisLabel{Show: opts.Bool(true), FontSize: 9}
	hm.XAxisList[0] = opts.XAxis{Type: "category", Data: mk.colLabels, AxisLabel: lbl, AxisPointer: axisPointer()}
	hm.YAxisList[0] = opts.YAxis{Type: "category", Data: mk.rowLabels, Inverse: opts.Bool(true), AxisLabel: lbl, AxisPointer: axisPointer()}
	hm.ExtendXAxis(opts.XAxis{Type: "category", GridIndex: 1, Data: mv.colLabels, AxisLabel: lbl, AxisPointer: axisPointer()})
	hm.ExtendYAxis(opts.YAxis{Type: "category", GridIndex: 1, Data: mv.rowLabels, Inverse: opts.Bool(true), AxisLabel: &opts.AxisLabel{Show: opts.Bool(false)}, AxisPointer: axisPointer()})
	hm.AddSeries(lc.t("kh.key", layer, head), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}))
	hm.AddSeries(lc.t("kh.value", layer, head), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.XAxisIndex, s.YAxisIndex = 1, 1 }))
	tree, err := treeOf(hm)
	if err != nil {
		return nil, fmt.Errorf("KV cache heatmap: %w", err)
	}
	bottom := nameAxis(objAt(tree, "xAxis", 0), "d_head", mk.colLabels, 0)
	nameAxis(objAt(tree, "xAxis", 1), "d_head", mv.colLabels, 0)
	objAt(tree, "grid", 0)["bottom"], objAt(tree, "grid", 1)["bottom"] = bottom, bottom
	objAt(tree, "grid", 0)["left"] = nameAxis(objAt(tree, "yAxis", 0), lc.t("kh.pos"), mk.rowLabels, 0)
	objAt(tree, "series", 0)["data"] = mk.cellsOf(3)
	objAt(tree, "series", 1)["data"] = mv.cellsOf(3)
	// One colour scale per panel (go-echarts has no seriesIndex on a
	// visualMap): keys beside the keys, values at the right.
	vm := func(series int, lim float64, place map[string]any) map[string]any {
		m := map[string]any{
			"type": "continuous", "calculable": true, "seriesIndex": series,
			"min": sig(-lim, 3), "max": sig(lim, 3), "top": "middle", "itemWidth": 12,
			"inRange": map[string]any{"color": divStops},
		}
		for k, v := range place {
			m[k] = v
		}
		return m
	}
	tree["visualMap"] = []any{vm(0, limK, map[string]any{"left": "45%"}), vm(1, limV, map[string]any{"right": 5})}
	tree["title"] = []any{
		map[string]any{"subtext": sub, "left": 0, "top": 0},
		map[string]any{"text": lc.t("kh.keys"), "left": objAt(tree, "grid", 0)["left"], "top": 50, "textStyle": map[string]any{"fontSize": 13}},
		map[string]any{"text": lc.t("kh.values"), "left": "56%", "top": 50, "textStyle": map[string]any{"fontSize": 13}},
	}
	option, err := jsonOf(tree)
	if err != nil {
		return nil, fmt.Errorf("KV cache heatmap: %w", err)
	}
	c := &Chart{
		ID:       fmt.Sprintf("kv-l%d-h%d", layer, head),
		Title:    title,
		Subtitle: sub,
		Option:   option,
		Height:   heatHeight(mk.rows, 2*mk.cols, 150),
		Notes:    notes,
	}
	cmapK, cmapV := newRamp(divStops, -limK, limK), newRamp(divStops, -limV, limV)
	c.static = &staticFig{w: 10 * vg.Inch, h: 6 * vg.Inch, draw: func(dc draw.Canvas) error {
		half := (dc.Max.X - dc.Min.X) / 2
		left := draw.Crop(dc, 0, -half, 0, 0)
		right := draw.Crop(dc, half, 0, 0, 0)
		sk, sv := *mk, *mv // English labels for the static figure's font
		sk.colLabels = make([]string, mk.cols)
		for i := range sk.colLabels {
			sk.colLabels[i] = en.t("kh.dim", i*cs)
		}
		sv.colLabels = sk.colLabels
		if err := heatPlot(en.t("kh.key", layer, head), "d_head", en.t("kh.pos"), &sk, cmapK)(left); err != nil {
			return err
		}
		return heatPlot(en.t("kh.value", layer, head), "d_head", en.t("kh.pos"), &sv, cmapV)(right)
	}}
	return c, nil
}
