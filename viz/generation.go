package viz

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gptviz/gptviz/model/trace"
)

// Colours of next-token bars.
const (
	keptHex    = "#3182bd" // a candidate the sampler could pick
	chosenHex  = "#e6550d" // the token the sampler picked
	removedHex = "#c8c8c8" // removed by top-k or top-p
	sampleHex  = "#74c476" // probability after temperature, top-k, top-p
)

// prediction is one decode step's next-token distribution.
type prediction struct {
	step int // Step.Index of the step that processed the chosen token
	p    *trace.Prediction
}

// predictions returns the trace's next-token predictions in order: each
// decode step's Next, the distribution that chose the token it processes.
func predictions(tr *trace.Trace) []prediction {
	var out []prediction
	for _, st := range tr.Steps {
		if st.Next != nil {
			out = append(out, prediction{step: st.Index, p: st.Next})
		}
	}
	return out
}

// candidates returns the bars of one prediction: its top candidates, plus
// the chosen token at the end when it is not among them.
func candidates(p *trace.Prediction) (cs []trace.Candidate, chosenAt int) {
	cs = append(cs, p.Top...)
	chosenAt = -1
	for i, c := range cs {
		if c.ID == p.Chosen.ID {
			chosenAt = i
			break
		}
	}
	if chosenAt < 0 {
		cs = append(cs, p.Chosen)
		chosenAt = len(cs) - 1
	}
	return cs, chosenAt
}

// candidateLabels are the bar labels of every step, for sizing the axis.
func candidateLabels(preds []prediction) []string {
	var out []string
	for _, pr := range preds {
		cs, _ := candidates(pr.p)
		for _, c := range cs {
			out = append(out, display(c.Display, c.Text, c.ID))
		}
	}
	return out
}

// stepTitle says what happened at one step, in plain words.
func stepTitle(tr *trace.Trace, pr prediction, lc settings) (title, sub string) {
	p := pr.p
	how := lc.t("nt.sampled")
	if p.Greedy {
		how = lc.t("nt.greedy")
	}
	title = lc.t("nt.step", pr.step, display(p.Chosen.Display, p.Chosen.Text, p.Chosen.ID), fmtSig(p.Chosen.Prob, 3), how)
	var parts []string
	parts = append(parts, lc.t("nt.entropy", fmtSig(p.Entropy, 3), fmtSig(p.SampleEntropy, 3)))
	for _, f := range p.Filters {
		switch f.Name {
		case "temperature":
			parts = append(parts, lc.t("nt.temp", fmtSig(tr.Settings.Temperature, 3)))
		case "greedy":
		case "top-k":
			if tr.Settings.TopK == 0 {
				parts = append(parts, lc.t("nt.off", f.Name))
				continue
			}
			parts = append(parts, lc.t("nt.kept", f.Name, f.Kept, fmtSig(f.Mass, 3)))
		case "top-p":
			if tr.Settings.TopP >= 1 {
				parts = append(parts, lc.t("nt.off", f.Name))
				continue
			}
			parts = append(parts, lc.t("nt.kept", f.Name, f.Kept, fmtSig(f.Mass, 3)))
		default:
			parts = append(parts, lc.t("nt.kept", f.Name, f.Kept, fmtSig(f.Mass, 3)))
		}
	}
	return title, strings.Join(parts, " · ")
}

// NextToken charts the next-token distribution of every decode step with a
// step slider (ECharts timeline: baseOption + one option per step). Each
// step shows its top candidates' raw probabilities (softmax at T = 1) as
// bars: the chosen token orange, candidates removed by top-k or top-p grey,
// the others blue; beside them, in green, the probability the sampler
// actually used after temperature, top-k and top-p. Each step's title names
// the chosen token, the entropy (bits) and what each filter kept. ID
// "next-token". The static form draws the first step. It returns an error
// wrapping ErrNoData when the trace has no decode steps.
func NextToken(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc, en := settingsOf(options), settings{}
	preds := predictions(tr)
	if len(preds) == 0 {
		return nil, fmt.Errorf("next-token chart: decode steps: %w", ErrNoData)
	}
	rawName, sampleName := lc.t("nt.raw"), lc.t("nt.used")
	chosenName, removedName := lc.t("nt.chosen"), lc.t("nt.removed")
	steps := make([]string, len(preds))
	for i, pr := range preds {
		steps[i] = strconv.Itoa(pr.step)
	}
	base := charts.NewBar()
	base.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis", AxisPointer: &opts.AxisPointer{Type: "shadow"}}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10", Top: "50"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "30", Top: "90", Bottom: strconv.Itoa(70 + labelRoom(candidateLabels(preds), 40))}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: 40, FontSize: 11, Interval: "0"}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("probability"), Min: 0, Max: 1, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	base.AddSeries(rawName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: keptHex}))
	base.AddSeries(sampleName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: sampleHex}))
	// Legend-only entries for the per-bar colours: empty line series take
	// no room in the bar groups.
	line := charts.NewLine()
	line.AddSeries(chosenName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: chosenHex}))
	line.AddSeries(removedName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: removedHex}))
	base.Overlap(line)
	baseTree, err := treeOf(base)
	if err != nil {
		return nil, fmt.Errorf("next-token chart: %w", err)
	}
	baseTree["timeline"] = map[string]any{
		"axisType": "category", "data": steps, "autoPlay": false, "playInterval": 1500,
		"left": 40, "right": 40, "bottom": 10, "label": map[string]any{"fontSize": 10},
		"currentIndex": 0,
	}
	obj(baseTree, "legend")["icon"] = "rect"
	stepOptions := make([]any, len(preds))
	for i, pr := range preds {
		cs, chosenAt := candidates(pr.p)
		labels := make([]string, len(cs))
		raw := make([]opts.BarData, len(cs))
		used := make([]opts.BarData, len(cs))
		for j, c := range cs {
			labels[j] = display(c.Display, c.Text, c.ID)
			col := keptHex
			switch {
			case j == chosenAt:
				col = chosenHex
				if j >= len(pr.p.Top) {
					labels[j] += lc.t("nt.chosen.tag")
				}
			case c.RemovedBy != "":
				col = removedHex
			}
			raw[j] = opts.BarData{Value: sig(c.Prob, 4), ItemStyle: &opts.ItemStyle{Color: col}}
			used[j] = opts.BarData{Value: sig(c.SampleProb, 4)}
		}
		title, sub := stepTitle(tr, pr, lc)
		b := charts.NewBar()
		b.SetGlobalOptions(charts.WithTitleOpts(opts.Title{Title: title, Subtitle: sub, TitleStyle: &opts.TextStyle{FontSize: 14}}))
		b.SetXAxis(labels)
		b.AddSeries(rawName, raw)
		b.AddSeries(sampleName, used)
		t, err := treeOf(b)
		if err != nil {
			return nil, fmt.Errorf("next-token chart: step %d: %w", pr.step, err)
		}
		stepOptions[i] = map[string]any{"title": t["title"], "xAxis": t["xAxis"], "series": t["series"]}
	}
	option, err := jsonOf(map[string]any{"baseOption": baseTree, "options": stepOptions})
	if err != nil {
		return nil, fmt.Errorf("next-token chart: %w", err)
	}
	c := &Chart{
		ID:       "next-token",
		Title:    lc.t("nt.title"),
		Subtitle: lc.t("nt.sub"),
		Option:   option,
		Height:   500,
	}
	first := preds[0]
	c.static = &staticFig{w: 8 * vg.Inch, h: 4.5 * vg.Inch, draw: func(dc draw.Canvas) error {
		cs, chosenAt := candidates(first.p)
		title, _ := stepTitle(tr, first, en)
		if len(preds) > 1 {
			title += en.t("nt.first", len(preds))
		}
		p := newPlot(title, "", en.t("probability"))
		labels := make([]string, len(cs))
		kept, chosen, removed, used := make([]float64, len(cs)), make([]float64, len(cs)), make([]float64, len(cs)), make([]float64, len(cs))
		for j, cd := range cs {
			labels[j] = display(cd.Display, cd.Text, cd.ID)
			switch {
			case j == chosenAt:
				chosen[j] = cd.Prob
			case cd.RemovedBy != "":
				removed[j] = cd.Prob
			default:
				kept[j] = cd.Prob
			}
			used[j] = cd.SampleProb
		}
		// Overlaid at the same offset: each bar is in exactly one of the
		// three coloured sets.
		for _, s := range []struct {
			name string
			v    []float64
			col  string
			off  float64
		}{{"could be chosen", kept, keptHex, -0.5}, {en.t("nt.chosen"), chosen, chosenHex, -0.5}, {en.t("nt.removed"), removed, removedHex, -0.5}, {en.t("nt.used"), used, sampleHex, 0.5}} {
			b, err := plotter.NewBarChart(plotter.Values(s.v), vg.Points(12))
			if err != nil {
				return err
			}
			b.Color, b.LineStyle.Width, b.Offset = hexColor(s.col), 0, vg.Length(s.off)*vg.Points(12)
			p.Add(b)
			p.Legend.Add(s.name, b)
		}
		p.Legend.Top = true
		p.Legend.TextStyle.Font.Size = vg.Points(8)
		p.X.Tick.Marker = indexTicker(labels, 40)
		p.X.Min, p.X.Max = -0.5, float64(len(cs))-0.5
		p.Y.Min, p.Y.Max = 0, 1
		rotateX(p)
		p.Draw(dc)
		return nil
	}}
	return c, nil
}

// GenerationLines charts, over the decode steps, the entropy of the raw
// next-token distribution and of the distribution actually sampled from
// (bits, left axis) and the chosen token's probability (right axis, 0…1).
// ID "next-entropy". It returns an error wrapping ErrNoData when the trace
// has no decode steps.
func GenerationLines(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc, en := settingsOf(options), settings{}
	preds := predictions(tr)
	if len(preds) == 0 {
		return nil, fmt.Errorf("generation lines: decode steps: %w", ErrNoData)
	}
	n := len(preds)
	steps := make([]string, n)
	ent, sent, prob := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, pr := range preds {
		steps[i] = fmt.Sprintf("%d %s", pr.step, display(pr.p.Chosen.Display, pr.p.Chosen.Text, pr.p.Chosen.ID))
		ent[i], sent[i], prob[i] = pr.p.Entropy, pr.p.SampleEntropy, pr.p.Chosen.Prob
	}
	eName, sName, pName := lc.t("gl.entropy"), lc.t("gl.sampled"), lc.t("gl.chosen")
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "60", Top: "60", Bottom: strconv.Itoa(labelRoom(steps, labelRotation(n)) + 20)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: lc.t("step"), AxisLabel: axisLabelOpts(n)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("bits"), Min: 0, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	line.SetXAxis(steps)
	line.ExtendYAxis(opts.YAxis{Type: "value", Name: lc.t("probability"), Min: 0, Max: 1, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}, SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	line.AddSeries(eName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#756bb1"}))
	line.AddSeries(sName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#bcbddc"}), charts.WithLineStyleOpts(opts.LineStyle{Type: "dashed"}))
	line.AddSeries(pName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: chosenHex}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.YAxisIndex = 1 }))
	tree, err := treeOf(line)
	if err != nil {
		return nil, fmt.Errorf("generation lines: %w", err)
	}
	xa := objAt(tree, "xAxis", 0)
	xa["nameLocation"], xa["nameGap"] = "middle", labelRoom(steps, labelRotation(n))-10
	objAt(tree, "series", 0)["data"] = nums{V: ent, Digits: 4}
	objAt(tree, "series", 1)["data"] = nums{V: sent, Digits: 4}
	objAt(tree, "series", 2)["data"] = nums{V: prob, Digits: 4}
	option, err := jsonOf(tree)
	if err != nil {
		return nil, fmt.Errorf("generation lines: %w", err)
	}
	c := &Chart{
		ID:     "next-entropy",
		Title:  lc.t("gl.title"),
		Option: option,
		Height: 360,
	}
	c.static = &staticFig{w: 8 * vg.Inch, h: 4 * vg.Inch, draw: func(dc draw.Canvas) error {
		p := newPlot(en.t("gl.title"), en.t("step"), en.t("gl.static.y"))
		for _, s := range []struct {
			name string
			v    []float64
			col  color.Color
			dash bool
		}{{en.t("gl.entropy"), ent, hexColor("#756bb1"), false}, {en.t("gl.sampled"), sent, hexColor("#bcbddc"), true}, {en.t("gl.chosen"), prob, hexColor(chosenHex), false}} {
			l, err := plotter.NewLine(linePoints(s.v))
			if err != nil {
				return err
			}
			l.Color = s.col
			if s.dash {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(l)
			p.Legend.Add(s.name, l)
		}
		p.Legend.Top = true
		p.Legend.TextStyle.Font.Size = vg.Points(8)
		p.X.Tick.Marker = indexTicker(steps, 30)
		p.Y.Min = 0
		rotateX(p)
		p.Draw(dc)
		return nil
	}}
	return c, nil
}
