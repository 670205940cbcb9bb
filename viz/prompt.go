package viz

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gptviz/gptviz/internal/numfmt"
	"github.com/gptviz/gptviz/model/trace"
)

// Perplexity returns the perplexity of scored tokens, 2^(mean surprisal in
// bits) = exp(mean −ln P(w_i | w_<i)) (Jurafsky & Martin, "Speech and
// Language Processing", ch. 3), and how many tokens it averages. Tokens
// marked NoContext are skipped. With no scored token it returns (NaN, 0).
func Perplexity(scores []trace.Score) (ppl float64, n int) {
	var sum float64
	for _, s := range scores {
		if s.NoContext {
			continue
		}
		sum += s.Surprisal
		n++
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return math.Exp2(sum / float64(n)), n
}

// labelRotation is the rotation of n category labels: 50° when there are
// more than 6, else 0.
func labelRotation(n int) float64 {
	if n > 6 {
		return 50
	}
	return 0
}

// axisLabelOpts rotates category labels when there are many, and shows
// every one of them (ECharts would otherwise drop every other label) up to
// maxAllLabels.
func axisLabelOpts(n int) *opts.AxisLabel {
	l := &opts.AxisLabel{Show: opts.Bool(true), FontSize: 10, Rotate: labelRotation(n)}
	if n <= maxAllLabels {
		l.Interval = "0"
	}
	return l
}

// maxAllLabels is the most category labels a chart shows all of; beyond,
// ECharts picks an interval so that they do not overlap.
const maxAllLabels = 64

// labelRoom is the room in pixels below an x axis for labels at font size
// 10 rotated by rotate degrees.
func labelRoom(labels []string, rotate float64) int {
	longest := 0
	for _, l := range labels {
		longest = max(longest, utf8.RuneCountInString(l))
	}
	if rotate == 0 {
		return 40
	}
	return 30 + int(6*float64(longest)*math.Sin(rotate*math.Pi/180))
}

// promptData is what the prompt chart shows: per prompt token its label
// ("position token"), P(w_i | w_<i) and surprisal in bits (NaN for a token
// with no context), and the prompt's perplexity over the scored tokens.
type promptData struct {
	labels      []string
	noContext   []bool
	probs, bits []float64
	ppl         float64
	scored      int
}

// newPromptData gathers tr.Scores. It returns an error wrapping ErrNoData
// when the trace has no scores.
func newPromptData(tr *trace.Trace) (promptData, error) {
	if len(tr.Scores) == 0 {
		return promptData{}, fmt.Errorf("scores: %w", ErrNoData)
	}
	n := len(tr.Scores)
	d := promptData{labels: make([]string, n), noContext: make([]bool, n), probs: make([]float64, n), bits: make([]float64, n)}
	for i, s := range tr.Scores {
		d.labels[i] = tokenLabel(tr, s.Position)
		d.noContext[i] = s.NoContext
		d.probs[i], d.bits[i] = s.Prob, s.Surprisal
		if s.NoContext {
			d.probs[i], d.bits[i] = math.NaN(), math.NaN()
		}
	}
	d.ppl, d.scored = Perplexity(tr.Scores)
	return d, nil
}

// axisLabels are the token labels, those without context marked.
func (d promptData) axisLabels(lc settings) []string {
	out := make([]string, len(d.labels))
	for i, l := range d.labels {
		out[i] = l
		if d.noContext[i] {
			out[i] += lc.t("pp.nocontext")
		}
	}
	return out
}

// subtitle gives the perplexity, formatted as the report's text does
// (numfmt.Sig, 4 significant digits: the rule of the report's text), and says why the first token has
// none.
func (d promptData) subtitle(lc settings) string {
	key := "pp.sub"
	if d.scored == 1 {
		key = "pp.sub.one"
	}
	sub := lc.t(key, numfmt.Sig(d.ppl, 4), d.scored)
	if d.scored < len(d.labels) {
		sub += lc.t("pp.sub.first")
	}
	return sub
}

// promptProbName is the name of the probability series in both languages.
const promptProbName = "P(w_i | w_<i)"

// PromptProbs charts, for every prompt token (tr.Scores, len PromptLen),
// P(w_i | w_<i) as bars (left axis, 0…1) and the surprisal −log2 P in bits
// as a line (right axis), with token display strings as labels. The first
// token, which has nothing before it, is marked "no context" and has no
// value. The subtitle gives the perplexity ([Perplexity]). ID "prompt-probs".
// It returns an error wrapping ErrNoData when the trace has no scores.
func PromptProbs(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	d, err := newPromptData(tr)
	if err != nil {
		return nil, fmt.Errorf("prompt probabilities: %w", err)
	}
	option, err := d.option(lc)
	if err != nil {
		return nil, fmt.Errorf("prompt probabilities: %w", err)
	}
	return &Chart{
		ID:       "prompt-probs",
		Title:    lc.t("pp.title"),
		Subtitle: d.subtitle(lc),
		Option:   option,
		Height:   380,
		static:   d.figure(lc.static()),
	}, nil
}

// option is the interactive form: bars of P, a line of surprisal.
func (d promptData) option(lc settings) (json.RawMessage, error) {
	labels, n := d.axisLabels(lc), len(d.labels)
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: d.subtitle(lc)}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "60", Top: "60", Bottom: strconv.Itoa(labelRoom(labels, labelRotation(n)))}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: labels, AxisLabel: axisLabelOpts(n)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("probability"), Min: 0, Max: 1, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	bar.SetXAxis(labels)
	bar.ExtendYAxis(opts.YAxis{Type: "value", Name: lc.t("bits"), AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}, SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	bar.AddSeries(promptProbName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#3182bd"}))
	line := charts.NewLine()
	line.AddSeries(lc.t("pp.surprisal"), nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#e6550d"}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.YAxisIndex = 1 }))
	bar.Overlap(line)
	tree, err := treeOf(bar)
	if err != nil {
		return nil, err
	}
	objAt(tree, "series", 0)["data"] = nums{V: d.probs, Digits: 4}
	objAt(tree, "series", 1)["data"] = nums{V: d.bits, Digits: 4}
	return jsonOf(tree)
}

// figure is the static form in lc's language: bars of P and, on the same
// axis, surprisal divided by its largest value.
func (d promptData) figure(lc settings) *staticFig {
	return &staticFig{w: 8 * vg.Inch, h: 4 * vg.Inch, draw: func(dc draw.Canvas) error {
		p := newPlot(lc.t("pp.title")+"\n"+d.subtitle(lc), "", lc.t("pp.static.y"))
		l := newLegend()
		if err := drawBars(p, l, d.axisLabels(lc), []barSeries{{name: promptProbName, values: d.probs, color: hexColor("#3182bd")}}); err != nil {
			return err
		}
		if scaled, maxBits := scaleToMax(d.bits); maxBits > 0 {
			line, err := plotter.NewLine(linePoints(scaled))
			if err != nil {
				return err
			}
			line.Color = hexColor("#e6550d")
			p.Add(line)
			l.add(fmt.Sprintf("%s / %s", lc.t("pp.surprisal"), fmtSig(maxBits, 3)), line)
		}
		p.Y.Min, p.Y.Max = 0, 1
		rotateX(p)
		drawWithLegend(dc, p, l)
		return nil
	}}
}

// scaleToMax divides values by their largest finite value m > 0 and
// returns them with m (NaN and ±Inf stay gaps); m is 0 when no value is
// finite and positive, and values are then returned as they are.
func scaleToMax(values []float64) (scaled []float64, m float64) {
	for _, v := range values {
		if !math.IsInf(v, 0) && v > m {
			m = v
		}
	}
	if m == 0 {
		return values, 0
	}
	scaled = make([]float64, len(values))
	for i, v := range values {
		scaled[i] = v / m
	}
	return scaled, m
}
