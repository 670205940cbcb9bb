package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

// mustJSON marshals v for a chart option in a test.
func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testPNG returns a deterministic w×h PNG: a lower-triangular grid like an
// attention pattern, one colour per cell.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{0xee, 0xee, 0xee, 0xff} // masked
			if x <= y {
				v := uint8(255 - 200*x/(y+1))
				c = color.RGBA{v, v, 0xff, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const testSVG = `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120" viewBox="0 0 240 120">
<rect x="0" y="0" width="240" height="120" fill="#ffffff"/>
<rect x="20" y="60" width="40" height="50" fill="#5470c6"/>
<rect x="80" y="30" width="40" height="80" fill="#5470c6"/>
<rect x="140" y="80" width="40" height="30" fill="#91cc75"/>
<text x="120" y="20" text-anchor="middle" font-size="14">static &amp; crisp</text>
</svg>
`

// sampleTokens is the prompt of the sample notebook.
var sampleTokens = []string{"The", "␣quick", "␣brown", "␣fox", "␣jumps", "␣over", "␣the", "␣lazy", "␣dog", "."}

// sampleNotebook is a small notebook with every cell kind, built by hand;
// the golden files and the browser test use it.
func sampleNotebook(t testing.TB) *Notebook {
	t.Helper()
	probs := []float64{0, 0.012, 0.031, 0.22, 0.004, 0.41, 0.63, 0.018, 0.57, 0.35}
	barOpt := map[string]any{
		"animation": false,
		"grid":      map[string]any{"left": 48, "right": 16, "top": 40, "bottom": 48},
		"tooltip":   map[string]any{"trigger": "axis"},
		"xAxis":     map[string]any{"type": "category", "data": sampleTokens, "axisLabel": map[string]any{"interval": 0}},
		"yAxis":     map[string]any{"type": "value", "name": "P(w_i | w_<i)", "max": 1},
		"series":    []any{map[string]any{"type": "bar", "name": "probability", "data": probs}},
	}
	n := len(sampleTokens)
	var cells [][3]any
	for q := range n {
		for k := range n {
			if k > q {
				cells = append(cells, [3]any{k, q, "-"}) // masked: no value
				continue
			}
			cells = append(cells, [3]any{k, q, float64(int(1000.0/float64(q+1))) / 1000})
		}
	}
	heatOpt := map[string]any{
		"animation": false,
		"grid":      map[string]any{"left": 80, "right": 24, "top": 16, "bottom": 80},
		"tooltip":   map[string]any{"position": "top"},
		"xAxis":     map[string]any{"type": "category", "data": sampleTokens, "name": "key", "axisLabel": map[string]any{"rotate": 45}},
		"yAxis":     map[string]any{"type": "category", "data": sampleTokens, "name": "query", "inverse": true},
		"visualMap": map[string]any{"min": 0, "max": 1, "calculable": true, "orient": "horizontal", "left": "center", "bottom": 0, "inRange": map[string]any{"color": []string{"#f7fbff", "#08306b"}}},
		"series":    []any{map[string]any{"type": "heatmap", "name": "attention", "data": cells}},
	}
	var steps []any
	for s, tok := range []string{"␣and", "␣runs", "␣away"} {
		steps = append(steps, map[string]any{
			"title":  map[string]any{"text": fmt.Sprintf("step %d: chose %q", s+1, tok)},
			"series": []any{map[string]any{"data": []float64{0.5 - 0.1*float64(s), 0.3, 0.1 + 0.05*float64(s), 0.05, 0.05}}},
		})
	}
	timelineOpt := map[string]any{
		"baseOption": map[string]any{
			"animation": false,
			"timeline":  map[string]any{"axisType": "category", "data": []string{"1", "2", "3"}, "autoPlay": false, "bottom": 0},
			"grid":      map[string]any{"left": 64, "right": 16, "top": 40, "bottom": 72},
			"xAxis":     map[string]any{"type": "category", "data": []string{"top 1", "top 2", "top 3", "top 4", "top 5"}},
			"yAxis":     map[string]any{"type": "value", "max": 1},
			"series":    []any{map[string]any{"type": "bar"}},
		},
		"options": steps,
	}
	return &Notebook{
		Title: "gptviz output sample",
		Lang:  "en",
		Meta:  map[string]string{"generator": "gptviz test", "model": "hand-made"},
		Cells: []Cell{
			MarkdownCell("## Tokens entering working memory\n\nThe model reads the prompt as **tokens**; each one takes a place in the\n*context window* (`n_positions`). See [the charts](#attn-heatmap) or\n[the source blog](https://example.com/blog).\n\n| quantity | unit |\n|---|---:|\n| surprisal | bits |\n| entropy | bits |\n"),
			CodeCell("shell", `gptviz report "The quick brown fox jumps over the lazy dog."`),
			ChipsCell(&Chips{Caption: "10 tokens of 1024 positions", Items: sampleChips()}),
			NoteCell("The first token has no context: its probability is not shown."),
			MarkdownCell("### P(w_i | w_<i) over the prompt\n\n- surprisal = -log2 p (bits)\n- perplexity = 2^(mean surprisal)\n"),
			ChartCell(&Chart{ID: "prob-bar", Title: "Probability of each prompt token given the ones before it", Option: mustJSON(t, barOpt), Height: 300}),
			TableCell(&Table{
				Caption: "Top-3 alternatives",
				Header:  []string{"position", "token", "p", "surprisal (bits)"},
				Align:   []string{"right", "left", "right", "right"},
				Rows: [][]string{
					{"1", "␣quick", "0.012", "6.38"},
					{"2", "␣brown", "0.031", "5.01"},
					{"3", "␣fox", "0.220", "2.18"},
				},
			}),
			MarkdownCell("### Attention\n\nRows are queries, columns keys; the upper triangle is masked (causal)."),
			CodeCell("go", "trace.Attention[layer][head] // [query][key]"),
			ChartCell(&Chart{ID: "attn-heatmap", Title: "Layer 0, head 0", Option: mustJSON(t, heatOpt), Height: 460}),
			ChartCell(&Chart{ID: "step-slider", Title: "Next-token candidates at each step", Option: mustJSON(t, timelineOpt), Height: 320}),
			ChartCell(&Chart{ID: "attn-grid-png", Title: "All heads (raster, scaled up crisply)", PNG: testPNG(t, 24, 24), SVG: []byte(testSVG), Height: 240}),
			ChartCell(&Chart{ID: "static-svg", Title: "A static SVG figure", SVG: []byte(testSVG)}),
			MarkdownCell("## 中文说明\n\n模型把提示词切分成**词元**，每个词元占据上下文窗口中的一个位置。\n注意力矩阵的上三角被遮蔽。"),
		},
	}
}

func sampleChips() []Chip {
	var c []Chip
	for i, tok := range sampleTokens {
		c = append(c, Chip{Label: tok, Title: fmt.Sprintf("position %d, id %d", i, 464+i*1000), Group: i%8 + 1, Highlight: i == 3})
	}
	c = append(c, Chip{Label: "↵", Title: "newline"}, Chip{Label: "<0xE4>", Title: "partial UTF-8 byte", Group: 0})
	return c
}

// payloads are strings that would run code or break the page if any writer
// failed to escape them.
var payloads = []string{
	"</script><script>alert(1)</script>",
	"<img src=x onerror=alert(1)>",
	"__f__alert(1)__f__",
	`"onmouseover="alert(1)`,
	"a & b &amp; c",
	"<!--",
	"</style><script>alert(1)</script>",
	"中文词元",
	"🦊 emoji",
	"line\nbreak",
	"\u2028\u2029",
	"javascript:alert(1)",
	"{@[alert(1)]}",
	"{b}<br/>{c}",
}

// adversarialNotebook puts every payload in every text slot.
func adversarialNotebook(t testing.TB) *Notebook {
	t.Helper()
	all := strings.Join(payloads, " ")
	var chips []Chip
	var rows [][]string
	for i, p := range payloads {
		chips = append(chips, Chip{Label: p, Title: p, Group: i})
		rows = append(rows, []string{p, p})
	}
	opt := map[string]any{
		"animation": false,
		"title":     map[string]any{"text": payloads[0], "subtext": payloads[1]},
		"tooltip":   map[string]any{"trigger": "axis", "formatter": "{b}: {c}"},
		"legend":    map[string]any{"data": []string{payloads[2]}},
		"xAxis":     map[string]any{"type": "category", "data": payloads},
		"yAxis":     map[string]any{"type": "value", "name": payloads[1]},
		"series": []any{map[string]any{
			"type": "bar", "name": payloads[2],
			"data": func() []any {
				var d []any
				for i, p := range payloads {
					d = append(d, map[string]any{"name": p, "value": i + 1})
				}
				return d
			}(),
			"label": map[string]any{"show": true, "formatter": "{b}"},
		}},
	}
	return &Notebook{
		Title: all,
		Lang:  "zh",
		Meta:  map[string]string{"prompt": all},
		Cells: []Cell{
			MarkdownCell("# " + payloads[0] + "\n\n" + all + "\n\n" + payloads[1] + "\n\n<div onclick=\"alert(1)\">block</div>\n\n[click](javascript:alert(1)) ![x](https://example.com/x.png) <https://example.com/y>\n\n`" + payloads[0] + "` `" + payloads[2] + "` in code\n"),
			CodeCell("", all),
			ChipsCell(&Chips{Caption: all, Items: chips}),
			TableCell(&Table{Caption: all, Header: []string{payloads[0], payloads[1]}, Rows: rows}),
			NoteCell(all),
			ChartCell(&Chart{ID: "evil", Title: all, Option: mustJSON(t, opt), Height: 360}),
			ChartCell(&Chart{ID: "evil-static", Title: all, SVG: []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>`)}),
		},
	}
}
