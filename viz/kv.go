package viz

import (
	"encoding/json"
	"fmt"
	"github.com/gptviz/gptviz/internal/inputfile"
	"math"
	"slices"
	"strconv"
	"strings"

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
// "2 × 12 × 128 × 768 × 4 = 9,437,184 bytes (9 MiB)".
func KVFormulaFor(cfg arch.Config, positions int, options ...Option) string {
	return kvFormula(settingsOf(options), cfg, positions)
}

func kvFormula(lc settings, cfg arch.Config, positions int) string {
	b := cfg.KVBytes(positions)
	if b < 1024 {
		return lc.t("kv.numbers.b", cfg.NLayer, positions, cfg.NEmbd, formatBytes(b))
	}
	// KiB and MiB, as the lessons' text writes sizes.
	return lc.t("kv.numbers", cfg.NLayer, positions, cfg.NEmbd, formatBytes(b), inputfile.Size(b))
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

// kvSizeData is what the KV-size chart shows, per step (prefill = step 0):
// its index, the cache's recorded bytes and cached positions; the index
// (into steps) of the first decode step at which tokens left the full
// context window, or -1, with how many tokens left then (fullEvicted), how
// many decode steps evicted and how many tokens they evicted in all
// (evictSteps, decodeEvicted); the prompt tokens dropped before the
// prefill (dropped); and the overflow policy.
type kvSizeData struct {
	cfg              arch.Config
	steps            []int
	prefill          []bool
	bytes, positions []float64
	lastPositions    int
	lastBytes        int64
	fullAt           int
	policy           string
	fullEvicted      int
	evictSteps       int
	decodeEvicted    int
	dropped          int
}

// newKVSizeData gathers every step's KV cache size. It returns an error
// wrapping ErrNoData when the trace has no steps.
func newKVSizeData(tr *trace.Trace) (kvSizeData, error) {
	n := len(tr.Steps)
	if n == 0 {
		return kvSizeData{}, fmt.Errorf("steps: %w", ErrNoData)
	}
	d := kvSizeData{cfg: tr.Model.Config, steps: make([]int, n), prefill: make([]bool, n), bytes: make([]float64, n), positions: make([]float64, n), fullAt: -1, policy: tr.OverflowOf()}
	perStep := map[int]int{} // tokens evicted at each decode step
	for _, ev := range tr.Evictions {
		if ev.Step == 0 {
			d.dropped++
			continue
		}
		if perStep[ev.Step] == 0 {
			d.evictSteps++
		}
		perStep[ev.Step]++
		d.decodeEvicted++
	}
	for i, st := range tr.Steps {
		d.steps[i], d.prefill[i] = st.Index, st.Kind == trace.Prefill
		d.bytes[i], d.positions[i] = float64(st.KV.Bytes), float64(stepPositions(st))
		if k := perStep[st.Index]; k > 0 && st.Index > 0 && d.fullAt < 0 {
			d.fullAt, d.fullEvicted = i, k
		}
	}
	last := tr.Steps[n-1]
	d.lastPositions, d.lastBytes = stepPositions(last), last.KV.Bytes
	return d, nil
}

// labels name the steps: "0 prefill", "1", "2", …
func (d kvSizeData) labels(lc settings) []string {
	out := make([]string, len(d.steps))
	for i, s := range d.steps {
		out[i] = strconv.Itoa(s)
		if d.prefill[i] {
			out[i] += " " + lc.t("kv.prefill")
		}
	}
	return out
}

// subtitle gives the formula with the last step's numbers, and the
// recorded size where it differs.
func (d kvSizeData) subtitle(lc settings) string {
	sub := lc.t("kv.formula") + "\n" + lc.t("kv.last", kvFormula(lc, d.cfg, d.lastPositions))
	if d.cfg.KVBytes(d.lastPositions) != d.lastBytes {
		sub += lc.t("kv.recorded", formatBytes(d.lastBytes))
	}
	if d.dropped > 0 {
		sub += "\n" + lc.t("kv.dropped", d.dropped)
	}
	if d.fullAt >= 0 {
		sub += "\n" + lc.t("kv.full.at", d.steps[d.fullAt], d.fullText(lc))
	}
	return sub
}

// fullText says what happened at the marked step, by policy: a block left
// and the rest was recomputed (the cache shrinks, then grows), or one
// token left per step (the cache stays full); with the tokens evicted
// during generation in all.
func (d kvSizeData) fullText(lc settings) string {
	if d.policy == trace.OverflowBlock {
		return lc.t("kv.full.block", d.fullEvicted, int(d.positions[d.fullAt]), d.decodeEvicted)
	}
	return lc.t("kv.full", d.decodeEvicted)
}

// KVSize charts the KV cache's size after every step (prefill = step 0) as a
// line of bytes (left axis) and cached positions (right axis). The subtitle
// gives the formula, bytes = 2 × n_layer × positions × n_embd × 4, with the
// last step's numbers; a marker shows the first step at which a token left
// the full context window. ID "kv-bytes". It returns an error wrapping
// ErrNoData when the trace has no steps.
func KVSize(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	d, err := newKVSizeData(tr)
	if err != nil {
		return nil, fmt.Errorf("KV cache size: %w", err)
	}
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("KV cache size: %w", err)
	}
	return &Chart{ID: "kv-bytes", Title: lc.t("kv.title"), Subtitle: d.subtitle(lc), Option: option, Height: 360, static: d.figure(lc.static())}, nil
}

// option is the interactive form: bytes and positions over the steps.
func (d kvSizeData) option(lc settings) (json.RawMessage, error) {
	labels := d.labels(lc)
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: d.subtitle(lc)}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "90", Right: "80", Top: strconv.Itoa(76 + 16*strings.Count(d.subtitle(lc), "\n")), Bottom: "75"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: lc.t("step"), AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("kv.bytesax"), Min: 0, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	line.SetXAxis(labels)
	line.ExtendYAxis(opts.YAxis{Type: "value", Name: lc.t("kv.posax"), Min: 0, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}, SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	bOpts := []charts.SeriesOpts{charts.WithItemStyleOpts(opts.ItemStyle{Color: "#3182bd"}), charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.15)})}
	if d.fullAt >= 0 {
		bOpts = append(bOpts, charts.WithMarkLineNameXAxisItemOpts(opts.MarkLineNameXAxisItem{
			Name: lc.t("kv.full.short"), XAxis: labels[d.fullAt],
		}), charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"}, Label: &opts.Label{Show: opts.Bool(true), Formatter: "{b}"}}))
	}
	line.AddSeries(lc.t("kv.bytes"), nil, bOpts...)
	line.AddSeries(lc.t("kv.cached"), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#9e9ac8"}), charts.WithLineStyleOpts(opts.LineStyle{Type: "dashed"}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.YAxisIndex = 1 }))
	tree, err := treeOf(line)
	if err != nil {
		return nil, err
	}
	xa := objAt(tree, "xAxis", 0)
	xa["nameLocation"], xa["nameGap"] = "middle", 28
	// The axis names stand beside the axes, not above them, where the
	// "window full" marker's label would overlap them.
	// Bytes are positions × a constant, so both axes end at the run's
	// largest value: the two lines then coincide instead of crossing on
	// scales that merely look alike.
	for i, v := range [][]float64{d.bytes, d.positions} {
		ya := objAt(tree, "yAxis", i)
		ya["nameLocation"], ya["nameGap"] = "middle", []int{70, 45}[i]
		if m := slices.Max(v); m > 0 {
			ya["max"] = m
		}
	}
	objAt(tree, "series", 0)["data"] = nums{V: d.bytes, Digits: 15}
	objAt(tree, "series", 1)["data"] = nums{V: d.positions, Digits: 15}
	return jsonOf(tree)
}

// figure is the static form in en's language: the line of bytes.
func (d kvSizeData) figure(en settings) *staticFig {
	return &staticFig{w: 8 * vg.Inch, h: 4 * vg.Inch, draw: func(dc draw.Canvas) error {
		p := newPlot(en.t("kv.title")+"\n"+en.t("kv.formula")+"\n"+kvFormula(en, d.cfg, d.lastPositions), en.t("step"), en.t("kv.bytesax"))
		l, err := plotter.NewLine(linePoints(d.bytes))
		if err != nil {
			return err
		}
		l.Color = hexColor("#3182bd")
		p.Add(l)
		p.X.Tick.Marker = indexTicker(d.labels(en), 30)
		p.Y.Min = 0
		drawPlot(dc, p)
		return nil
	}}
}

// kvHeadData is what the KV-cache heatmap shows: the cached keys and values
// of one layer and head at the end of the run, positions × d_head (rows
// labelled "position token", columns unlabelled: see dimLabels), each
// block-averaged to at most MaxSide per side, and each panel's colour limit
// ±lim (max |x|, 3 significant digits; 1 when all are 0).
type kvHeadData struct {
	layer, head          int
	keys, values         *matrix
	nPos, dHead          int
	rowStride, colStride int
	limK, limV           float64
}

// newKVHeadData gathers the cache of layer and head. Errors wrap ErrRange
// for indices outside the model and ErrNoData when the trace did not
// record that layer's (or head's) cache.
func newKVHeadData(tr *trace.Trace, layer, head int) (kvHeadData, error) {
	if err := checkLayerHead(tr, layer, head); err != nil {
		return kvHeadData{}, err
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
		return kvHeadData{}, fmt.Errorf("layer %d (recorded: %v): %w", layer, have, ErrNoData)
	}
	if head >= len(kv.Keys) || head >= len(kv.Values) || len(kv.Keys[head]) == 0 {
		return kvHeadData{}, fmt.Errorf("layer %d, head %d: %w", layer, head, ErrNoData)
	}
	keys, vals := kv.Keys[head], kv.Values[head]
	d := kvHeadData{layer: layer, head: head, nPos: max(len(keys), len(vals))}
	for _, r := range keys {
		d.dHead = max(d.dHead, len(r))
	}
	d.rowStride, d.colStride = strideFor(d.nPos, MaxSide), strideFor(d.dHead, MaxSide)
	fill := func(rows [][]float32) *matrix {
		m := newMatrix(d.nPos, d.dHead, d.rowStride, d.colStride)
		for p, r := range rows {
			for i, v := range r {
				m.add(p, i, float64(v))
			}
		}
		m.rowStart = kv.WindowStart
		m.rowLabels = positionLabels(tr, kv.WindowStart, m.rows, d.rowStride, kv.WindowStart+d.nPos)
		return m
	}
	d.keys, d.values = fill(keys), fill(vals)
	d.limK, d.limV = symmetricLimit(d.keys), symmetricLimit(d.values)
	return d, nil
}

// symmetricLimit is the colour limit of a diverging scale over m: max |x|
// to 3 significant digits, 1 when that is 0.
func symmetricLimit(m *matrix) float64 {
	lo, hi := m.minMax()
	lim := sig(max(math.Abs(lo), math.Abs(hi)), 3)
	if lim == 0 || math.IsNaN(lim) {
		lim = 1
	}
	return lim
}

// withDims returns a copy of m with its columns labelled "dim i".
func (d kvHeadData) withDims(m *matrix, lc settings) *matrix {
	c := *m
	c.colLabels = make([]string, m.cols)
	for i := range c.colLabels {
		c.colLabels[i] = lc.t("kh.dim", i*d.colStride)
	}
	return &c
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
	lc := settingsOf(options)
	d, err := newKVHeadData(tr, layer, head)
	if err != nil {
		return nil, fmt.Errorf("KV cache heatmap: %w", err)
	}
	title := lc.t("kh.title", layer, head)
	sub := lc.t("kh.sub", d.dHead, fmtSig(d.limK, 3), fmtSig(d.limV, 3))
	var notes []string
	if d.rowStride > 1 {
		sub += "\n" + lc.t("kh.rows", d.rowStride)
		notes = append(notes, lc.t("kh.note", title, formatBytes(int64(d.nPos)), MaxSide, d.rowStride))
	}
	option, err := d.option(lc, sub)
	if err != nil {
		return nil, fmt.Errorf("KV cache heatmap: %w", err)
	}
	return &Chart{
		ID:       fmt.Sprintf("kv-l%d-h%d", layer, head),
		Title:    title,
		Subtitle: sub,
		Option:   option,
		Height:   heatHeight(d.keys.rows, 2*d.keys.cols, 150),
		Notes:    notes,
		static:   d.figure(lc.static()),
	}, nil
}

// option is the interactive form: two heatmaps side by side, each with its
// own diverging colour scale.
func (d kvHeadData) option(lc settings, sub string) (json.RawMessage, error) {
	mk, mv := d.withDims(d.keys, lc), d.withDims(d.values, lc)
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
	hm.AddSeries(lc.t("kh.key", d.layer, d.head), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}))
	hm.AddSeries(lc.t("kh.value", d.layer, d.head), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.XAxisIndex, s.YAxisIndex = 1, 1 }))
	tree, err := treeOf(hm)
	if err != nil {
		return nil, err
	}
	bottom := nameAxis(objAt(tree, "xAxis", 0), "d_head", mk.colLabels, 0)
	nameAxis(objAt(tree, "xAxis", 1), "d_head", mv.colLabels, 0)
	objAt(tree, "grid", 0)["bottom"], objAt(tree, "grid", 1)["bottom"] = bottom, bottom
	objAt(tree, "grid", 0)["left"] = nameAxis(objAt(tree, "yAxis", 0), lc.t("kh.pos"), mk.rowLabels, 0)
	objAt(tree, "series", 0)["data"] = mk.cellsOf(3)
	objAt(tree, "series", 1)["data"] = mv.cellsOf(3)
	// One colour scale per panel (go-echarts has no seriesIndex on a
	// visualMap): keys beside the keys, values at the right.
	tree["visualMap"] = []any{
		divergingVisualMap(0, d.limK, "left", "45%"),
		divergingVisualMap(1, d.limV, "right", 5),
	}
	tree["title"] = []any{
		map[string]any{"subtext": sub, "left": 0, "top": 0},
		map[string]any{"text": lc.t("kh.keys"), "left": objAt(tree, "grid", 0)["left"], "top": 50, "textStyle": map[string]any{"fontSize": 13}},
		map[string]any{"text": lc.t("kh.values"), "left": "56%", "top": 50, "textStyle": map[string]any{"fontSize": 13}},
	}
	return jsonOf(tree)
}

// divergingVisualMap is the colour scale ±lim of one series, placed at
// side (left or right) = at.
func divergingVisualMap(series int, lim float64, side string, at any) map[string]any {
	return map[string]any{
		"type": "continuous", "calculable": true, "seriesIndex": series,
		"min": sig(-lim, 3), "max": sig(lim, 3), "top": "middle", "itemWidth": 12,
		"inRange": map[string]any{"color": divStops}, side: at,
	}
}

// figure is the static form in en's language: keys left, values right.
func (d kvHeadData) figure(en settings) *staticFig {
	cmapK, cmapV := newRamp(divStops, -d.limK, d.limK), newRamp(divStops, -d.limV, d.limV)
	return &staticFig{w: 10 * vg.Inch, h: 6 * vg.Inch, draw: func(dc draw.Canvas) error {
		half := (dc.Max.X - dc.Min.X) / 2
		left := draw.Crop(dc, 0, -half, 0, 0)
		right := draw.Crop(dc, half, 0, 0, 0)
		if err := heatPlot(en, en.t("kh.key", d.layer, d.head), "d_head", en.t("kh.pos"), d.withDims(d.keys, en), cmapK)(left); err != nil {
			return err
		}
		return heatPlot(en, en.t("kh.value", d.layer, d.head), "d_head", en.t("kh.pos"), d.withDims(d.values, en), cmapV)(right)
	}}
}
