package viz

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

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
// more than 10, else 0.
func labelRotation(n int) float64 {
	if n > 10 {
		return 50
	}
	return 0
}

// axisLabelOpts rotates category labels when there are many.
func axisLabelOpts(n int) *opts.AxisLabel {
	return &opts.AxisLabel{Show: opts.Bool(true), FontSize: 10, Rotate: labelRotation(n)}
}

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

// PromptProbs charts, for every prompt token (tr.Scores, len PromptLen),
// P(w_i | w_<i) as bars (left axis, 0…1) and the surprisal −log2 P in bits
// as a line (right axis), with token display strings as labels. The first
// token, which has nothing before it, is marked "no context" and has no
// value. The subtitle gives the perplexity ([Perplexity]). ID "prompt-probs".
// It returns an error wrapping ErrNoData when the trace has no scores.
func PromptProbs(tr *trace.Trace, options ...Option) (*Chart, error) {
	lc, en := settingsOf(options), settings{}
	if len(tr.Scores) == 0 {
		return nil, fmt.Errorf("prompt probabilities: scores: %w", ErrNoData)
	}
	n := len(tr.Scores)
	labels, slabels := make([]string, n), make([]string, n)
	probs := make([]float64, n)
	bits := make([]float64, n)
	for i, s := range tr.Scores {
		labels[i] = tokenLabel(tr, s.Position)
		slabels[i] = labels[i]
		if s.NoContext {
			labels[i] += lc.t("pp.nocontext")
			slabels[i] += en.t("pp.nocontext")
			probs[i], bits[i] = math.NaN(), math.NaN()
			continue
		}
		probs[i], bits[i] = s.Prob, s.Surprisal
	}
	ppl, scored := Perplexity(tr.Scores)
	sub := lc.t("pp.sub", fmtSig(ppl, 4), scored)
	staticSub := en.t("pp.sub", fmtSig(ppl, 4), scored)
	if scored < n {
		sub += lc.t("pp.sub.first")
		staticSub += en.t("pp.sub.first")
	}
	const pName = "P(w_i | w_<i)"
	sName := lc.t("pp.surprisal")

	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Subtitle: sub}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "60", Top: "60", Bottom: strconv.Itoa(labelRoom(labels, labelRotation(n)))}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: labels, AxisLabel: axisLabelOpts(n)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: lc.t("probability"), Min: 0, Max: 1, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)
	bar.SetXAxis(labels)
	bar.ExtendYAxis(opts.YAxis{Type: "value", Name: lc.t("bits"), AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}, SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	bar.AddSeries(pName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#3182bd"}))
	line := charts.NewLine()
	line.AddSeries(sName, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#e6550d"}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.YAxisIndex = 1 }))
	bar.Overlap(line)
	tree, err := treeOf(bar)
	if err != nil {
		return nil, fmt.Errorf("prompt probabilities: %w", err)
	}
	objAt(tree, "series", 0)["data"] = nums{V: probs, Digits: 4}
	objAt(tree, "series", 1)["data"] = nums{V: bits, Digits: 4}
	option, err := jsonOf(tree)
	if err != nil {
		return nil, fmt.Errorf("prompt probabilities: %w", err)
	}
	c := &Chart{
		ID:       "prompt-probs",
		Title:    lc.t("pp.title"),
		Subtitle: sub,
		Option:   option,
		Height:   380,
	}
	c.static = &staticFig{w: 8 * vg.Inch, h: 4 * vg.Inch, draw: func(dc draw.Canvas) error {
		p := newPlot(en.t("pp.title")+"\n"+staticSub, "", en.t("pp.static.y"))
		labels := slabels
		if err := drawBars(p, labels, []barSeries{{name: pName, values: probs, color: hexColor("#3182bd")}}); err != nil {
			return err
		}
		maxBits := 0.0
		for _, b := range bits {
			if !math.IsNaN(b) {
				maxBits = max(maxBits, b)
			}
		}
		if maxBits > 0 {
			scaled := make([]float64, n)
			for i, b := range bits {
				scaled[i] = b / maxBits
			}
			l, err := plotter.NewLine(linePoints(scaled))
			if err == nil {
				l.Color = hexColor("#e6550d")
				p.Add(l)
				p.Legend.Add(fmt.Sprintf("%s / %s", en.t("pp.surprisal"), fmtSig(maxBits, 3)), l)
			}
		}
		p.Y.Min, p.Y.Max = 0, 1
		rotateX(p)
		p.Draw(dc)
		return nil
	}}
	return c, nil
}
