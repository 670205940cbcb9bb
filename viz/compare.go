package viz

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/internal/numfmt"
	"github.com/gptviz/gptviz/model/trace"
)

// The charts of a comparison of sampling settings (gptviz compare): each
// reads a trace.Comparison, whose runs Runs[i][j] are setting i with seed
// j, and shows the runs of one seed (by its index in Seeds) side by side.

// Colours of the sampling stages, in filter order.
var stageHex = [4]string{"#9ecae1", "#6baed6", "#3182bd", "#08519c"}

// settingHex are the line colours of the compared settings, cycled.
var settingHex = []string{"#e6550d", "#3182bd", "#31a354", "#756bb1", "#636363", "#d6616b", "#8c6d31", "#17becf"}

func settingColor(i int) string { return settingHex[i%len(settingHex)] }

func init() {
	for k, v := range comparePhrases {
		phrases[k] = v
	}
}

// checkSeed returns an error wrapping ErrRange when j is not a seed index
// of c.
func checkSeed(c *trace.Comparison, j int) error {
	if j < 0 || j >= len(c.Seeds) {
		return fmt.Errorf("seed index %d: %w: the comparison has %d seeds", j, ErrRange, len(c.Seeds))
	}
	return nil
}

// stageCand is one candidate token at one step of one run: its label and
// its probability after each sampling stage (raw softmax at T = 1, after
// temperature, after top-k, after top-p, each renormalised).
type stageCand struct {
	label  string
	p      [4]float64
	chosen bool
}

// stageStep is one run's next-token distribution at one decode step, stage
// by stage: the recorded top candidates (and the chosen token after them
// when it was not among them), and how many of the top candidates survive
// top-k and top-p.
type stageStep struct {
	cands        []stageCand
	keptK, keptP int // of the top candidates (a prefix), ≤ len(top)
	nTop         int // top candidates (the chosen token may follow)
	greedy       bool
	chosen       string
}

// stagesOf computes one prediction's distribution after each sampling
// stage, for a run with temperature temp. The tempered probability of a
// recorded candidate is exact: the top candidate always survives the
// filters, so its tempered probability is its SampleProb times the mass
// top-p kept (FilterResult.Mass, on the tempered distribution), and any
// other's follows from the logit difference, p_T(i) = p_T(0)·exp((l_i −
// l_0)/T). After top-k it is p_T(i) / (mass top-k kept) for the first
// Kept; after top-p it is the recorded SampleProb. Greedy (temperature 0)
// puts everything on the argmax from the temperature stage on. It returns
// an error wrapping ErrNoData when the prediction lacks its candidates or
// filter records.
func stagesOf(p *trace.Prediction, temp float64) (stageStep, error) {
	s := stageStep{nTop: len(p.Top), greedy: p.Greedy, chosen: display(p.Chosen.Display, p.Chosen.Text, p.Chosen.ID)}
	if len(p.Top) == 0 {
		return s, fmt.Errorf("no candidates recorded: %w", ErrNoData)
	}
	var massK, massP float64
	s.keptK, s.keptP = 1, 1
	if !p.Greedy {
		var fk, fp *trace.FilterResult
		for i := range p.Filters {
			switch p.Filters[i].Name {
			case "top-k":
				fk = &p.Filters[i]
			case "top-p":
				fp = &p.Filters[i]
			}
		}
		if fk == nil || fp == nil || !(temp > 0) || !(fk.Mass > 0) || !(fp.Mass > 0) {
			return s, fmt.Errorf("sampling filters not recorded: %w", ErrNoData)
		}
		s.keptK, s.keptP, massK, massP = fk.Kept, fp.Kept, fk.Mass, fp.Mass
	}
	cands := p.Top
	found := false
	for _, c := range p.Top {
		found = found || c.ID == p.Chosen.ID
	}
	if !found {
		cands = append(cands[:len(cands):len(cands)], p.Chosen)
	}
	l0 := float64(p.Top[0].Logit)
	pT0 := p.Top[0].SampleProb * massP
	for i, c := range cands {
		sc := stageCand{label: display(c.Display, c.Text, c.ID), chosen: c.ID == p.Chosen.ID}
		sc.p[0] = c.Prob
		switch {
		case p.Greedy:
			if i == 0 {
				sc.p[1], sc.p[2], sc.p[3] = 1, 1, 1
			}
		default:
			sc.p[1] = pT0 * math.Exp((float64(c.Logit)-l0)/temp)
			if i < s.keptK || i >= len(p.Top) { // the chosen token, appended, was kept
				sc.p[2] = sc.p[1] / massK
			}
			sc.p[3] = c.SampleProb
		}
		for k := range sc.p {
			sc.p[k] = min(max(sc.p[k], 0), 1)
		}
		s.cands = append(s.cands, sc)
	}
	s.keptK, s.keptP = min(s.keptK, s.nTop), min(s.keptP, s.nTop)
	return s, nil
}

// compareStepsData is every setting's stages at every decode step, for one
// seed: steps[k][i] is step k+1 of setting i.
type compareStepsData struct {
	specs []string
	steps [][]stageStep
}

func newCompareStepsData(c *trace.Comparison, j int) (compareStepsData, error) {
	d := compareStepsData{}
	for i, set := range c.Settings {
		d.specs = append(d.specs, set.Spec)
		tr := c.Runs[i][j]
		k := 0
		for _, st := range tr.Steps {
			if st.Next == nil || !st.Kind.Generates() {
				continue
			}
			s, err := stagesOf(st.Next, set.Temperature)
			if err != nil {
				return d, fmt.Errorf("setting %d, step %d: %w", i, st.Index, err)
			}
			if i == 0 {
				d.steps = append(d.steps, make([]stageStep, len(c.Settings)))
			}
			if k >= len(d.steps) {
				return d, fmt.Errorf("setting %d: more decode steps than setting 0: %w", i, ErrInvalid)
			}
			d.steps[k][i] = s
			k++
		}
		if k != len(d.steps) {
			return d, fmt.Errorf("setting %d: %d decode steps, setting 0 has %d: %w", i, k, len(d.steps), ErrInvalid)
		}
	}
	if len(d.steps) == 0 {
		return d, fmt.Errorf("decode steps: %w", ErrNoData)
	}
	return d, nil
}

// columns returns how many grids a row of a multi-setting chart holds.
// Rows are filled evenly: 5 settings are two rows of 3, not 4 and 1.
func columns(n int) int {
	rows := (n + 3) / 4
	return (n + rows - 1) / rows
}

// CompareSteps charts, for seed index j, each setting's next-token
// distribution at one decode step, one small chart per setting side by
// side, with one step slider for all of them (ECharts timeline). Each
// shows the step's top candidates (rows, most probable first) and their
// probability after each sampling stage in filter order — the raw softmax
// (T = 1), after temperature, after top-k, after top-p — each stage
// renormalised, on one shared 0…1 axis; the candidates a filter removed
// are shaded and the sampled token marked ◀. ID "compare-steps". The
// static form draws one step (FigureStep, default the first). Errors wrap
// ErrRange for a bad seed index or figure step, ErrNoData when the runs
// have no decode steps or lack their candidates or filter records.
func CompareSteps(c *trace.Comparison, j int, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	if err := checkSeed(c, j); err != nil {
		return nil, fmt.Errorf("compare steps: %w", err)
	}
	d, err := newCompareStepsData(c, j)
	if err != nil {
		return nil, fmt.Errorf("compare steps: %w", err)
	}
	if lc.step > len(d.steps) {
		return nil, fmt.Errorf("compare steps: figure step %d: %w: the decode steps are 1 to %d", lc.step, ErrRange, len(d.steps))
	}
	option, err := d.option(lc, c.Seeds[j])
	if err != nil {
		return nil, fmt.Errorf("compare steps: %w", err)
	}
	cols := columns(len(d.specs))
	rows := (len(d.specs) + cols - 1) / cols
	return &Chart{
		ID: "compare-steps", Title: lc.t("cs.title"), Subtitle: lc.t("cs.sub"),
		Option: option, Height: 100 + rows*stepRowPx, static: d.figure(lc.static()),
	}, nil
}

// stepRowPx is the height of one row of CompareSteps' grids.
const stepRowPx = 330

func (d compareStepsData) stageNames(lc settings) [4]string {
	return [4]string{lc.t("cs.raw"), lc.t("cs.temp"), lc.t("cs.topk"), lc.t("cs.topp")}
}

// grid returns the position of grid i of n, in CSS pixels and percent.
func gridBox(i, n int) map[string]any {
	cols := columns(n)
	r, col := i/cols, i%cols
	w := 96.0 / float64(cols)
	return map[string]any{
		"left": fmt.Sprintf("%.2f%%", 2+w*float64(col)), "width": fmt.Sprintf("%.2f%%", w-3),
		"top": 110 + r*stepRowPx, "height": stepRowPx - 60, "containLabel": true,
	}
}

func (d compareStepsData) option(lc settings, seed uint64) (json.RawMessage, error) {
	n := len(d.specs)
	names := d.stageNames(lc)
	var grids, xs, ys, series, titles []any
	titles = append(titles, map[string]any{"text": "", "left": "center", "top": 0, "textStyle": map[string]any{"fontSize": 14}})
	for i, spec := range d.specs {
		box := gridBox(i, n)
		grids = append(grids, box)
		xs = append(xs, map[string]any{"type": "value", "gridIndex": i, "min": 0, "max": 1, "splitNumber": 2,
			"axisLabel": map[string]any{"fontSize": 9}})
		ys = append(ys, map[string]any{"type": "category", "gridIndex": i, "inverse": true, "data": []string{},
			"axisLabel": map[string]any{"fontSize": 10, "interval": 0}})
		titles = append(titles, map[string]any{"text": inertTemplate(spec), "left": box["left"], "top": box["top"].(int) - 24,
			"textStyle": map[string]any{"fontSize": 12, "fontWeight": "bold"}})
		for k := range 4 {
			series = append(series, map[string]any{"type": "bar", "name": names[k], "xAxisIndex": i, "yAxisIndex": i,
				"barGap": "0%", "barCategoryGap": "20%", "itemStyle": map[string]any{"color": stageHex[k]}, "data": []any{}})
		}
	}
	labels := make([]string, len(d.steps))
	for k := range d.steps {
		labels[k] = strconv.Itoa(k + 1)
	}
	tl := timeline(labels)
	tl["top"], tl["bottom"] = 30, nil
	delete(tl, "bottom")
	base := map[string]any{
		"timeline": tl,
		"title":    titles,
		"legend":   map[string]any{"top": 72, "data": names[:], "icon": "rect"},
		"tooltip":  map[string]any{"trigger": "axis", "axisPointer": map[string]any{"type": "shadow"}},
		"grid":     grids, "xAxis": xs, "yAxis": ys, "series": series,
	}
	var opts []any
	for k, row := range d.steps {
		var ys2, ss []any
		for _, s := range row {
			labels := make([]string, len(s.cands))
			for ci, cd := range s.cands {
				labels[ci] = inertTemplate(cd.label)
				if cd.chosen {
					labels[ci] += " ◀"
				}
			}
			ys2 = append(ys2, map[string]any{"data": labels})
			for st := range 4 {
				v := make([]float64, len(s.cands))
				for ci, cd := range s.cands {
					v[ci] = cd.p[st]
				}
				ser := map[string]any{"data": nums{V: v, Digits: 4}}
				if st == 3 {
					ser["markArea"] = removedArea(lc, s, labels)
				}
				ss = append(ss, ser)
			}
		}
		opts = append(opts, map[string]any{
			"title":  []any{map[string]any{"text": lc.t("cs.step", k+1, seed)}},
			"yAxis":  ys2,
			"series": ss,
		})
	}
	return jsonOf(map[string]any{"baseOption": base, "options": opts})
}

// removedArea shades the candidates the filters removed: the top
// candidates after those top-p kept (a suffix of them), labelled by the
// filter that removed the first of them.
func removedArea(lc settings, s stageStep, labels []string) map[string]any {
	area := map[string]any{"silent": true, "itemStyle": map[string]any{"color": "rgba(160,160,160,0.25)"}, "data": []any{}}
	if s.keptP >= s.nTop {
		return area
	}
	by := lc.t("cs.removed.p")
	if s.keptK <= s.keptP {
		by = lc.t("cs.removed.k")
	}
	if s.greedy {
		by = lc.t("cs.removed.g")
	}
	area["data"] = []any{[]any{
		map[string]any{"yAxis": labels[s.keptP], "name": by, "label": map[string]any{"position": "insideRight", "fontSize": 9, "color": "#555"}},
		map[string]any{"yAxis": labels[s.nTop-1]},
	}}
	return area
}

// figure draws one step (lc.step, or the first): a panel per setting.
func (d compareStepsData) figure(lc settings) *staticFig {
	k := max(lc.step, 1) - 1
	row := d.steps[k]
	cols := columns(len(row))
	rows := (len(row) + cols - 1) / cols
	const header = 0.9 * vg.Inch
	panelH := 3 * vg.Inch
	return &staticFig{w: 12 * vg.Inch, h: header + vg.Length(rows)*panelH, draw: func(dc draw.Canvas) error {
		names := d.stageNames(lc)
		head := draw.Crop(dc, 0, 0, dc.Max.Y-dc.Min.Y-header, 0)
		tp := figPlot()
		tp.HideAxes()
		tp.Title.Text = staticTitle(lc.t("cs.title") + "\n" + lc.t("cs.step.static", k+1))
		tp.Title.TextStyle.Font.Size = vg.Points(titlePt)
		l := newLegend()
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(10), PadY: vg.Points(6)}
		body := draw.Crop(dc, 0, 0, 0, -header)
		for i, s := range row {
			p := newPlot(d.specs[i], "", lc.t("probability"))
			p.Title.TextStyle.Font.Size = vg.Points(labelPt)
			labels := make([]string, len(s.cands))
			var series []barSeries
			for st := range 4 {
				v := make([]float64, len(s.cands))
				for ci, cd := range s.cands {
					v[ci] = cd.p[st]
					labels[ci] = cd.label
					if cd.chosen {
						labels[ci] += " ◀"
					}
				}
				series = append(series, barSeries{name: names[st], values: v, color: hexColor(stageHex[st])})
			}
			pl := newLegend()
			if err := drawBars(p, pl, labels, series); err != nil {
				return err
			}
			if i == 0 {
				l = pl
			}
			p.Y.Min, p.Y.Max = 0, 1
			rotateX(p)
			drawPlot(tiles.At(body, i%cols, i/cols), p)
		}
		drawWithLegend(head, tp, l)
		return nil
	}}
}

// compareLinesData is, per setting, the entropy of the raw distribution
// (T = 1), that of the distribution sampled from, and the chosen token's
// probability at T = 1, over the decode steps of one seed's runs.
type compareLinesData struct {
	specs                    []string
	entropy, sampled, chosen [][]float64
	steps                    int
}

func newCompareLinesData(c *trace.Comparison, j int) (compareLinesData, error) {
	var d compareLinesData
	for i, set := range c.Settings {
		var e, s, p []float64
		for _, st := range c.Runs[i][j].Steps {
			if st.Next == nil || !st.Kind.Generates() {
				continue
			}
			e = append(e, st.Next.Entropy)
			s = append(s, st.Next.SampleEntropy)
			p = append(p, st.Next.Chosen.Prob)
		}
		d.specs = append(d.specs, set.Spec)
		d.entropy, d.sampled, d.chosen = append(d.entropy, e), append(d.sampled, s), append(d.chosen, p)
		d.steps = max(d.steps, len(e))
	}
	if d.steps == 0 {
		return d, fmt.Errorf("decode steps: %w", ErrNoData)
	}
	return d, nil
}

// CompareLines charts, for seed index j, over the decode steps and
// overlaid across the settings (one colour each): above, the entropy of
// the model's next-token distribution at T = 1 (solid) and of the
// distribution the sampler drew from (dashed), bits; below, the chosen
// token's probability at T = 1. ID "compare-lines". Errors wrap ErrRange
// for a bad seed index, ErrNoData when the runs have no decode steps.
func CompareLines(c *trace.Comparison, j int, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	if err := checkSeed(c, j); err != nil {
		return nil, fmt.Errorf("compare lines: %w", err)
	}
	d, err := newCompareLinesData(c, j)
	if err != nil {
		return nil, fmt.Errorf("compare lines: %w", err)
	}
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("compare lines: %w", err)
	}
	return &Chart{ID: "compare-lines", Title: lc.t("cl.title"), Subtitle: lc.t("cl.sub"), Option: option, Height: 560, static: d.figure(lc.static())}, nil
}

func (d compareLinesData) option(lc settings) (json.RawMessage, error) {
	steps := make([]string, d.steps)
	for k := range steps {
		steps[k] = strconv.Itoa(k + 1)
	}
	var series []any
	for i, spec := range d.specs {
		col := map[string]any{"color": settingColor(i)}
		name := inertTemplate(spec)
		series = append(series,
			map[string]any{"type": "line", "name": name, "xAxisIndex": 0, "yAxisIndex": 0, "itemStyle": col, "lineStyle": col, "data": nums{V: d.entropy[i], Digits: 4}},
			map[string]any{"type": "line", "name": name, "xAxisIndex": 0, "yAxisIndex": 0, "itemStyle": col,
				"lineStyle": map[string]any{"color": settingColor(i), "type": "dashed"}, "symbol": "none", "data": nums{V: d.sampled[i], Digits: 4}},
			map[string]any{"type": "line", "name": name, "xAxisIndex": 1, "yAxisIndex": 1, "itemStyle": col, "lineStyle": col, "data": nums{V: d.chosen[i], Digits: 4}})
	}
	return jsonOf(map[string]any{
		"legend":  map[string]any{"top": 0, "type": "scroll"},
		"tooltip": map[string]any{"trigger": "axis"},
		"grid": []any{
			map[string]any{"left": 60, "right": 30, "top": 50, "height": 190},
			map[string]any{"left": 60, "right": 30, "top": 310, "height": 190},
		},
		"xAxis": []any{
			map[string]any{"type": "category", "gridIndex": 0, "data": steps, "name": lc.t("step"), "nameLocation": "middle", "nameGap": 24},
			map[string]any{"type": "category", "gridIndex": 1, "data": steps, "name": lc.t("step"), "nameLocation": "middle", "nameGap": 24},
		},
		"yAxis": []any{
			map[string]any{"type": "value", "gridIndex": 0, "min": 0, "name": lc.t("cl.entropy")},
			map[string]any{"type": "value", "gridIndex": 1, "min": 0, "max": 1, "name": lc.t("cl.chosen")},
		},
		"series": series,
	})
}

func (d compareLinesData) figure(lc settings) *staticFig {
	return &staticFig{w: 9 * vg.Inch, h: 7 * vg.Inch, draw: func(dc draw.Canvas) error {
		steps := make([]string, d.steps)
		for k := range steps {
			steps[k] = strconv.Itoa(k + 1)
		}
		tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(10)}
		l := newLegend()
		for panel, vals := range [][][]float64{d.entropy, d.chosen} {
			title, y := lc.t("cl.static.entropy"), lc.t("cl.entropy")
			if panel == 1 {
				title, y = lc.t("cl.chosen"), lc.t("probability")
			}
			p := newPlot(title, lc.t("step"), y)
			for i, v := range vals {
				line, err := plotter.NewLine(linePoints(v))
				if err != nil {
					return err
				}
				line.Color = hexColor(settingColor(i))
				p.Add(line)
				if panel == 0 {
					l.add(d.specs[i], line)
				}
			}
			p.X.Tick.Marker = indexTicker(steps, 30)
			p.Y.Min = 0
			if panel == 1 {
				p.Y.Max = 1
			}
			drawWithLegend(tiles.At(dc, 0, panel), p, l)
		}
		return nil
	}}
}

// CompareSummary charts the summary numbers of every run (trace.Summary):
// for each setting, the mean over the seeds as a bar and each seed's value
// as a dot, so the spread across seeds shows, in four panels: mean
// log-probability of the generated tokens at T = 1 (nats per token),
// distinct-1, distinct-2 and the repetition rate (share of repeated
// 4-grams); with one seed the title names it instead of a mean. ID
// "compare-summary". It returns an error wrapping ErrNoData when no run
// generated a token.
func CompareSummary(c *trace.Comparison, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	if c.Steps == 0 {
		return nil, fmt.Errorf("compare summary: decode steps: %w", ErrNoData)
	}
	d := newSummaryData(c)
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("compare summary: %w", err)
	}
	title := lc.t("su.title")
	if len(c.Seeds) == 1 {
		title = lc.t("su.title.one", c.Seeds[0])
	}
	return &Chart{ID: "compare-summary", Title: title, Subtitle: lc.t("su.sub"), Option: option, Height: 560, static: d.figure(lc.static())}, nil
}

// summaryData holds, per metric, per setting, the value of each seed.
type summaryData struct {
	specs []string
	vals  [4][][]float64 // [metric][setting][seed]
}

func newSummaryData(c *trace.Comparison) summaryData {
	var d summaryData
	for i, set := range c.Settings {
		d.specs = append(d.specs, set.Spec)
		for m := range d.vals {
			d.vals[m] = append(d.vals[m], nil)
		}
		for _, s := range c.Summaries[i] {
			for m, v := range []float64{s.MeanLogProb, s.Distinct1, s.Distinct2, s.Repetition} {
				d.vals[m][i] = append(d.vals[m][i], v)
			}
		}
	}
	return d
}

func (d summaryData) metricNames(lc settings) [4]string {
	return [4]string{lc.t("su.logprob"), lc.t("su.d1"), lc.t("su.d2"), lc.t("su.rep")}
}

func (d summaryData) option(lc settings) (json.RawMessage, error) {
	names := d.metricNames(lc)
	specs := make([]string, len(d.specs))
	for i, s := range d.specs {
		specs[i] = inertTemplate(s)
	}
	var grids, xs, ys, series, titles []any
	for m := range 4 {
		col, row := m%2, m/2
		top := 40 + row*260
		grids = append(grids, map[string]any{"left": fmt.Sprintf("%d%%", 4+col*50), "width": "42%", "top": top, "height": 170, "containLabel": true})
		titles = append(titles, map[string]any{"text": names[m], "left": fmt.Sprintf("%d%%", 4+col*50), "top": top - 30, "textStyle": map[string]any{"fontSize": 12}})
		xs = append(xs, map[string]any{"type": "category", "gridIndex": m, "data": specs, "axisLabel": map[string]any{"interval": 0, "rotate": 25, "fontSize": 9}})
		y := map[string]any{"type": "value", "gridIndex": m, "scale": m == 0}
		if m > 0 {
			y["min"], y["max"] = 0, 1
		}
		ys = append(ys, y)
		means := make([]float64, len(d.specs))
		var dots []any
		for i, v := range d.vals[m] {
			means[i] = numfmt.Mean(v)
			for _, x := range v {
				dots = append(dots, []any{i, sig(x, 4)})
			}
		}
		series = append(series,
			map[string]any{"type": "bar", "name": lc.t("su.mean"), "xAxisIndex": m, "yAxisIndex": m, "itemStyle": map[string]any{"color": keptHex}, "data": nums{V: means, Digits: 4}},
			map[string]any{"type": "scatter", "name": lc.t("su.seed"), "xAxisIndex": m, "yAxisIndex": m, "symbolSize": 7, "itemStyle": map[string]any{"color": chosenHex}, "data": dots})
	}
	return jsonOf(map[string]any{
		"title": titles, "legend": map[string]any{"top": 0, "right": 10},
		"tooltip": map[string]any{"trigger": "item"},
		"grid":    grids, "xAxis": xs, "yAxis": ys, "series": series,
	})
}

func (d summaryData) figure(lc settings) *staticFig {
	return &staticFig{w: 11 * vg.Inch, h: 8 * vg.Inch, draw: func(dc draw.Canvas) error {
		names := d.metricNames(lc)
		tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Points(12), PadY: vg.Points(12)}
		for m := range 4 {
			p := newPlot(names[m], "", "")
			l := newLegend()
			means := make([]float64, len(d.specs))
			var pts plotter.XYs
			for i, v := range d.vals[m] {
				means[i] = numfmt.Mean(v)
				for _, x := range v {
					pts = append(pts, plotter.XY{X: float64(i), Y: x})
				}
			}
			if err := drawBars(p, l, d.specs, []barSeries{{name: "", values: means, color: hexColor(keptHex)}}); err != nil {
				return err
			}
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			sc.Color = hexColor(chosenHex)
			p.Add(sc)
			if m > 0 {
				p.Y.Min, p.Y.Max = 0, 1
			}
			rotateX(p)
			drawPlot(tiles.At(dc, m%2, m/2), p)
		}
		return nil
	}}
}

// CompareDivergence charts the step at which settings a and b, with seed
// index j, first chose different tokens: both had generated the same
// text until then, so the model gave both the same distribution at T = 1;
// the chart shows it (grey) beside what each setting's sampler drew from
// there (after temperature, top-k and top-p), the bar of each sampled
// token marked ▼A or ▼B (◀A, ◀B or ◀A,B after the token in the static
// figure). ID "compare-divergence". Errors wrap ErrRange for a bad
// setting or seed index, ErrNoData when the two runs never differ (or
// differ already in their prompts).
func CompareDivergence(c *trace.Comparison, a, b, j int, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	if err := checkSeed(c, j); err != nil {
		return nil, fmt.Errorf("compare divergence: %w", err)
	}
	if a < 0 || b < 0 || a >= len(c.Settings) || b >= len(c.Settings) || a == b {
		return nil, fmt.Errorf("compare divergence: settings %d and %d: %w: want two of 0..%d", a, b, ErrRange, len(c.Settings)-1)
	}
	ta, tb := c.Runs[a][j], c.Runs[b][j]
	step, ok := trace.Divergence(ta, tb)
	if !ok || step == 0 {
		return nil, fmt.Errorf("compare divergence: settings %d and %d agree on every step: %w", a, b, ErrNoData)
	}
	pa, pb := nextAt(ta, step), nextAt(tb, step)
	if pa == nil || pb == nil {
		return nil, fmt.Errorf("compare divergence: step %d: %w", step, ErrNoData)
	}
	sa, err := stagesOf(pa, c.Settings[a].Temperature)
	if err != nil {
		return nil, fmt.Errorf("compare divergence: %w", err)
	}
	sb, err := stagesOf(pb, c.Settings[b].Temperature)
	if err != nil {
		return nil, fmt.Errorf("compare divergence: %w", err)
	}
	d := divergenceData{step: step, specA: c.Settings[a].Spec, specB: c.Settings[b].Spec, seed: c.Seeds[j]}
	// The same context: the same candidates in the same order. Merge on
	// labels in A's order, B's extra chosen token (if any) after.
	idx := map[string]int{}
	for _, cd := range sa.cands {
		idx[cd.label] = len(d.labels)
		d.labels = append(d.labels, cd.label)
		d.raw = append(d.raw, cd.p[0])
		d.pa = append(d.pa, cd.p[3])
		d.pb = append(d.pb, 0)
		d.chosenA = append(d.chosenA, cd.chosen)
		d.chosenB = append(d.chosenB, false)
	}
	for _, cd := range sb.cands {
		k, ok := idx[cd.label]
		if !ok {
			k = len(d.labels)
			d.labels = append(d.labels, cd.label)
			d.raw = append(d.raw, cd.p[0])
			d.pa = append(d.pa, 0)
			d.pb = append(d.pb, 0)
			d.chosenA = append(d.chosenA, false)
			d.chosenB = append(d.chosenB, false)
		}
		d.pb[k] = cd.p[3]
		d.chosenB[k] = cd.chosen
	}
	d.tokA, d.tokB = sa.chosen, sb.chosen
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("compare divergence: %w", err)
	}
	return &Chart{ID: "compare-divergence", Title: lc.t("dv.title"), Subtitle: d.subtitle(lc), Option: option, Height: 420, static: d.figure(lc.static())}, nil
}

// nextAt returns the prediction that chose the token of decode step k.
func nextAt(tr *trace.Trace, k int) *trace.Prediction {
	n := 0
	for _, st := range tr.Steps {
		if st.Next != nil && st.Kind.Generates() {
			if n++; n == k {
				return st.Next
			}
		}
	}
	return nil
}

type divergenceData struct {
	step             int
	specA, specB     string
	seed             uint64
	labels           []string
	raw, pa, pb      []float64
	chosenA, chosenB []bool
	tokA, tokB       string
}

func (d divergenceData) subtitle(lc settings) string {
	return lc.t("dv.sub", d.step, d.seed, d.specA, d.tokA, d.specB, d.tokB)
}

func (d divergenceData) axisLabels() []string {
	out := make([]string, len(d.labels))
	for i, l := range d.labels {
		out[i] = inertTemplate(l)
		switch {
		case d.chosenA[i] && d.chosenB[i]:
			out[i] += " ◀A,B"
		case d.chosenA[i]:
			out[i] += " ◀A"
		case d.chosenB[i]:
			out[i] += " ◀B"
		}
	}
	return out
}

// markedBars is a bar series' data, v rounded to 4 significant digits,
// the bars where chosen is true labelled mark on top: the token that
// setting's sampler drew.
func markedBars(v []float64, chosen []bool, mark string) []any {
	out := make([]any, len(v))
	for i, x := range v {
		num := json.RawMessage(appendNum(nil, x, 4))
		if !chosen[i] {
			out[i] = num
			continue
		}
		out[i] = map[string]any{"value": num, "label": map[string]any{
			"show": true, "position": "top", "formatter": mark, "fontWeight": "bold", "fontSize": 12}}
	}
	return out
}

// option is the interactive form. The tokens stand plain under the axis;
// the bar of the token each setting drew is marked above it, "▼A" or
// "▼B" (on the x axis, rotated, such a mark ran into the next label).
func (d divergenceData) option(lc settings) (json.RawMessage, error) {
	labels := make([]string, len(d.labels))
	for i, l := range d.labels {
		labels[i] = inertTemplate(l)
	}
	return jsonOf(map[string]any{
		"title":   map[string]any{"text": lc.t("dv.step", d.step), "left": "center", "textStyle": map[string]any{"fontSize": 13}},
		"legend":  map[string]any{"top": 28},
		"tooltip": map[string]any{"trigger": "axis", "axisPointer": map[string]any{"type": "shadow"}},
		"grid":    map[string]any{"left": 60, "right": 30, "top": 70, "bottom": 90},
		"xAxis":   map[string]any{"type": "category", "data": labels, "axisLabel": map[string]any{"interval": 0, "rotate": 35, "fontSize": 11}},
		"yAxis":   map[string]any{"type": "value", "min": 0, "max": 1, "name": lc.t("probability")},
		"series": []any{
			map[string]any{"type": "bar", "name": lc.t("dv.raw"), "itemStyle": map[string]any{"color": removedHex}, "data": nums{V: d.raw, Digits: 4}},
			map[string]any{"type": "bar", "name": "A: " + inertTemplate(d.specA), "itemStyle": map[string]any{"color": settingHex[0]}, "data": markedBars(d.pa, d.chosenA, "▼A")},
			map[string]any{"type": "bar", "name": "B: " + inertTemplate(d.specB), "itemStyle": map[string]any{"color": settingHex[1]}, "data": markedBars(d.pb, d.chosenB, "▼B")},
		},
	})
}

func (d divergenceData) figure(lc settings) *staticFig {
	return &staticFig{w: 9 * vg.Inch, h: 4.5 * vg.Inch, draw: func(dc draw.Canvas) error {
		p := newPlot(lc.t("dv.title")+"\n"+d.subtitle(lc), "", lc.t("probability"))
		l := newLegend()
		labels := d.axisLabels()
		if err := drawBars(p, l, labels, []barSeries{
			{lc.t("dv.raw"), d.raw, hexColor(removedHex)},
			{"A: " + d.specA, d.pa, hexColor(settingHex[0])},
			{"B: " + d.specB, d.pb, hexColor(settingHex[1])},
		}); err != nil {
			return err
		}
		p.Y.Min, p.Y.Max = 0, 1
		rotateX(p)
		drawWithLegend(dc, p, l)
		return nil
	}}
}

// comparePhrases are the words of the comparison charts, {English,
// Chinese}.
var comparePhrases = i18n.Table{
	"cs.title":          {"The next-token distribution at one step, stage by stage, per setting", "某一步的下一个 token 分布：逐个采样阶段，按设置并排"},
	"cs.sub":            {"drag the slider to change the step (all columns move together) · bars: raw softmax (T = 1) → after temperature → after top-k → after top-p, each renormalised · shaded: removed · ◀ the sampled token", "拖动滑块切换步骤（所有列一起动） · 柱：原始 softmax（T = 1）→ 温度之后 → top-k 之后 → top-p 之后，每一步都重新归一化 · 阴影：被去掉 · ◀ 采到的 token"},
	"cs.raw":            {"raw (T = 1)", "原始（T = 1）"},
	"cs.temp":           {"after temperature", "温度之后"},
	"cs.topk":           {"after top-k", "top-k 之后"},
	"cs.topp":           {"after top-p (sampled from)", "top-p 之后（实际采样）"},
	"cs.step":           {"step %[1]d (seed %[2]d)", "第 %[1]d 步（种子 %[2]d）"},
	"cs.step.static":    {"step %d", "第 %d 步"},
	"cs.removed.k":      {"removed by top-k", "被 top-k 去掉"},
	"cs.removed.p":      {"removed by top-p", "被 top-p 去掉"},
	"cs.removed.g":      {"greedy: only the argmax", "贪心：只留概率最大的"},
	"cl.title":          {"Entropy and the chosen token's probability over the steps, per setting", "各步的熵与选中 token 的概率（按设置叠加）"},
	"cl.sub":            {"above: entropy at T = 1 (solid) and of the distribution sampled from (dashed), bits · below: P(chosen token) at T = 1", "上：T = 1 时的熵（实线）与实际采样分布的熵（虚线），比特 · 下：T = 1 时选中 token 的概率"},
	"cl.entropy":        {"entropy (bits)", "熵（比特）"},
	"cl.chosen":         {"P(chosen token), T = 1", "P（选中的 token），T = 1"},
	"cl.static.entropy": {"Entropy at T = 1 (bits)", "T = 1 时的熵（比特）"},
	"su.title":          {"Summary of the generated text, per setting: mean over the seeds (bar) and each seed (dot)", "生成文本的汇总（按设置）：各种子的平均（柱）与每个种子（点）"},
	"su.title.one":      {"Summary of the generated text, per setting (seed %d)", "生成文本的汇总（按设置，种子 %d）"},
	"su.sub":            {"mean log-probability at T = 1 (nats per token; higher: text the model finds likelier) · distinct-1 and distinct-2 (share of distinct tokens and token pairs) · repetition (share of repeated 4-grams)", "T = 1 下的平均对数概率（每个 token 的奈特数；越高表示模型觉得越像） · distinct-1 与 distinct-2（不同 token、不同 token 对的比例） · 重复率（重复的 4-gram 所占比例）"},
	"su.logprob":        {"mean log-probability (nats/token)", "平均对数概率（奈特/token）"},
	"su.d1":             {"distinct-1", "distinct-1"},
	"su.d2":             {"distinct-2", "distinct-2"},
	"su.rep":            {"repetition (repeated 4-grams)", "重复率（重复的 4-gram）"},
	"su.mean":           {"mean over the seeds", "各种子的平均"},
	"su.seed":           {"one seed", "单个种子"},
	"dv.title":          {"Where two settings part: the first step at which their tokens differ", "两种设置分道扬镳的地方：两者 token 第一次不同的那一步"},
	"dv.sub":            {"step %[1]d, seed %[2]d: A = %[3]s chose “%[4]s”, B = %[5]s chose “%[6]s”; until then both wrote the same text, so the model gave both the same distribution (grey)", "第 %[1]d 步，种子 %[2]d：A = %[3]s 选了“%[4]s”，B = %[5]s 选了“%[6]s”；在此之前两者写出的文本相同，所以模型给两者的分布也相同（灰色）"},
	"dv.step":           {"step %d", "第 %d 步"},
	"dv.raw":            {"model, T = 1 (the same for both)", "模型，T = 1（两者相同）"},
}
