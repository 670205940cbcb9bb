// Package viz turns a recorded run ([trace.Trace]) into charts.
//
// There is one function per chart kind. Each takes the Trace (and, where it
// matters, a layer and head) and returns a [Chart]: a fixed, deterministic ID
// such as "attn-l3-h5", a plain-text title, an interactive Apache ECharts
// option as JSON, and a static renderer ([Chart.Static]) that draws the same
// data with gonum/plot as SVG or PNG.
//
//	chart, err := viz.AttentionHead(tr, 3, 5) // layer 3, head 5: real indices
//	if err != nil { … }
//	page := chart.Option                       // for echarts.setOption
//	err = chart.Static(f, "png")               // for slides and notebooks
//
// Inside, each chart kind has three parts: a small data value gathered from
// the Trace (for example newTokenData: one row of key labels and
// probabilities per generating step), which holds every number the chart
// shows and is what the tests check; and its two renderings, a method for
// the ECharts option and one for the gonum/plot figure. Static figures
// render every trace that passes trace validation: constant or huge values
// get a colour range gonum/plot can draw.
//
// The interactive options are assembled with go-echarts (charts and opts
// types) and taken out as data through its JSON method; what go-echarts
// cannot express (timelines, per-grid titles, axis pointers, visualMap
// details) is added to that data afterwards. Options are marshalled with
// encoding/json, which escapes <, > and & in every string, and they never
// hold JavaScript: tooltips and labels use ECharts string templates only. So
// token strings such as "</script>" or "__f__x__f__" stay inert text in an
// HTML page. go-echarts' own page renderer is never used (it loads scripts
// from a CDN and turns "__f__…__f__" strings into live code).
//
// Interactive heatmaps hold at most [MaxSide]×[MaxSide] cells: bigger
// matrices are block-averaged with a stated stride, and [Chart.Notes] says so
// in plain words. Masked cells (future keys under the causal mask, keys that
// have left the context window) are absent from the data and drawn grey, never
// as "near zero". Numbers are rounded to a few significant digits to keep
// pages small.
//
// Static heatmaps are raster images with one block of pixels per cell,
// scaled by nearest neighbour, so big grids stay crisp.
//
// Package viz knows nothing of files or of lesson text: package lessons
// decides which charts a report shows and package output writes them.
package viz
