package viz

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot"
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

// nextStep is one decode step's next-token distribution as the next-token
// chart shows it.
type nextStep struct {
	step                   int    // Step.Index of the step that processed the chosen token
	chosen                 string // the chosen token's display form
	prob                   float64
	greedy                 bool
	entropy, sampleEntropy float64 // bits
	filters                []filterNote
	bars                   []candidateBar
	removed                string // phrase key for the grey bars (removedKey)
}

// filterNote is what one sampling filter did at a step.
type filterNote struct {
	name        string  // "temperature", "top-k", "top-p", …
	off         bool    // top-k 0 or top-p ≥ 1: the filter was not used
	kept        int     // tokens it kept
	mass        float64 // their probability mass
	temperature float64 // for "temperature": the run's T
}

// candidateBar is one bar: a candidate's probability at T = 1 and the
// probability the sampler used. extra marks the chosen token added after
// the top candidates because it was not among them.
type candidateBar struct {
	label                  string
	prob, sampleProb       float64
	chosen, removed, extra bool
}

// nextTokenData is every decode step's distribution, in order, and the
// phrase key naming what removed a candidate in this run (removedKey).
type nextTokenData struct {
	steps   []nextStep
	removed string
}

// removedKey is the phrase key for candidates the run's settings removed:
// greedy decoding (temperature 0) keeps only the top token; otherwise
// whichever of top-k and top-p is on; "" when no filter removes anything.
func removedKey(set trace.Settings) string {
	k, p := set.TopK > 0, set.TopP > 0 && set.TopP < 1
	switch {
	case set.Temperature == 0:
		return "nt.removed.g"
	case k && p:
		return "nt.removed"
	case k:
		return "nt.removed.k"
	case p:
		return "nt.removed.p"
	}
	return ""
}

// subtitle says what each colour means, for the filters this run used.
func (d nextTokenData) subtitle(lc settings) string {
	parts := []string{lc.t("nt.sub.slider"), lc.t("nt.sub.chosen")}
	if d.removed != "nt.removed.g" {
		parts = append(parts, lc.t("nt.sub.kept"))
	}
	if d.removed != "" {
		parts = append(parts, lc.t("nt.sub.grey", lc.t(d.removed)))
	}
	return strings.Join(append(parts, lc.t("nt.sub.used")), " · ")
}

// newNextTokenData gathers each decode step's Next: the distribution that
// chose the token the step processes. It returns an error wrapping
// ErrNoData when the trace has no decode steps.
func newNextTokenData(tr *trace.Trace) (nextTokenData, error) {
	d := nextTokenData{removed: removedKey(tr.Settings)}
	for _, st := range tr.Steps {
		if st.Next != nil {
			s := newNextStep(tr.Settings, st.Index, st.Next)
			s.removed = d.removed
			d.steps = append(d.steps, s)
		}
	}
	if len(d.steps) == 0 {
		return d, fmt.Errorf("decode steps: %w", ErrNoData)
	}
	return d, nil
}

func newNextStep(set trace.Settings, step int, p *trace.Prediction) nextStep {
	s := nextStep{
		step: step, chosen: display(p.Chosen.Display, p.Chosen.Text, p.Chosen.ID), prob: p.Chosen.Prob,
		greedy: p.Greedy, entropy: p.Entropy, sampleEntropy: p.SampleEntropy,
	}
	for _, f := range p.Filters {
		switch f.Name {
		case "greedy":
		case "temperature":
			s.filters = append(s.filters, filterNote{name: f.Name, temperature: set.Temperature})
		default:
			off := f.Name == "top-k" && set.TopK == 0 || f.Name == "top-p" && set.TopP >= 1
			s.filters = append(s.filters, filterNote{name: f.Name, off: off, kept: f.Kept, mass: f.Mass})
		}
	}
	chosenAt := -1
	for i, c := range p.Top {
		s.bars = append(s.bars, candidateBar{label: display(c.Display, c.Text, c.ID), prob: c.Prob, sampleProb: c.SampleProb, removed: c.RemovedBy != ""})
		if c.ID == p.Chosen.ID && chosenAt < 0 {
			chosenAt = i
		}
	}
	if chosenAt < 0 {
		c := p.Chosen
		s.bars = append(s.bars, candidateBar{label: s.chosen, prob: c.Prob, sampleProb: c.SampleProb, removed: c.RemovedBy != "", extra: true})
		chosenAt = len(s.bars) - 1
	}
	s.bars[chosenAt].chosen = true
	return s
}

// labels are the bar labels of the step, the extra chosen token tagged.
func (s nextStep) labels(lc settings) []string {
	out := make([]string, len(s.bars))
	for i, b := range s.bars {
		out[i] = b.label
		if b.extra {
			out[i] += lc.t("nt.chosen.tag")
		}
	}
	return out
}

// title says what happened at the step, in plain words; sub gives the
// entropy and what each filter kept.
func (s nextStep) title(lc settings) (title, sub string) {
	how := lc.t("nt.sampled")
	if s.greedy {
		how = lc.t("nt.greedy")
	}
	title = lc.t("nt.step", s.step, s.chosen, fmtSig(s.prob, 3), how)
	parts := []string{lc.t("nt.entropy", fmtSig(s.entropy, 3), fmtSig(s.sampleEntropy, 3))}
	if s.greedy {
		parts[0] = lc.t("nt.entropy.g", fmtSig(s.entropy, 3))
	}
	for _, f := range s.filters {
		switch {
		case f.name == "temperature":
			parts = append(parts, lc.t("nt.temp", fmtSig(f.temperature, 3)))
		case f.off:
			parts = append(parts, lc.t("nt.off", f.name))
		default:
			parts = append(parts, lc.t("nt.kept", f.name, f.kept, fmtSig(f.mass, 3)))
		}
	}
	return title, strings.Join(parts, " · ")
}

// barColor is a bar's colour: chosen orange, removed grey, else blue.
func (b candidateBar) color() string {
	switch {
	case b.chosen:
		return chosenHex
	case b.removed:
		return removedHex
	}
	return keptHex
}

// NextToken charts the next-token distribution of every decode step with a
// step slider (ECharts timeline: baseOption + one option per step). Each
// step shows its top candidates' raw probabilities (softmax at T = 1) as
// bars: the chosen token orange, candidates removed by top-k or top-p grey,
// the others blue; beside them, in green, the probability the sampler
// actually used after temperature, top-k and top-p. Each step's title names
// the chosen token, the entropy (bits) and what each filter kept. ID
// "next-token". The static form draws every step, a panel each, or only
// the step chosen with [FigureStep]. It returns an error wrapping ErrNoData
// when the trace has no decode steps, ErrRange when FigureStep names a step
// the chart does not have.
func NextToken(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	d, err := newNextTokenData(tr)
	if err != nil {
		return nil, fmt.Errorf("next-token chart: %w", err)
	}
	if lc.step > 0 && !slices.ContainsFunc(d.steps, func(s nextStep) bool { return s.step == lc.step }) {
		return nil, fmt.Errorf("next-token chart: figure step %d: %w: the decode steps are %d to %d", lc.step, ErrRange, d.steps[0].step, d.steps[len(d.steps)-1].step)
	}
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("next-token chart: %w", err)
	}
	return &Chart{
		ID:       "next-token",
		Title:    lc.t("nt.title"),
		Subtitle: d.subtitle(lc),
		Option:   option,
		Height:   500,
		static:   d.figure(lc.static()),
	}, nil
}

// timeline is the step slider of a chart with one option per step.
func timeline(steps []string) map[string]any {
	return map[string]any{
		"axisType": "category", "data": steps, "autoPlay": false, "playInterval": 1500,
		"left": 40, "right": 40, "bottom": 10, "label": map[string]any{"fontSize": 10},
		"currentIndex": 0,
	}
}

// option is the interactive form: a base option and one option per step.
func (d nextTokenData) option(lc settings) (json.RawMessage, error) {
	base, err := d.baseOption(lc)
	if err != nil {
		return nil, err
	}
	stepOptions := make([]any, len(d.steps))
	for i, s := range d.steps {
		if stepOptions[i], err = s.option(lc); err != nil {
			return nil, fmt.Errorf("step %d: %w", s.step, err)
		}
	}
	return jsonOf(map[string]any{"baseOption": base, "options": stepOptions})
}

// baseOption holds what every step shares: axes, legend, slider.
func (d nextTokenData) baseOption(lc settings) (map[string]any, error) {
	steps := make([]string, len(d.steps))
	for i, s := range d.steps {
		steps[i] = strconv.Itoa(s.step)
	}
	base := charts.NewBar()
	base.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis", AxisPointer: &opts.AxisPointer{Type: "shadow"}}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10", Top: "50"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "30", Top: "90", Bottom: strconv.Itoa(70 + labelRoom(barLabels(d.steps), 40))}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: 40, FontSize: 11, Interval: "0"}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("probability"), Min: 0, Max: 1, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	// In a greedy run every bar but the chosen one is grey: the raw
	// series' legend takes that colour, and no separate grey entry.
	rawHex := keptHex
	if d.removed == "nt.removed.g" {
		rawHex = removedHex
	}
	base.AddSeries(lc.t("nt.raw"), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: rawHex}))
	base.AddSeries(lc.t("nt.used"), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: sampleHex}))
	// Legend-only entries for the per-bar colours: empty line series take
	// no room in the bar groups.
	line := charts.NewLine()
	line.AddSeries(lc.t("nt.chosen"), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: chosenHex}))
	if d.removed != "" && d.removed != "nt.removed.g" {
		line.AddSeries(lc.t(d.removed), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: removedHex}))
	}
	base.Overlap(line)
	tree, err := treeOf(base)
	if err != nil {
		return nil, err
	}
	tree["timeline"] = timeline(steps)
	obj(tree, "legend")["icon"] = "rect"
	return tree, nil
}

// barLabels are the untagged bar labels of every step, for sizing the axis.
func barLabels(steps []nextStep) []string {
	var out []string
	for _, s := range steps {
		for _, b := range s.bars {
			out = append(out, b.label)
		}
	}
	return out
}

// option is one step's part of the timeline: title, bars, labels.
func (s nextStep) option(lc settings) (map[string]any, error) {
	raw := make([]opts.BarData, len(s.bars))
	used := make([]opts.BarData, len(s.bars))
	for j, b := range s.bars {
		raw[j] = opts.BarData{Value: sig(b.prob, 4), ItemStyle: &opts.ItemStyle{Color: b.color()}}
		used[j] = opts.BarData{Value: sig(b.sampleProb, 4)}
	}
	title, sub := s.title(lc)
	bar := charts.NewBar()
	bar.SetGlobalOptions(charts.WithTitleOpts(opts.Title{Title: title, Subtitle: sub, TitleStyle: &opts.TextStyle{FontSize: 14}}))
	bar.SetXAxis(s.labels(lc))
	bar.AddSeries(lc.t("nt.raw"), raw)
	bar.AddSeries(lc.t("nt.used"), used)
	t, err := treeOf(bar)
	if err != nil {
		return nil, err
	}
	return map[string]any{"title": t["title"], "xAxis": t["xAxis"], "series": t["series"]}, nil
}

// figure is the static form in lc's language: one panel of bars per step
// (only step lc.step when set), in rows of up to three, under a title and
// one legend.
func (d nextTokenData) figure(lc settings) *staticFig {
	steps := d.steps
	if lc.step > 0 {
		for _, s := range d.steps {
			if s.step == lc.step {
				steps = []nextStep{s}
			}
		}
	}
	if len(steps) == 1 {
		return &staticFig{w: 8 * vg.Inch, h: 4.5 * vg.Inch, draw: func(dc draw.Canvas) error {
			title, _ := steps[0].title(lc)
			p, l, err := steps[0].panel(lc, title)
			if err != nil {
				return err
			}
			drawWithLegend(dc, p, l)
			return nil
		}}
	}
	cols := min(3, len(steps))
	rows := (len(steps) + cols - 1) / cols
	const header = 0.9 * vg.Inch
	panelH := 2.9 * vg.Inch
	return &staticFig{w: 12 * vg.Inch, h: header + vg.Length(rows)*panelH, draw: func(dc draw.Canvas) error {
		head := draw.Crop(dc, 0, 0, dc.Max.Y-dc.Min.Y-header, 0)
		tp := figPlot()
		tp.HideAxes()
		tp.Title.Text = staticTitle(lc.t("nt.title"))
		tp.Title.TextStyle.Font.Size = vg.Points(titlePt)
		var l *legend
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(10), PadY: vg.Points(6)}
		body := draw.Crop(dc, 0, 0, 0, -header)
		for i, s := range steps {
			title, _ := s.title(lc)
			p, pl, err := s.panel(lc, title)
			if err != nil {
				return err
			}
			p.Title.TextStyle.Font.Size = vg.Points(labelPt)
			l = pl
			drawPlot(tiles.At(body, i%cols, i/cols), p)
		}
		drawWithLegend(head, tp, l)
		return nil
	}}
}

// panel is one step's bars and their legend.
func (s nextStep) panel(lc settings, title string) (*plot.Plot, *legend, error) {
	p := newPlot(title, "", lc.t("probability"))
	l := newLegend()
	// Overlaid at the same offset: each bar is in exactly one of the
	// three coloured sets.
	for _, set := range s.barSets(lc) {
		b, err := plotter.NewBarChart(plotter.Values(set.v), vg.Points(12))
		if err != nil {
			return nil, nil, err
		}
		b.Color, b.LineStyle.Width, b.Offset = hexColor(set.col), 0, vg.Length(set.off)*vg.Points(12)
		p.Add(b)
		l.add(set.name, b)
	}
	p.X.Tick.Marker = indexTicker(s.labels(lc), 40)
	p.X.Min, p.X.Max = -0.5, float64(len(s.bars))-0.5
	p.Y.Min, p.Y.Max = 0, 1
	rotateX(p)
	return p, l, nil
}

// barSet is one coloured set of bars of the static next-token figure,
// drawn at offset off (in bar widths).
type barSet struct {
	name string
	v    []float64
	col  string
	off  float64
}

// barSets splits a step's bars by colour (kept, chosen, removed: each bar
// non-zero in exactly one) and adds the sampler's probabilities beside.
func (s nextStep) barSets(en settings) []barSet { // en: the figure's language
	n := len(s.bars)
	kept, chosen, removed, used := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for j, b := range s.bars {
		switch {
		case b.chosen:
			chosen[j] = b.prob
		case b.removed:
			removed[j] = b.prob
		default:
			kept[j] = b.prob
		}
		used[j] = b.sampleProb
	}
	return []barSet{
		{en.t("nt.kept.bar"), kept, keptHex, -0.5}, {en.t("nt.chosen"), chosen, chosenHex, -0.5},
		{en.t(cmp.Or(s.removed, "nt.removed")), removed, removedHex, -0.5}, {en.t("nt.used"), used, sampleHex, 0.5},
	}
}

// generationData is what the generation-lines chart shows, per decode
// step: its label ("step token"), the entropy of the raw and of the sampled
// distribution (bits) and the chosen token's probability.
type generationData struct {
	labels                   []string
	entropy, sampled, chosen []float64
}

// newGenerationData gathers every decode step's prediction. It returns an
// error wrapping ErrNoData when the trace has no decode steps.
func newGenerationData(tr *trace.Trace) (generationData, error) {
	var d generationData
	for _, st := range tr.Steps {
		if p := st.Next; p != nil {
			d.labels = append(d.labels, fmt.Sprintf("%d %s", st.Index, display(p.Chosen.Display, p.Chosen.Text, p.Chosen.ID)))
			d.entropy = append(d.entropy, p.Entropy)
			d.sampled = append(d.sampled, p.SampleEntropy)
			d.chosen = append(d.chosen, p.Chosen.Prob)
		}
	}
	if len(d.labels) == 0 {
		return d, fmt.Errorf("decode steps: %w", ErrNoData)
	}
	return d, nil
}

// GenerationLines charts, over the decode steps, the entropy of the raw
// next-token distribution and of the distribution actually sampled from
// (bits, left axis) and the chosen token's probability (right axis, 0…1).
// ID "next-entropy". It returns an error wrapping ErrNoData when the trace
// has no decode steps.
func GenerationLines(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	d, err := newGenerationData(tr)
	if err != nil {
		return nil, fmt.Errorf("generation lines: %w", err)
	}
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("generation lines: %w", err)
	}
	return &Chart{ID: "next-entropy", Title: lc.t("gl.title"), Option: option, Height: 360, static: d.figure(lc.static())}, nil
}

// Colours of the generation lines.
const (
	entropyHex = "#756bb1"
	sampledHex = "#bcbddc"
)

// option is the interactive form: three lines, probability on the right.
func (d generationData) option(lc settings) (json.RawMessage, error) {
	n := len(d.labels)
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "60", Top: "60", Bottom: strconv.Itoa(labelRoom(d.labels, labelRotation(n)) + 20)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: lc.t("step"), AxisLabel: axisLabelOpts(n)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("bits"), Min: 0, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	line.SetXAxis(d.labels)
	line.ExtendYAxis(opts.YAxis{Type: "value", Name: lc.t("probability"), Min: 0, Max: 1, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}, SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	line.AddSeries(lc.t("gl.entropy"), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: entropyHex}))
	line.AddSeries(lc.t("gl.sampled"), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: sampledHex}), charts.WithLineStyleOpts(opts.LineStyle{Type: "dashed"}))
	line.AddSeries(lc.t("gl.chosen"), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: chosenHex}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.YAxisIndex = 1 }))
	tree, err := treeOf(line)
	if err != nil {
		return nil, err
	}
	xa := objAt(tree, "xAxis", 0)
	xa["nameLocation"], xa["nameGap"] = "middle", labelRoom(d.labels, labelRotation(n))-10
	objAt(tree, "series", 0)["data"] = nums{V: d.entropy, Digits: 4}
	objAt(tree, "series", 1)["data"] = nums{V: d.sampled, Digits: 4}
	objAt(tree, "series", 2)["data"] = nums{V: d.chosen, Digits: 4}
	return jsonOf(tree)
}

// figure is the static form in lc's language: the three lines on one axis.
func (d generationData) figure(en settings) *staticFig {
	return &staticFig{w: 8 * vg.Inch, h: 4 * vg.Inch, draw: func(dc draw.Canvas) error {
		p := newPlot(en.t("gl.title"), en.t("step"), en.t("gl.static.y"))
		lg := newLegend()
		for _, s := range []struct {
			name string
			v    []float64
			col  string
			dash bool
		}{{en.t("gl.entropy"), d.entropy, entropyHex, false}, {en.t("gl.sampled"), d.sampled, sampledHex, true}, {en.t("gl.chosen"), d.chosen, chosenHex, false}} {
			l, err := plotter.NewLine(linePoints(s.v))
			if err != nil {
				return err
			}
			l.Color = hexColor(s.col)
			if s.dash {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(l)
			lg.add(s.name, l)
		}
		p.X.Tick.Marker = indexTicker(d.labels, 30)
		p.Y.Min = 0
		rotateX(p)
		drawWithLegend(dc, p, lg)
		return nil
	}}
}
