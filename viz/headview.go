package viz

import (
	"encoding/json"
	"fmt"
	"image/color"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gptviz/gptviz/model/trace"
)

// HeadViewMax is the most prompt positions the head view draws (the last
// ones); each is a token in both columns.
const HeadViewMax = 48

// HeadViewMin is the smallest attention probability drawn as a line.
const HeadViewMin = 0.02

// headViewData is one head's prefill attention as lines between tokens.
type headViewData struct {
	layer, head int
	start       int      // absolute position of tokens[0]
	tokens      []string // display forms
	edges       []headEdge
}

type headEdge struct {
	q, k int // indices into tokens
	p    float64
}

// newHeadViewData gathers the prefill's attention of layer and head over
// its last HeadViewMax query rows. Errors wrap ErrRange for indices
// outside the model, ErrNoData when the prefill recorded no attention for
// the layer or it was block-averaged.
func newHeadViewData(tr *trace.Trace, layer, head int) (headViewData, error) {
	if err := checkLayerHead(tr, layer, head); err != nil {
		return headViewData{}, err
	}
	if err := checkSteps(tr); err != nil {
		return headViewData{}, err
	}
	st := tr.Steps[0]
	if layer >= len(st.Attention) || head >= len(st.Attention[layer].Probs) || st.NQuery == 0 || st.Attention[layer].Summarised {
		return headViewData{}, fmt.Errorf("prefill attention of layer %d, head %d: %w", layer, head, ErrNoData)
	}
	rows := st.Attention[layer].Probs[head]
	n := min(st.NQuery, HeadViewMax, len(rows))
	d := headViewData{layer: layer, head: head, start: st.QueryStart + st.NQuery - n}
	if d.start+n > len(tr.Tokens) || d.start < st.WindowStart {
		return headViewData{}, fmt.Errorf("prefill rows %d..%d: %w", d.start, d.start+n, ErrInvalid)
	}
	for i := range n {
		t := tr.Tokens[d.start+i]
		d.tokens = append(d.tokens, display(t.Display, t.Text, t.ID))
	}
	for qi := range n {
		row := rows[len(rows)-n+qi]
		for ki := range n {
			k := d.start + ki - st.WindowStart
			if k < len(row) && float64(row[k]) >= HeadViewMin {
				d.edges = append(d.edges, headEdge{q: qi, k: ki, p: float64(row[k])})
			}
		}
	}
	return d, nil
}

// HeadView draws one head's attention during the prefill as lines from
// each query token (left column) to the key tokens it reads (right
// column), as bertviz's head view does: a line's width and opacity are
// the attention probability; lines below HeadViewMin are left out.
// Hovering a token shows only its lines (ECharts' adjacency focus; no
// script of the page's own). At most the last HeadViewMax prompt
// positions. ID "head-view-l{layer}-h{head}". Errors wrap ErrRange for
// indices outside the model and ErrNoData when the prefill's attention
// of that layer was not recorded in full.
func HeadView(tr *trace.Trace, layer, head int, options ...Option) (*Chart, error) {
	lc := settingsOf(options)
	d, err := newHeadViewData(tr, layer, head)
	if err != nil {
		return nil, fmt.Errorf("head view: %w", err)
	}
	sub := lc.t("hv.sub", HeadViewMin)
	option, err := d.option(sub)
	if err != nil {
		return nil, fmt.Errorf("head view: %w", err)
	}
	return &Chart{ID: fmt.Sprintf("head-view-l%d-h%d", layer, head), Title: lc.t("hv.title", layer, head), Subtitle: sub,
		Option: option, Height: 80 + 18*len(d.tokens), static: d.figure(lc.static())}, nil
}

// option is a graph series with fixed positions: queries at x = 0, keys
// at x = 1, one node per token per side.
func (d headViewData) option(sub string) (json.RawMessage, error) {
	var nodes, links []any
	for side, x := range []int{0, 300} {
		for i, t := range d.tokens {
			pos := "right"
			if side == 0 {
				pos = "left"
			}
			nodes = append(nodes, map[string]any{
				"name": fmt.Sprintf("%c%d", "qk"[side], i), "x": x, "y": 18 * i, "symbolSize": 6,
				"label":   map[string]any{"show": true, "position": pos, "formatter": inertTemplate(fmt.Sprintf("%d %s", d.start+i, t))},
				"tooltip": map[string]any{"formatter": inertTemplate(fmt.Sprintf("%d %s", d.start+i, t))},
			})
		}
	}
	for _, e := range d.edges {
		links = append(links, map[string]any{
			"source": fmt.Sprintf("q%d", e.q), "target": fmt.Sprintf("k%d", e.k), "value": sig(e.p, 3),
			"lineStyle": map[string]any{"width": sig(0.5+5*e.p, 3), "opacity": sig(0.15+0.85*e.p, 3)},
		})
	}
	tree := map[string]any{
		"title":   map[string]any{"subtext": sub},
		"tooltip": map[string]any{"show": true},
		"series": []any{map[string]any{
			"type": "graph", "layout": "none", "roam": false, "left": 140, "right": 140, "top": 60, "bottom": 20,
			"data": nodes, "links": links, "itemStyle": map[string]any{"color": "#3182bd"},
			"lineStyle": map[string]any{"color": "#e6550d", "curveness": 0},
			"emphasis":  map[string]any{"focus": "adjacency", "lineStyle": map[string]any{"opacity": 1}},
			"blur":      map[string]any{"lineStyle": map[string]any{"opacity": 0.03}, "itemStyle": map[string]any{"opacity": 0.3}},
		}},
	}
	return jsonOf(tree)
}

// figure draws the lines with gonum/plot.
func (d headViewData) figure(en settings) *staticFig {
	h := vg.Length(1.2*float64(len(d.tokens))+1.5) * vg.Inch / 4
	return &staticFig{w: 6 * vg.Inch, h: max(h, 3*vg.Inch), draw: func(dc draw.Canvas) error {
		p := newPlot(en.t("hv.title", d.layer, d.head), "", "")
		n := float64(len(d.tokens))
		for _, e := range d.edges {
			l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: n - 1 - float64(e.q)}, {X: 1, Y: n - 1 - float64(e.k)}})
			if err != nil {
				return err
			}
			l.Color = color.NRGBA{R: 0xe6, G: 0x55, B: 0x0d, A: uint8(40 + 215*e.p)}
			l.Width = vg.Points(0.5 + 3*e.p)
			p.Add(l)
		}
		for side, x := range []float64{0, 1} {
			var pts plotter.XYs
			var labels []string
			for i, t := range d.tokens {
				pts = append(pts, plotter.XY{X: x, Y: n - 1 - float64(i)})
				labels = append(labels, staticText(fmt.Sprintf("%d %s", d.start+i, t)))
			}
			ls, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
			if err != nil {
				return err
			}
			for i := range ls.TextStyle {
				ls.TextStyle[i].Font.Size = vg.Points(tickPt)
				if side == 0 {
					ls.TextStyle[i].XAlign = draw.XRight
				}
			}
			ls.Offset = vg.Point{X: vg.Points(float64(4 - 8*(1-side)))}
			p.Add(ls)
		}
		p.X.Min, p.X.Max = -0.6, 1.6
		p.HideAxes()
		drawPlot(dc, p)
		return nil
	}}
}

func init() {
	phrases["hv.title"] = [2]string{"Head view, layer %d, head %d", "注意力头视图：第 %d 层，第 %d 个头"}
	phrases["hv.sub"] = [2]string{"left: each query token; right: the tokens it reads; a line's width is the attention (lines below %g left out). Hover a token to see only its lines.",
		"左：每个查询 token；右：它读取的 token；线越粗注意力越大（低于 %g 的线不画）。把鼠标移到一个 token 上，只看它的线。"}
}
