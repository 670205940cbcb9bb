package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ramp is a colour scale: colours evenly spaced from lo to hi, linearly
// interpolated in sRGB. It implements palette.ColorMap for colour bars.
type ramp struct {
	stops  []color.NRGBA
	lo, hi float64
	alpha  float64
}

// Colour scales. Probabilities use a sequential white→blue scale (ECharts
// and the static figures use the same stops); signed values (keys, values
// in the KV cache) a diverging blue–white–red scale symmetric around 0.
var (
	seqStops  = []string{"#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"}
	divStops  = []string{"#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"}
	maskedHex = "#d4d4d4" // masked cells: grid background grey
	// notRecordedHex marks rows the trace did not record: a pale sand,
	// unlike the masked grey and every colour of the scales.
	notRecordedHex = "#f0dfb4"
)

func hexColor(s string) color.NRGBA {
	var c color.NRGBA
	c.A = 255
	fmt.Sscanf(s, "#%02x%02x%02x", &c.R, &c.G, &c.B)
	return c
}

func newRamp(stops []string, lo, hi float64) *ramp {
	r := &ramp{lo: lo, hi: hi, alpha: 1}
	for _, s := range stops {
		r.stops = append(r.stops, hexColor(s))
	}
	r.lo, r.hi = colorRange(lo, hi)
	return r
}

// colorRange returns a colour scale's range [lo, hi] widened so that
// gonum/plot can draw and label it: finite, and hi above lo by at least a
// thousandth of their magnitude. Constant values (hi == lo) or huge ones
// (1e20 + 1 == 1e20) would otherwise give a colour bar an empty range
// (gonum panics "ColorMap Max==Min") or ticks too close to tell apart.
// A widened range keeps lo and raises hi by max(1, |lo|/1000).
func colorRange(lo, hi float64) (float64, float64) {
	if math.IsNaN(lo) || math.IsInf(lo, 0) {
		lo = 0
	}
	if math.IsNaN(hi) || math.IsInf(hi, 0) {
		hi = lo
	}
	if !(hi-lo >= 1e-3*max(math.Abs(lo), math.Abs(hi))) || hi <= lo {
		hi = lo + max(1, math.Abs(lo)/1000)
	}
	return lo, hi
}

// color returns the colour of v (clamped to [lo, hi]).
func (r *ramp) color(v float64) color.NRGBA {
	t := (v - r.lo) / (r.hi - r.lo)
	if math.IsNaN(t) {
		t = 0
	}
	t = min(1, max(0, t)) * float64(len(r.stops)-1)
	i := min(int(t), len(r.stops)-2)
	f := t - float64(i)
	a, b := r.stops[i], r.stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// At implements palette.ColorMap.
func (r *ramp) At(v float64) (color.Color, error) { return r.color(v), nil }

// Max implements palette.ColorMap.
func (r *ramp) Max() float64 { return r.hi }

// SetMax implements palette.ColorMap.
func (r *ramp) SetMax(v float64) { r.hi = v }

// Min implements palette.ColorMap.
func (r *ramp) Min() float64 { return r.lo }

// SetMin implements palette.ColorMap.
func (r *ramp) SetMin(v float64) { r.lo = v }

// Alpha implements palette.ColorMap.
func (r *ramp) Alpha() float64 { return r.alpha }

// SetAlpha implements palette.ColorMap.
func (r *ramp) SetAlpha(a float64) { r.alpha = a }

// Palette implements palette.ColorMap.
func (r *ramp) Palette(n int) palette.Palette {
	cs := make([]color.Color, n)
	for i := range cs {
		cs[i] = r.color(r.lo + (r.hi-r.lo)*float64(i)/float64(max(1, n-1)))
	}
	return colorList(cs)
}

// colorList is a palette.Palette of fixed colours.
type colorList []color.Color

// Colors implements palette.Palette.
func (l colorList) Colors() []color.Color { return l }

// raster draws a matrix as an image with one block of pixels per cell:
// nearest-neighbour scaling to the canvas resolution, so cells stay crisp.
// Row 0 is at the top. Masked cells are grey.
type raster struct {
	m    *matrix
	cmap *ramp
}

// DataRange implements plot.DataRanger: columns on x, rows on y.
func (r *raster) DataRange() (xmin, xmax, ymin, ymax float64) {
	return 0, float64(r.m.cols), 0, float64(r.m.rows)
}

// Plot implements plot.Plotter.
func (r *raster) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	rect := vg.Rectangle{
		Min: vg.Point{X: trX(0), Y: trY(0)},
		Max: vg.Point{X: trX(float64(r.m.cols)), Y: trY(float64(r.m.rows))},
	}
	dpi, scale := 72.0, 3.0 // SVG: points; oversample so viewers scale little
	if d, ok := c.Canvas.(interface{ DPI() float64 }); ok {
		dpi, scale = d.DPI(), 1
	}
	size := rect.Size()
	w := int(math.Round(size.X.Dots(dpi) * scale))
	h := int(math.Round(size.Y.Dots(dpi) * scale))
	w, h = min(max(w, r.m.cols, 1), 4096), min(max(h, r.m.rows, 1), 4096)
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	grey, sand := hexColor(maskedHex), hexColor(notRecordedHex)
	colOf := make([]int, w)
	for x := range colOf {
		colOf[x] = min(x*r.m.cols/w, r.m.cols-1)
	}
	rowColors := make([]color.NRGBA, r.m.cols)
	lastRow := -1
	for y := 0; y < h; y++ {
		row := min(y*r.m.rows/h, r.m.rows-1)
		if row != lastRow {
			for k := range rowColors {
				if row < len(r.m.unrecorded) && r.m.unrecorded[row] {
					rowColors[k] = sand
				} else if v, ok := r.m.at(row, k); ok {
					rowColors[k] = r.cmap.color(v)
				} else {
					rowColors[k] = grey
				}
			}
			lastRow = row
		}
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, rowColors[colOf[x]])
		}
	}
	c.DrawImage(rect, img)
}

// labelTicker puts labels at cell centres, at most max of them (every k-th),
// for n cells; inverted puts cell 0 at the top.
func labelTicker(labels []string, maxLabels int, inverted bool) plot.Ticker {
	n := len(labels)
	step := max(1, (n+maxLabels-1)/max(1, maxLabels))
	return plot.TickerFunc(func(_, _ float64) []plot.Tick {
		var ts []plot.Tick
		for i := 0; i < n; i += step {
			v := float64(i) + 0.5
			if inverted {
				v = float64(n-i) - 0.5
			}
			ts = append(ts, plot.Tick{Value: v, Label: staticText(labels[i])})
		}
		return ts
	})
}

// indexTicker labels x = 0, 1, … with labels, at most maxLabels of them.
func indexTicker(labels []string, maxLabels int) plot.Ticker {
	step := max(1, (len(labels)+maxLabels-1)/max(1, maxLabels))
	return plot.TickerFunc(func(_, _ float64) []plot.Tick {
		var ts []plot.Tick
		for i := 0; i < len(labels); i += step {
			ts = append(ts, plot.Tick{Value: float64(i), Label: staticText(labels[i])})
		}
		return ts
	})
}

// Type sizes of the static figures, points: at 96 dpi, tick labels of
// 9 pt are 12 px high.
const (
	titlePt  = 12
	labelPt  = 10
	tickPt   = 9
	legendPt = 9
)

// newPlot returns a plot with the project's look: title, axis names, light
// grid-free frame, text drawn by figText.
func newPlot(title, xName, yName string) *plot.Plot {
	p := figPlot()
	p.Title.Text = staticTitle(title)
	p.Title.TextStyle.Font.Size = vg.Points(titlePt)
	p.X.Label.Text = staticText(xName)
	p.Y.Label.Text = staticText(yName)
	p.X.Label.TextStyle.Font.Size = vg.Points(labelPt)
	p.Y.Label.TextStyle.Font.Size = vg.Points(labelPt)
	p.X.Tick.Label.Font.Size = vg.Points(tickPt)
	p.Y.Tick.Label.Font.Size = vg.Points(tickPt)
	return p
}

// legend is a plot legend drawn beside the data, never over it (see
// drawWithLegend).
type legend struct {
	l plot.Legend
	n int
}

func newLegend() *legend {
	l := figLegend()
	l.TextStyle.Font.Size = vg.Points(legendPt)
	l.Top, l.Left = true, true
	return &legend{l: l}
}

// add adds an entry named name (made drawable by staticText).
func (l *legend) add(name string, thumbs ...plot.Thumbnailer) {
	l.l.Add(staticText(name), thumbs...)
	l.n++
}

// drawWithLegend draws p with the legend in a column at its right, level
// with the top of the data; the plot gets the rest of the width.
func drawWithLegend(dc draw.Canvas, p *plot.Plot, l *legend) {
	if l == nil || l.n == 0 {
		drawPlot(dc, p)
		return
	}
	r := l.l.Rectangle(dc)
	w := r.Max.X - r.Min.X + vg.Points(16)
	drawPlot(draw.Crop(dc, 0, -w, 0, 0), p)
	top := vg.Length(0)
	if p.Title.Text != "" {
		top = p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding + vg.Points(6)
	}
	l.l.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-w+vg.Points(8), 0, 0, -top))
}

// drawPlot draws p on dc with its title wrapped to dc's width (fitTitle).
func drawPlot(dc draw.Canvas, p *plot.Plot) {
	fitTitle(p, dc.Max.X-dc.Min.X)
	p.Draw(dc)
}

// fitTitle breaks the lines of p's title so that none is wider than w:
// plot.Plot centres its title over the canvas and clips nothing, so a
// longer line would run off both edges of the figure. Lines break between
// words, and a word wider than w (CJK text has no spaces) between runes.
func fitTitle(p *plot.Plot, w vg.Length) {
	if p.Title.Text == "" || w <= 0 {
		return
	}
	st := p.Title.TextStyle
	var out []string
	for _, line := range strings.Split(p.Title.Text, "\n") {
		out = append(out, wrapLine(line, w, st.Width)...)
	}
	p.Title.Text = strings.Join(out, "\n")
}

// wrapLine splits line into lines no wider than w as measured by width,
// greedily; a single rune wider than w stays on a line of its own.
func wrapLine(line string, w vg.Length, width func(string) vg.Length) []string {
	if width(line) <= w {
		return []string{line}
	}
	var out []string
	cur := ""
	for _, word := range strings.Fields(line) {
		cand := word
		if cur != "" {
			cand = cur + " " + word
		}
		if width(cand) <= w {
			cur = cand
			continue
		}
		if cur != "" {
			out = append(out, cur)
		}
		cur = word
		for width(cur) > w {
			head, rest := fitPrefix(cur, w, width)
			out = append(out, head)
			cur = rest
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// fitPrefix splits s after the longest prefix of at least one rune that
// is no wider than w.
func fitPrefix(s string, w vg.Length, width func(string) vg.Length) (head, rest string) {
	end := 0
	for i, r := range s {
		next := i + utf8.RuneLen(r)
		if end > 0 && width(s[:next]) > w {
			break
		}
		end = next
	}
	return s[:end], s[end:]
}

// rotateX turns the x tick labels so long token labels do not overlap.
func rotateX(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 3
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
}

// heatPlot is the static form of a heatmap: the raster, row and column
// labels, and a colour bar beside it.
func heatPlot(lc settings, title, xName, yName string, m *matrix, cmap *ramp) func(c draw.Canvas) error {
	return func(c draw.Canvas) error {
		p := newPlot(title, xName, yName)
		p.Add(&raster{m: m, cmap: cmap})
		p.X.Min, p.X.Max = 0, float64(m.cols)
		p.Y.Min, p.Y.Max = 0, float64(m.rows)
		p.X.Tick.Marker = labelTicker(m.colLabels, 40, false)
		p.Y.Tick.Marker = labelTicker(m.rowLabels, 40, true)
		rotateX(p)
		barW := vg.Points(70)
		var l *legend
		if m.nUnrecorded() > 0 {
			barW = vg.Points(110)
			l = newLegend()
			l.add(lc.t("masked.legend"), swatch(hexColor(maskedHex)))
			l.add(lc.t("notrec.legend"), swatch(hexColor(notRecordedHex)))
		}
		main := draw.Crop(c, 0, -barW, 0, 0)
		drawPlot(main, p)
		if l != nil {
			l.l.Top = false
			l.l.Draw(draw.Crop(c, c.Max.X-c.Min.X-barW+vg.Points(10), 0, 0, 0))
			c = draw.Crop(c, 0, 0, l.l.Rectangle(c).Size().Y+vg.Points(10), 0)
		}
		bar := figPlot()
		bar.HideX()
		bar.Y.Tick.Label.Font.Size = vg.Points(tickPt)
		bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
		bar.Y.Min, bar.Y.Max = cmap.lo, cmap.hi
		bc := draw.Crop(c, c.Max.X-c.Min.X-barW+vg.Points(14), 0, vg.Points(60), -vg.Points(30))
		bar.Draw(bc)
		return nil
	}
}

// swatch is a legend thumbnail: a box of one colour.
type swatch color.NRGBA

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(color.NRGBA(s), c.ClipPolygonY([]vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}}))
}

// staticTitle is staticText for each line of a multi-line title.
func staticTitle(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = staticText(l)
	}
	return strings.Join(lines, "\n")
}

// staticText returns s with every rune the static figures' fonts cannot
// draw replaced by a readable stand-in: "\n" for "↵" and a newline, "\t",
// "\x01"-style escapes for control bytes, and "U+1F600"-style code points
// for the rest (emoji; CJK too when no CJK font was found: see [CJKFont]).
// The visible space "␣" stays: figText draws it.
func staticText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '␣':
			b.WriteRune(r)
			continue
		case '↵', '\n':
			b.WriteString(`\n`)
			continue
		case '\t':
			b.WriteString(`\t`)
			continue
		}
		if r < ' ' {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		if !covered(r) {
			fmt.Fprintf(&b, "U+%04X", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// barPlot draws grouped bars over named categories: one group of values per
// series, each with its colour. NaN values are drawn as gaps.
type barSeries struct {
	name   string
	values []float64
	color  color.Color
}

func drawBars(p *plot.Plot, l *legend, labels []string, series []barSeries) error {
	n := len(series)
	width := vg.Points(min(16, 480/float64(max(1, len(labels)*n))))
	for i, s := range series {
		vals := make(plotter.Values, len(s.values))
		for j, v := range s.values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals[j] = v
			}
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return fmt.Errorf("bars %q: %w", s.name, err)
		}
		b.Color = s.color
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(i)-float64(n-1)/2) * width
		p.Add(b)
		if s.name != "" {
			l.add(s.name, b)
		}
	}
	p.X.Tick.Marker = indexTicker(labels, 40)
	p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	return nil
}

// linePoints turns values into plotter points at x = 0, 1, …, skipping NaN.
func linePoints(values []float64) plotter.XYs {
	var pts plotter.XYs
	for i, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			pts = append(pts, plotter.XY{X: float64(i), Y: v})
		}
	}
	return pts
}
