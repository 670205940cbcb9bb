package viz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/gptviz/gptviz/model/trace"
)

// MaxSide is the most rows or columns an interactive heatmap shows. Longer
// sides are block-averaged: each cell then averages a stride × stride block
// of positions, and the chart says so (title, [Chart.Notes]).
const MaxSide = 256

// ThumbSide is the most rows or columns of one small multiple in the
// attention model view ([AttentionGrid]).
const ThumbSide = 32

// Errors wrapped by the chart functions.
var (
	// ErrNoData: the trace lacks what the chart shows (for example no decode
	// steps, or attention not recorded). Callers can skip the chart.
	ErrNoData = errors.New("not in the trace")
	// ErrRange: a layer, head or position is outside the model's shape.
	ErrRange = errors.New("out of range")
	// ErrInvalid: the trace contradicts itself (negative or implausibly
	// large positions, a window that starts after its queries).
	ErrInvalid = errors.New("inconsistent trace")
)

// maxPositions bounds the positions a trace may claim (2^24), so that a
// corrupt trace cannot make a chart loop for hours.
const maxPositions = 1 << 24

// checkStep returns an error wrapping ErrInvalid when a step's positions
// are negative, out of order or implausibly large.
func checkStep(st *trace.Step) error {
	switch {
	case st.QueryStart < 0 || st.NQuery < 0 || st.WindowStart < 0:
		return fmt.Errorf("step %d: negative position (query_start %d, n_query %d, window_start %d): %w", st.Index, st.QueryStart, st.NQuery, st.WindowStart, ErrInvalid)
	case st.QueryStart+st.NQuery > maxPositions:
		return fmt.Errorf("step %d: %d positions: more than %d: %w", st.Index, st.QueryStart+st.NQuery, maxPositions, ErrInvalid)
	case st.WindowStart > st.QueryStart:
		return fmt.Errorf("step %d: window starts at %d, after the first query %d: %w", st.Index, st.WindowStart, st.QueryStart, ErrInvalid)
	}
	for l, la := range st.Attention {
		if la.KeyStride < 0 || la.KeyStride > maxPositions {
			return fmt.Errorf("step %d: layer %d: key stride %d: %w", st.Index, l, la.KeyStride, ErrInvalid)
		}
	}
	return nil
}

// checkSteps is checkStep for every step of tr.
func checkSteps(tr *trace.Trace) error {
	for i := range tr.Steps {
		if err := checkStep(&tr.Steps[i]); err != nil {
			return err
		}
	}
	return nil
}

// Chart is one figure built from a trace.
//
// Option is what echarts.setOption takes, as JSON: pure data, no JavaScript
// (tooltips and labels use ECharts string templates), strings HTML-escaped by
// encoding/json. It has no main title of its own (show Title above it); it
// may carry the subtitle and, for charts with a step slider, one title per
// step. Static draws the same data with gonum/plot.
type Chart struct {
	// ID is fixed and deterministic, 1 to 64 characters from [a-z0-9-],
	// e.g. "attn-l3-h5" for layer 3, head 5 (real indices, 0-based).
	ID string
	// Title is a short plain-text caption, e.g. "Attention, layer 3, head 5".
	Title string
	// Subtitle is plain text under the title: the formula, the stride of a
	// downsampled grid, the perplexity. May be empty.
	Subtitle string
	// Option is the complete ECharts option (ECharts 5), JSON.
	Option json.RawMessage
	// Height is the suggested height of the interactive chart, CSS pixels.
	Height int
	// Notes say in plain words what was summarised to draw this chart
	// (block averages, sampled positions). Empty when nothing was.
	Notes []string

	static *staticFig
}

// staticFig is a chart's static rendering: a drawing function and its size.
type staticFig struct {
	w, h vg.Length
	draw func(c draw.Canvas) error
}

// Static writes the chart drawn by gonum/plot to w. format is "svg" (an SVG
// document; heatmaps embedded as nearest-neighbour PNG images) or "png"
// (96 dpi). It returns an error for any other format, for a chart without a
// static form, or when writing fails.
func (c *Chart) Static(w io.Writer, format string) error {
	if c.static == nil {
		return fmt.Errorf("chart %s: %w: no static rendering", c.ID, ErrNoData)
	}
	var cw vg.CanvasWriterTo
	switch format {
	case "svg":
		cw = vgsvg.New(c.static.w, c.static.h)
	case "png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(c.static.w, c.static.h), vgimg.UseDPI(staticDPI))}
	default:
		return fmt.Errorf("chart %s: static format %q: want \"svg\" or \"png\"", c.ID, format)
	}
	// A margin of 4 pt: glyphs of the CJK font reach above its ascent.
	m := vg.Points(4)
	dc := draw.Crop(draw.New(cw), m, -m, m, -m)
	if err := drawSafely(dc, c.static.draw); err != nil {
		return fmt.Errorf("chart %s: draw %s: %w", c.ID, format, err)
	}
	if _, err := cw.WriteTo(w); err != nil {
		return fmt.Errorf("chart %s: write %s: %w", c.ID, format, err)
	}
	return nil
}

// staticDPI is the resolution of PNG renderings.
const staticDPI = 96

// drawSafely runs fn, turning a panic inside gonum/plot (which panics on a
// few degenerate inputs) into an error: bad input never panics.
func drawSafely(dc draw.Canvas, fn func(draw.Canvas) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gonum/plot: %v", r)
		}
	}()
	return fn(dc)
}

// jsonOf marshals an option tree with encoding/json (HTML-escaping strings).
// Multi-line subtitles get a line height (ECharts' default overlaps them).
func jsonOf(opt map[string]any) (json.RawMessage, error) {
	spaceSubtitles(opt["title"])
	showEndLabels(opt)
	if base, ok := opt["baseOption"].(map[string]any); ok {
		spaceSubtitles(base["title"])
		showEndLabels(base)
	}
	if os, ok := opt["options"].([]any); ok {
		for _, o := range os {
			if m, ok := o.(map[string]any); ok {
				spaceSubtitles(m["title"])
				showEndLabels(m)
			}
		}
	}
	// Draw heatmaps in one pass: ECharts' progressive rendering draws big
	// ones a chunk per frame, and browsers pause that off screen.
	if ss, ok := opt["series"].([]any); ok {
		for _, s := range ss {
			if m, ok := s.(map[string]any); ok && m["type"] == "heatmap" {
				m["progressive"] = 0
			}
		}
	}
	if vms, ok := opt["visualMap"].([]any); ok {
		for _, v := range vms {
			if m, ok := v.(map[string]any); ok && m["precision"] == nil {
				m["precision"] = 2 // handle labels: 4.38, not 4
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(opt); err != nil {
		return nil, fmt.Errorf("marshal option: %w", err)
	}
	return json.RawMessage(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// spaceSubtitles sets a line height on every title (object or array of
// objects) whose subtext has several lines.
func spaceSubtitles(t any) {
	var ts []any
	switch v := t.(type) {
	case map[string]any:
		ts = []any{v}
	case []any:
		ts = v
	}
	for _, x := range ts {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		if sub, _ := m["subtext"].(string); strings.Contains(sub, "\n") {
			st, _ := m["subtextStyle"].(map[string]any)
			if st == nil {
				st = map[string]any{}
				m["subtextStyle"] = st
			}
			st["lineHeight"] = 16
		}
	}
}

// showEndLabels makes every category axis of an option (xAxis, yAxis,
// object or array) show its first and last labels: ECharts otherwise hides
// them when they would touch their neighbours, and they are often the
// points a text refers to (the first and last token, the longest window).
// An axis that says otherwise (false) keeps its choice.
func showEndLabels(opt map[string]any) {
	for _, key := range []string{"xAxis", "yAxis"} {
		var axes []any
		switch v := opt[key].(type) {
		case map[string]any:
			axes = []any{v}
		case []any:
			axes = v
		}
		for _, a := range axes {
			ax, ok := a.(map[string]any)
			if !ok || ax["type"] != "category" {
				continue
			}
			al, _ := ax["axisLabel"].(map[string]any)
			if al == nil {
				al = map[string]any{}
				ax["axisLabel"] = al
			}
			if show, _ := al["show"].(bool); al["show"] != nil && !show {
				continue // labels hidden on purpose
			}
			for _, k := range []string{"showMinLabel", "showMaxLabel"} {
				if v, ok := al[k].(bool); !ok || v {
					al[k] = true
				}
			}
		}
	}
}

// inertTemplate keeps a string shown through an ECharts label template
// ("{b}") from being read as a template itself: ECharts replaces "{@dim}"
// in a formatted label with a data value, so a zero-width space goes
// between "{" and "@". The text looks the same.
func inertTemplate(s string) string {
	return strings.ReplaceAll(s, "{@", "{\u200b@")
}

// nameAxis puts an axis name in the middle of a category axis, clear of
// its labels (fontSize 9-10, rotated by rotate degrees on an x axis), and
// returns the room it needs in pixels.
func nameAxis(ax map[string]any, name string, labels []string, rotate float64) int {
	longest := 0
	for _, l := range labels {
		longest = max(longest, utf8.RuneCountInString(l))
	}
	w := 5.2 * float64(longest) // px per character at font size 9, roughly
	gap := 14 + w
	if rotate != 0 {
		gap = 14 + w*math.Sin(rotate*math.Pi/180)
	}
	ax["name"], ax["nameLocation"], ax["nameGap"] = name, "middle", int(gap)
	return int(gap) + 24
}

// echartsJSONer is what every go-echarts chart offers.
type echartsJSONer interface {
	Validate()
	JSON() map[string]any
}

// treeOf takes a go-echarts chart's option out as a plain JSON tree
// (map[string]any, []any, float64, string, bool) that can be extended.
func treeOf(c echartsJSONer) (map[string]any, error) {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil {
		return nil, fmt.Errorf("marshal go-echarts option: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read back go-echarts option: %w", err)
	}
	// go-echarts always adds an empty toolbox and the default palette;
	// ECharts' defaults are the same, so leave them out.
	delete(m, "toolbox")
	delete(m, "color")
	return m, nil
}

// obj returns m[key] as an object, creating it when absent. When m[key] is
// an array of objects, it returns the first.
func obj(m map[string]any, key string) map[string]any {
	switch v := m[key].(type) {
	case map[string]any:
		return v
	case []any:
		if len(v) > 0 {
			if o, ok := v[0].(map[string]any); ok {
				return o
			}
		}
	}
	o := map[string]any{}
	m[key] = o
	return o
}

// objAt returns element i of the array m[key] as an object ({} if absent).
func objAt(m map[string]any, key string, i int) map[string]any {
	a, _ := m[key].([]any)
	for len(a) <= i {
		a = append(a, map[string]any{})
	}
	m[key] = a
	o, ok := a[i].(map[string]any)
	if !ok {
		o = map[string]any{}
		a[i] = o
	}
	return o
}

// sig rounds x to d significant digits (NaN and ±Inf unchanged).
func sig(x float64, d int) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	v, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', d, 64), 64)
	if err != nil {
		return x
	}
	return v
}

// appendNum appends x with d significant digits as a JSON number, or "-"
// (ECharts' empty value) for NaN and ±Inf.
func appendNum(b []byte, x float64, d int) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, `"-"`...)
	}
	if x == 0 {
		return append(b, '0')
	}
	s := strconv.AppendFloat(nil, x, 'g', d, 64)
	// Shorten: 0.5000 is never produced by 'g' (it trims zeros), but
	// exponents are written e-05; JSON accepts both forms.
	return append(b, s...)
}

// nums is a series of numbers marshalled with Digits significant digits;
// NaN is written as "-", which ECharts draws as a gap.
type nums struct {
	V      []float64
	Digits int
}

// MarshalJSON implements json.Marshaler.
func (n nums) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(n.V)*6)
	b = append(b, '[')
	for i, x := range n.V {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNum(b, x, n.Digits)
	}
	return append(b, ']'), nil
}

// cells is heatmap data: [[x, y, v], …] with v rounded to Digits
// significant digits. X and Y are category indices.
type cells struct {
	X, Y   []int32
	V      []float32
	Digits int
}

func (c *cells) add(x, y int, v float64) {
	c.X = append(c.X, int32(x))
	c.Y = append(c.Y, int32(y))
	c.V = append(c.V, float32(v))
}

// MarshalJSON implements json.Marshaler.
func (c cells) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(c.V)*14)
	b = append(b, '[')
	for i := range c.V {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(c.X[i]), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(c.Y[i]), 10)
		b = append(b, ',')
		b = appendNum(b, float64(c.V[i]), c.Digits)
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

// maxLabelRunes bounds the length of a token label on an axis.
const maxLabelRunes = 20

// display returns the learner's form of a token: Display, else Text, else
// "#id". Long forms are cut with "…".
func display(disp, text string, id int) string {
	s := disp
	if s == "" {
		s = text
	}
	if s == "" {
		return "#" + strconv.Itoa(id)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if utf8.RuneCountInString(s) > maxLabelRunes {
		r := []rune(s)
		s = string(r[:maxLabelRunes-1]) + "…"
	}
	return s
}

// formatBytes writes n bytes with thousands separators, e.g. "9,437,184".
func formatBytes(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtSig formats x with d significant digits for titles.
func fmtSig(x float64, d int) string {
	return strconv.FormatFloat(sig(x, d), 'g', -1, 64)
}
