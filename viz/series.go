package viz

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SeriesChart is a bar or line chart of named series of numbers over
// categories: the form of the lessons' own measurements (n-gram surprisal
// beside the model's, attention distance per head, direct logit
// attribution per component, decoding cost per step). The caller computes
// every number and writes every word (in the page's language); the chart
// adds none.
type SeriesChart struct {
	// ID is the chart's id, 1 to 64 characters from [a-z0-9-].
	ID              string
	Title, Subtitle string
	XName, YName    string
	// Categories label the x axis, one per value of each series.
	Categories []string
	Series     []Series
	// Line draws lines with markers instead of grouped bars.
	Line bool
	// LogY uses a logarithmic y axis (every value must then be > 0).
	LogY bool
	// FitY spans the y axis over the values, not from zero, so that small
	// changes of large values show (a loss curve's bumps). The static form
	// of a line chart always does.
	FitY bool
}

// Series is one named series, len(Categories) values (NaN: no value).
type Series struct {
	Name   string
	Values []float64
	Color  string // "#rrggbb", or "" for the palette's next colour
}

// seriesColors are the series colours used when Series.Color is empty.
var seriesColors = []string{"#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363", "#e7ba52"}

// NewSeriesChart builds the chart of s. It returns an error wrapping
// ErrInvalid for a bad ID, no categories or series, a series of the wrong
// length or colour, or a value ≤ 0 on a logarithmic axis; ErrNoData when
// every value is NaN.
func NewSeriesChart(s SeriesChart) (*Chart, error) {
	if !validChartID(s.ID) {
		return nil, fmt.Errorf("series chart: id %q: want 1 to 64 of [a-z0-9-]: %w", s.ID, ErrInvalid)
	}
	if len(s.Categories) == 0 || len(s.Series) == 0 {
		return nil, fmt.Errorf("series chart %s: %d categories, %d series: %w", s.ID, len(s.Categories), len(s.Series), ErrInvalid)
	}
	any := false
	for i := range s.Series {
		sr := &s.Series[i]
		if len(sr.Values) != len(s.Categories) {
			return nil, fmt.Errorf("series chart %s: series %q has %d values for %d categories: %w", s.ID, sr.Name, len(sr.Values), len(s.Categories), ErrInvalid)
		}
		if sr.Color == "" {
			sr.Color = seriesColors[i%len(seriesColors)]
		} else if c := hexColor(sr.Color); len(sr.Color) != 7 || fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) != sr.Color {
			return nil, fmt.Errorf("series chart %s: colour %q: want #rrggbb: %w", s.ID, sr.Color, ErrInvalid)
		}
		for _, v := range sr.Values {
			if math.IsNaN(v) {
				continue
			}
			any = true
			if s.LogY && !(v > 0) {
				return nil, fmt.Errorf("series chart %s: value %g on a logarithmic axis: %w", s.ID, v, ErrInvalid)
			}
		}
	}
	if !any {
		return nil, fmt.Errorf("series chart %s: every value missing: %w", s.ID, ErrNoData)
	}
	option, err := s.option()
	if err != nil {
		return nil, fmt.Errorf("series chart %s: %w", s.ID, err)
	}
	h := 380 + s.bottom() - 90 // taller by the room long labels take
	if len(s.Series) > 3 {
		h += 20 * ((len(s.Series) + 2) / 3)
	}
	return &Chart{ID: s.ID, Title: s.Title, Subtitle: s.Subtitle, Option: option, Height: h, static: s.figure()}, nil
}

// validChartID reports whether id is 1 to 64 of [a-z0-9-].
func validChartID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// rotation is the x labels' rotation: 45° from 13 categories on.
func (s SeriesChart) rotation() float64 {
	if len(s.Categories) > 12 {
		return 45
	}
	return 0
}

// bottom is the room below the plot, px: the longest rotated label and
// the axis name, at least 90.
func (s SeriesChart) bottom() int { return max(90, labelRoom(s.Categories, s.rotation())+25) }

// left is the room, px, left of the plot for the y axis's labels: ECharts
// writes them with thousands separators ("1,000,000,000", 13 characters
// of about 7 px at its 12 px default), and a fixed 80 px clipped the top
// label of a log axis of FLOPs. The widest label is taken as that of the
// largest magnitude, rounded up to a power of ten on a log axis.
func (s SeriesChart) left() int {
	top := 0.0
	for _, sr := range s.Series {
		for _, v := range sr.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				top = math.Max(top, math.Abs(v))
			}
		}
	}
	if s.LogY && top > 0 {
		top = math.Pow(10, math.Ceil(math.Log10(top)))
	}
	digits := len(strconv.FormatFloat(math.Floor(top), 'f', 0, 64))
	chars := digits + (digits-1)/3 // with the separators
	return max(80, 7*chars+20)
}

// option is the interactive form.
func (s SeriesChart) option() (json.RawMessage, error) {
	yType := "value"
	if s.LogY {
		yType = "log"
	}
	var fitY *bool // omitted unless set: the other charts' options stay as they were
	if s.FitY {
		fitY = opts.Bool(true)
	}
	rotate := s.rotation()
	interval := ""
	if len(s.Categories) <= maxAllLabels {
		interval = "0" // every label, not every other one
	}
	global := []charts.GlobalOpts{
		charts.WithTitleOpts(opts.Title{Subtitle: s.Subtitle}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Right: "10", Top: "40"}),
		// Room below for the longest rotated label and the axis name, so
		// that a long label ("final LayerNorm bias") is not clipped.
		charts.WithGridOpts(opts.Grid{Left: strconv.Itoa(s.left()), Right: "30", Top: "90", Bottom: strconv.Itoa(s.bottom())}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: s.XName, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Rotate: rotate, Interval: interval}}),
		charts.WithYAxisOpts(opts.YAxis{Type: yType, Name: s.YName, Scale: fitY, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	}
	var c echartsJSONer
	if s.Line {
		l := charts.NewLine()
		l.SetGlobalOptions(global...)
		l.SetXAxis(s.Categories)
		for _, sr := range s.Series {
			l.AddSeries(sr.Name, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: sr.Color}))
		}
		c = l
	} else {
		b := charts.NewBar()
		b.SetGlobalOptions(global...)
		b.SetXAxis(s.Categories)
		for _, sr := range s.Series {
			b.AddSeries(sr.Name, nil, charts.WithItemStyleOpts(opts.ItemStyle{Color: sr.Color}))
		}
		c = b
	}
	tree, err := treeOf(c)
	if err != nil {
		return nil, err
	}
	xa := objAt(tree, "xAxis", 0)
	xa["nameLocation"], xa["nameGap"] = "middle", 60
	for i, sr := range s.Series {
		objAt(tree, "series", i)["data"] = nums{V: sr.Values, Digits: 4}
	}
	return jsonOf(tree)
}

// figure is the static form: the same series drawn by gonum/plot.
func (s SeriesChart) figure() *staticFig {
	return &staticFig{w: 8 * vg.Inch, h: 4 * vg.Inch, draw: func(dc draw.Canvas) error {
		title := s.Title
		if s.Subtitle != "" {
			title += "\n" + s.Subtitle
		}
		p := newPlot(title, s.XName, s.YName)
		if s.LogY {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		}
		l := newLegend()
		n := len(s.Series)
		w := vg.Points(math.Max(2, 300/float64(len(s.Categories)*n)))
		for i, sr := range s.Series {
			col := hexColor(sr.Color)
			if s.Line {
				ln, err := plotter.NewLine(linePoints(sr.Values))
				if err != nil {
					return err
				}
				ln.Color = col
				p.Add(ln)
				l.add(sr.Name, ln)
				continue
			}
			vals := make(plotter.Values, len(sr.Values))
			for j, v := range sr.Values {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					vals[j] = v
				}
			}
			b, err := plotter.NewBarChart(vals, w)
			if err != nil {
				return err
			}
			b.Color, b.LineStyle.Width = col, 0
			b.Offset = w * vg.Length(float64(i)-float64(n-1)/2)
			p.Add(b)
			l.add(sr.Name, b)
		}
		p.X.Tick.Marker = indexTicker(s.Categories, 30)
		if len(s.Categories) > 12 {
			rotateX(p)
		}
		drawWithLegend(dc, p, l)
		return nil
	}}
}
