package viz

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gptviz/gptviz/model/trace"
)

// Bounds of the KV-cache-over-time chart, whose slider repeats the cache
// for every step it shows.
const (
	// MaxKVFrames is the most steps its slider shows; a longer run shows
	// that many, evenly spaced, the prefill and the last step included.
	MaxKVFrames = 64
	// MaxKVCells is the most heatmap cells of all its steps together (keys
	// and values); positions are block-averaged to stay under it.
	MaxKVCells = 200_000
)

// writtenHex marks the rows a step wrote into the KV cache.
const writtenHex = "#e6550d"

// kvFrame is the focus head's KV cache as of one step: positions 0..end-1
// of the run, of which window..end-1 are cached and written..end-1 were
// written by this step (the new token's row on a decode step, the whole
// window on the prefill and on a recompute). keys[p] and values[p] are the
// rows of position p, nil where evicted or not recorded (the step that
// wrote it recorded more rows than the trace's bound).
type kvFrame struct {
	step                  int
	kind                  trace.StepKind
	window, written, end  int
	keys, values          [][]float32
	evictedHere, rewrites int // tokens evicted at this step; rows rewritten (recompute) or 0
}

// known reports whether row p's contents are in the frame.
func (f kvFrame) known(p int) bool { return p >= f.window && p < f.end && f.keys[p] != nil }

// kvTimeData is what the KV-cache-over-time chart shows: the frames of
// the steps on its slider (every step, or MaxKVFrames evenly spaced), the
// focus layer and head (Step.KVWrite's), the blocks of rowStride positions
// drawn as one row, each panel's colour limit ±lim (max |x| over every
// frame, 3 significant digits), and, for the static form, the key norm of
// the focus layer (all heads) per cached position after every step
// (steps × positions; a cell without data is not in the cache).
type kvTimeData struct {
	layer, head, dHead int
	frames             []kvFrame
	steps              int // steps in the trace; len(frames) when none were skipped
	nPos               int // positions of the run
	rowStride          int
	limK, limV         float64
	labels             []string // position blocks 0..nPos-1
	norms              *matrix
}

// newKVTimeData rebuilds the focus head's KV cache after every step from
// the rows each step wrote (Step.KVWrite). Errors wrap ErrNoData when a
// step did not record what it wrote (traces from before gptviz recorded
// it) and ErrInvalid when the steps disagree on the focus or a write does
// not fit the run.
func newKVTimeData(tr *trace.Trace) (kvTimeData, error) {
	var d kvTimeData
	if err := checkSteps(tr); err != nil {
		return d, err
	}
	n := len(tr.Tokens)
	d.nPos, d.steps = n, len(tr.Steps)
	keys, values := make([][]float32, n), make([][]float32, n)
	norm := make([]float64, n)
	keep := framesShown(len(tr.Steps), MaxKVFrames)
	d.norms = newMatrix(len(tr.Steps), n, 1, strideFor(n, MaxSide))
	evicted := map[int]int{}
	for _, e := range tr.Evictions {
		evicted[e.Step]++
	}
	for i, st := range tr.Steps {
		w := st.KVWrite
		if w == nil {
			return d, fmt.Errorf("step %d: what it wrote into the KV cache (kv_write): %w", st.Index, ErrNoData)
		}
		end := w.Start + w.N
		if i == 0 {
			d.layer, d.head = w.Layer, w.Head
		}
		if w.Layer != d.layer || w.Head != d.head || w.Start < 0 || end > n || w.From < w.Start || w.From > end ||
			len(w.Keys) != end-w.From || len(w.Values) != end-w.From || w.Layer >= len(w.KeyNorm) || len(w.KeyNorm[w.Layer]) != w.N {
			return d, fmt.Errorf("step %d: kv_write (layer %d, head %d, rows %d+%d) does not fit the run: %w", st.Index, w.Layer, w.Head, w.Start, w.N, ErrInvalid)
		}
		if st.Kind != trace.Decode { // the whole window is rewritten
			clear(keys)
			clear(values)
		}
		for p := w.Start; p < end; p++ {
			keys[p], values[p] = nil, nil
			norm[p] = float64(w.KeyNorm[w.Layer][p-w.Start])
		}
		for j := range w.Keys {
			keys[w.From+j], values[w.From+j] = w.Keys[j], w.Values[j]
			for _, v := range w.Keys[j] {
				d.limK = max(d.limK, math.Abs(float64(v)))
			}
			for _, v := range w.Values[j] {
				d.limV = max(d.limV, math.Abs(float64(v)))
			}
			d.dHead = max(d.dHead, len(w.Keys[j]), len(w.Values[j]))
		}
		window := st.WindowStart
		for p := window; p < end; p++ {
			d.norms.add(i, p, norm[p])
		}
		if !keep[i] {
			continue
		}
		f := kvFrame{step: st.Index, kind: st.Kind, window: window, written: w.Start, end: end,
			keys: append([][]float32(nil), keys[:end]...), values: append([][]float32(nil), values[:end]...), evictedHere: evicted[st.Index]}
		if st.Kind == trace.Recompute {
			f.rewrites = w.N
		}
		d.frames = append(d.frames, f)
	}
	d.limK, d.limV = limitOf(d.limK), limitOf(d.limV)
	d.rowStride = kvTimeStride(d.frames, n, max(d.dHead, 1))
	d.labels = positionLabels(tr, 0, (n+d.rowStride-1)/d.rowStride, d.rowStride, n)
	d.norms.rowLabels = make([]string, len(tr.Steps))
	for i, st := range tr.Steps {
		d.norms.rowLabels[i] = strconv.Itoa(st.Index)
	}
	d.norms.colLabels = positionLabels(tr, 0, d.norms.cols, d.norms.colStride, n)
	return d, nil
}

// limitOf is a colour limit: x to 3 significant digits, 1 when 0.
func limitOf(x float64) float64 {
	if l := sig(x, 3); l > 0 && !math.IsInf(l, 0) {
		return l
	}
	return 1
}

// framesShown marks which of n steps a slider of at most most frames shows:
// all of them, or most evenly spaced with the first and the last.
func framesShown(n, most int) []bool {
	keep := make([]bool, n)
	if n <= most {
		for i := range keep {
			keep[i] = true
		}
		return keep
	}
	for k := 0; k < most; k++ {
		keep[k*(n-1)/(most-1)] = true
	}
	return keep
}

// kvTimeStride is the block of positions drawn as one row: at least
// enough for MaxSide rows, and enough for all frames' keys and values to
// stay within MaxKVCells.
func kvTimeStride(frames []kvFrame, nPos, dHead int) int {
	s := strideFor(nPos, MaxSide)
	cols := (dHead + strideFor(dHead, MaxSide) - 1) / strideFor(dHead, MaxSide)
	for ; s < nPos; s++ {
		total := 0
		for _, f := range frames {
			total += 2 * cols * ((f.end + s - 1) / s)
		}
		if total <= MaxKVCells {
			break
		}
	}
	return s
}

// kvStatus is what a block of positions is in one frame: its status
// column's value.
type kvStatus int

const (
	kvKept        kvStatus = iota // in the cache since an earlier step
	kvWritten                     // written at this step: the prefill or a decode step's new row
	kvRewritten                   // rewritten by this step's recompute
	kvEvicted                     // left the context window
	kvNotRecorded                 // in the cache, but the trace kept no row of it in full
)

// statusHex are the colours of the status column, by kvStatus.
var statusHex = [...]string{kvKept: "#9ecae1", kvWritten: writtenHex, kvRewritten: "#fdae6b", kvEvicted: maskedHex, kvNotRecorded: notRecordedHex}

// statusKeys are the legend phrases of the status column, by kvStatus.
var statusKeys = [...]string{kvKept: "kt.kept", kvWritten: "kt.written", kvRewritten: "kt.rewritten", kvEvicted: "kt.evicted", kvNotRecorded: "notrec.legend"}

// kvTimeFrame is one frame drawn: its keys and values block-averaged, and
// the status of each block of positions 0..end-1.
type kvTimeFrame struct {
	keys, values *matrix
	status       []kvStatus
}

// blocks is the frame's data at the chart's stride. A block takes the
// first status that holds for any of its positions, in the order written
// (or rewritten), kept, not recorded; evicted when all its positions are.
func (d kvTimeData) blocks(f kvFrame) kvTimeFrame {
	s := d.rowStride
	cs := strideFor(d.dHead, MaxSide)
	out := kvTimeFrame{keys: newMatrix(f.end, d.dHead, s, cs), values: newMatrix(f.end, d.dHead, s, cs)}
	for p := f.window; p < f.end; p++ {
		if !f.known(p) {
			continue
		}
		for i, v := range f.keys[p] {
			out.keys.add(p, i, float64(v))
		}
		for i, v := range f.values[p] {
			out.values.add(p, i, float64(v))
		}
	}
	out.status = make([]kvStatus, out.keys.rows)
	for b := range out.status {
		lo, hi := b*s, min((b+1)*s, f.end)
		switch {
		case hi > f.written:
			out.status[b] = kvWritten
			if f.kind == trace.Recompute {
				out.status[b] = kvRewritten
			}
		case hi <= f.window:
			out.status[b] = kvEvicted
		default:
			out.status[b] = kvNotRecorded
			for p := max(lo, f.window); p < hi; p++ {
				if f.known(p) {
					out.status[b] = kvKept
				}
			}
		}
	}
	return out
}

// KVOverTime charts the KV cache of one layer and head over the run, with
// a step slider (ECharts timeline): after each step, the keys (left) and
// values (right) of every cached position, rebuilt from what each step
// wrote (Step.KVWrite; its focus layer and head). A status column left of
// the keys says what each row is at that step: written (the new token's on
// a decode step, every row on the prefill), rewritten (every row on a
// recompute), kept from an earlier step, evicted (grey) or not recorded in
// full (sand), with a legend. At most MaxKVFrames steps and MaxKVCells
// cells; Notes say what was
// left out. The static form is a heatmap of steps × positions: the key
// norm of the layer (all heads) per cached position. ID
// "kv-time-l{layer}-h{head}". Errors wrap ErrNoData when the trace did not
// record what each step wrote, ErrInvalid when it contradicts itself.
func KVOverTime(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	d, err := newKVTimeData(tr)
	if err != nil {
		return nil, fmt.Errorf("KV cache over time: %w", err)
	}
	var notes []string
	if len(d.frames) < d.steps {
		notes = append(notes, lc.t("kt.note.steps", len(d.frames), d.steps))
	}
	if d.rowStride > 1 {
		notes = append(notes, lc.t("kt.note.rows", d.rowStride))
	}
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("KV cache over time: %w", err)
	}
	return &Chart{
		ID:       fmt.Sprintf("kv-time-l%d-h%d", d.layer, d.head),
		Title:    lc.t("kt.title", d.layer, d.head),
		Subtitle: d.subtitle(lc),
		Option:   option,
		Height:   heatHeight((d.nPos+d.rowStride-1)/d.rowStride, 2*d.dHead, 210),
		Notes:    notes,
		static:   d.figure(lc.static()),
	}, nil
}

// subtitle says how to read the chart.
func (d kvTimeData) subtitle(lc settings) string {
	s := lc.t("kt.sub", d.dHead, fmtSig(d.limK, 3), fmtSig(d.limV, 3))
	if d.rowStride > 1 {
		s += "\n" + lc.t("kh.rows", d.rowStride)
	}
	return s
}

// option is the interactive form: a base option (two grids, colour
// scales, legend of the marks, slider) and one option per frame.
func (d kvTimeData) option(lc settings) (json.RawMessage, error) {
	base, err := d.baseOption(lc)
	if err != nil {
		return nil, err
	}
	frames := make([]any, len(d.frames))
	for i, f := range d.frames {
		frames[i] = d.frameOption(lc, f)
	}
	return jsonOf(map[string]any{"baseOption": base, "options": frames})
}

// dimLabels are the d_head columns: "dim i".
func (d kvTimeData) dimLabels(lc settings) []string {
	cs := strideFor(d.dHead, MaxSide)
	out := make([]string, (d.dHead+cs-1)/cs)
	for i := range out {
		out[i] = lc.t("kh.dim", i*cs)
	}
	return out
}

// baseOption holds what every frame shares: the status column, keys
// and values grids, their colour scales, the status legend and the slider.
func (d kvTimeData) baseOption(lc settings) (map[string]any, error) {
	dims := d.dimLabels(lc)
	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(
			opts.Grid{Left: "170", Width: "30%", Top: "110", Bottom: "90"},
			opts.Grid{Left: "58%", Width: "30%", Top: "110", Bottom: "90"},
			opts.Grid{Left: "130", Width: "30", Top: "110", Bottom: "90"},
		),
	)
	lbl := &opts.AxisLabel{Show: opts.Bool(true), FontSize: 9}
	hidden := &opts.AxisLabel{Show: opts.Bool(false)}
	hm.XAxisList[0] = opts.XAxis{Type: "category", Data: dims, AxisLabel: lbl}
	hm.YAxisList[0] = opts.YAxis{Type: "category", Data: d.labels, Inverse: opts.Bool(true), AxisLabel: hidden}
	hm.ExtendXAxis(opts.XAxis{Type: "category", GridIndex: 1, Data: dims, AxisLabel: lbl})
	hm.ExtendYAxis(opts.YAxis{Type: "category", GridIndex: 1, Data: d.labels, Inverse: opts.Bool(true), AxisLabel: hidden})
	hm.ExtendXAxis(opts.XAxis{Type: "category", GridIndex: 2, Data: []string{""}, AxisLabel: hidden})
	hm.ExtendYAxis(opts.YAxis{Type: "category", GridIndex: 2, Data: d.labels, Inverse: opts.Bool(true), AxisLabel: lbl})
	hm.AddSeries(lc.t("kh.key", d.layer, d.head), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}))
	hm.AddSeries(lc.t("kh.value", d.layer, d.head), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.XAxisIndex, s.YAxisIndex = 1, 1 }))
	hm.AddSeries(lc.t("kt.status"), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.XAxisIndex, s.YAxisIndex = 2, 2 }))
	tree, err := treeOf(hm)
	if err != nil {
		return nil, err
	}
	bottom := nameAxis(objAt(tree, "xAxis", 0), "d_head", dims, 0)
	nameAxis(objAt(tree, "xAxis", 1), "d_head", dims, 0)
	for g := 0; g < 3; g++ {
		objAt(tree, "grid", g)["bottom"] = bottom + 40
	}
	left := nameAxis(objAt(tree, "yAxis", 2), lc.t("position"), d.labels, 0)
	objAt(tree, "grid", 2)["left"] = left
	objAt(tree, "grid", 0)["left"] = left + 40
	pieces := make([]any, len(statusHex))
	for st, c := range statusHex {
		pieces[st] = map[string]any{"value": st, "label": lc.t(statusKeys[st]), "color": c}
	}
	tree["visualMap"] = []any{
		divergingVisualMap(0, d.limK, "left", "50%"),
		divergingVisualMap(1, d.limV, "right", 5),
		map[string]any{"type": "piecewise", "seriesIndex": 2, "pieces": pieces, "orient": "horizontal", "top": 0, "right": 10, "selectedMode": false, "itemWidth": 14},
	}
	steps := make([]string, len(d.frames))
	for i, f := range d.frames {
		steps[i] = strconv.Itoa(f.step)
	}
	tree["timeline"] = timeline(steps)
	tree["legend"] = map[string]any{"show": false}
	return tree, nil
}

// frameOption is one step's part of the timeline: title, cells, status.
func (d kvTimeData) frameOption(lc settings, f kvFrame) map[string]any {
	b := d.blocks(f)
	status := cells{Digits: 1}
	for r, st := range b.status {
		status.add(0, r, float64(st))
	}
	return map[string]any{
		"title": map[string]any{"text": d.frameTitle(lc, f), "textStyle": map[string]any{"fontSize": 13}, "top": 40, "left": 0},
		"series": []any{
			map[string]any{"data": b.keys.cellsOf(3)},
			map[string]any{"data": b.values.cellsOf(3)},
			map[string]any{"data": status},
		},
	}
}

// frameTitle says what the step did to the cache.
func (d kvTimeData) frameTitle(lc settings, f kvFrame) string {
	kind := lc.t("kind.decode")
	switch f.kind {
	case trace.Prefill:
		kind = lc.t("kind.prefill")
	case trace.Recompute:
		kind = lc.t("kind.recompute")
	}
	s := lc.t("kt.step", f.step, kind, f.window, f.end-1)
	switch {
	case f.kind == trace.Recompute:
		s += " · " + lc.t("kt.step.recompute", f.evictedHere, f.rewrites)
	case f.kind == trace.Prefill && f.window > 0:
		s += " · " + lc.t("kt.step.cropped", f.window)
	}
	return s
}

// figure is the static form in en's language: steps × positions, the key
// norm of the focus layer per cached position.
func (d kvTimeData) figure(en settings) *staticFig {
	lo, hi := d.norms.minMax()
	h := vg.Length(math.Min(9, 2.5+0.16*float64(d.norms.rows))) * vg.Inch
	return &staticFig{w: 8 * vg.Inch, h: h, draw: heatPlot(en, en.t("kt.static.title", d.layer), en.t("position"), en.t("step"), d.norms, newRamp(seqStops, min(lo, 0), hi))}
}

// kvLayerData is what the per-layer cache-size chart shows: cached
// positions after every step (columns, block-averaged to MaxSide) for
// every layer (rows), from Step.KV.Positions; same says whether every
// layer held the same number at every step.
type kvLayerData struct {
	m    *matrix
	max  int
	same bool
}

// newKVLayerData gathers Step.KV.Positions. Errors wrap ErrNoData when no
// step recorded them.
func newKVLayerData(tr *trace.Trace) (kvLayerData, error) {
	L := tr.Model.Config.NLayer
	n := len(tr.Steps)
	d := kvLayerData{same: true}
	d.m = newMatrix(L, n, 1, strideFor(n, MaxSide))
	any := false
	for i, st := range tr.Steps {
		for l, p := range st.KV.Positions {
			any = true
			d.m.add(l, i, float64(p))
			d.max = max(d.max, p)
			d.same = d.same && p == st.KV.Positions[0]
		}
	}
	if !any {
		return d, fmt.Errorf("cached positions per layer: %w", ErrNoData)
	}
	d.m.rowLabels = make([]string, L)
	for l := range d.m.rowLabels {
		d.m.rowLabels[l] = strconv.Itoa(l)
	}
	d.m.colLabels = make([]string, d.m.cols)
	for c := range d.m.colLabels {
		d.m.colLabels[c] = strconv.Itoa(tr.Steps[c*d.m.colStride].Index)
	}
	return d, nil
}

// KVLayerSizes charts how many positions each layer's KV cache holds after
// every step (prefill = step 0): a heatmap of layers × steps, more than
// MaxSide steps block-averaged. ID "kv-layers". Errors wrap ErrNoData when
// the trace recorded no cache sizes.
func KVLayerSizes(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	d, err := newKVLayerData(tr)
	if err != nil {
		return nil, fmt.Errorf("KV cache size per layer: %w", err)
	}
	sub := lc.t("kl.sub", d.max)
	if d.same {
		sub += "\n" + lc.t("kl.same")
	}
	var notes []string
	if d.m.colStride > 1 {
		sub += "\n" + lc.t("kl.cols", d.m.colStride)
		notes = append(notes, lc.t("kl.note", d.m.colStride))
	}
	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: sub}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(opts.Grid{Left: "70", Right: "90", Top: "80", Bottom: "60"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: lc.t("step"), Data: d.m.colLabels, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), FontSize: 10}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Name: lc.t("layer"), Data: d.m.rowLabels, Inverse: opts.Bool(true), AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
		charts.WithVisualMapOpts(opts.VisualMap{Calculable: opts.Bool(true), Min: 0, Max: float32(max(d.max, 1)), Right: "5", Top: "middle",
			InRange: &opts.VisualMapInRange{Color: seqStops}}),
	)
	hm.AddSeries(lc.t("kv.cached"), nil, charts.WithEncodeOpts(opts.Encode{X: 0, Y: 1, Tooltip: 2}))
	tree, err := treeOf(hm)
	if err != nil {
		return nil, fmt.Errorf("KV cache size per layer: %w", err)
	}
	xa := objAt(tree, "xAxis", 0)
	xa["nameLocation"], xa["nameGap"] = "middle", 28
	objAt(tree, "series", 0)["data"] = d.m.cellsOf(4)
	option, err := jsonOf(tree)
	if err != nil {
		return nil, fmt.Errorf("KV cache size per layer: %w", err)
	}
	en := lc.static()
	return &Chart{
		ID: "kv-layers", Title: lc.t("kl.title"), Subtitle: sub, Option: option,
		Height: 160 + 22*d.m.rows, Notes: notes,
		static: &staticFig{w: 8 * vg.Inch, h: vg.Length(math.Min(8, 2.2+0.25*float64(d.m.rows))) * vg.Inch,
			draw: func(c draw.Canvas) error {
				return heatPlot(en, en.t("kl.title"), en.t("step"), en.t("layer"), d.m, newRamp(seqStops, 0, float64(max(d.max, 1))))(c)
			}},
	}, nil
}
