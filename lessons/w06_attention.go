package lessons

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

// Lesson 6, attention drilled down: one head's computation for one query
// number by number, the heads' roles found in the run, a head view, and
// direct logit attribution.
func init() {
	dr := func(name string, f func(tr *trace.Trace, d *trace.Drill) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			if tr.Drill == nil {
				return "", errors.New("the run drilled no head down (Measure.Inspect)")
			}
			return f(tr, tr.Drill), nil
		})
	}
	dr("drill-layer", func(tr *trace.Trace, d *trace.Drill) string { return itoa(d.Layer) })
	dr("drill-head", func(tr *trace.Trace, d *trace.Drill) string { return itoa(d.Head) })
	dr("drill-query", func(tr *trace.Trace, d *trace.Drill) string { return itoa(d.Query) })
	dr("drill-query-token", func(tr *trace.Trace, d *trace.Drill) string { return tokenText(tr.Tokens[d.Query]) })
	dr("drill-keys", func(tr *trace.Trace, d *trace.Drill) string { return itoa(len(d.Keys)) })
	dr("drill-masked", func(tr *trace.Trace, d *trace.Drill) string { return itoa(d.Masked) })
	dr("drill-scale", func(tr *trace.Trace, d *trace.Drill) string { return num(float64(d.Scale), 4) })
	dr("drill-top-token", func(tr *trace.Trace, d *trace.Drill) string {
		return tokenText(tr.Tokens[d.WindowStart+drillTop(d)])
	})
	dr("drill-top-pos", func(tr *trace.Trace, d *trace.Drill) string { return itoa(d.WindowStart + drillTop(d)) })
	dr("drill-top-p", func(tr *trace.Trace, d *trace.Drill) string { return num(float64(d.Probs[drillTop(d)]), 3) })
	dr("drill-softmax-err", func(tr *trace.Trace, d *trace.Drill) string { s, _ := drillErrors(d); return sci(s) })
	dr("drill-output-err", func(tr *trace.Trace, d *trace.Drill) string { _, o := drillErrors(d); return sci(o) })
	dr("drill-prev-score", func(tr *trace.Trace, d *trace.Drill) string {
		s, _ := headStats(tr, d.Layer, d.Head)
		return pct(s.Previous)
	})
	runFact("drill-checks", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		if tr.Drill == nil {
			return false, errors.New("the run drilled no head down (Measure.Inspect)")
		}
		s, o := drillErrors(tr.Drill)
		return s < DrillTolerance && o < DrillTolerance, nil
	})
	runFact("drill-masks", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		if tr.Drill == nil {
			return false, errors.New("the run drilled no head down (Measure.Inspect)")
		}
		return tr.Drill.Masked > 0, nil
	})
	runFact("drill-is-previous", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		if tr.Drill == nil {
			return false, errors.New("the run drilled no head down (Measure.Inspect)")
		}
		s, ok := headStats(tr, tr.Drill.Layer, tr.Drill.Head)
		return ok && s.Previous >= findings.RoleThreshold && s.Rows >= findings.MinRows, nil
	})
	tables["drill"] = drillTable
	charts["head-view"] = func(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
		l, h, _ := DrillTarget(tr)
		if tr.Drill != nil {
			l, h = tr.Drill.Layer, tr.Drill.Head
		}
		var err error
		if l, err = a.Int("layer", l); err != nil {
			return nil, "", err
		}
		if h, err = a.Int("head", h); err != nil {
			return nil, "", err
		}
		c, err := viz.HeadView(tr, l, h, e.vl())
		if err != nil {
			return nil, "", err
		}
		return c, c.Title, nil
	}

	// Roles: role=previous-token|first-token|induction.
	role := func(name string, f func(h findings.HeadRole) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			h, err := bestRole(a, tr)
			if err != nil {
				return "", err
			}
			return f(h), nil
		})
	}
	role("role-head", func(h findings.HeadRole) string { return headName(h.Layer, h.Head) })
	role("role-score", func(h findings.HeadRole) string { return pct(h.Score) })
	role("role-baseline", func(h findings.HeadRole) string { return pct(h.Baseline) })
	role("role-rows", func(h findings.HeadRole) string { return itoa(h.Rows) })
	role("role-threshold", func(h findings.HeadRole) string { return pct(h.Role.Threshold()) })
	runFact("role-scored", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		_, err := bestRole(a, tr)
		return err == nil, nil
	})
	// At chance: the best head's score is no more than RoleChance times
	// what an even spread would give.
	runFact("role-at-chance", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		h, err := bestRole(a, tr)
		if err != nil {
			return false, err
		}
		return h.Score <= RoleChance*h.Baseline, nil
	})
	runFact("role-holds", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		h, err := bestRole(a, tr)
		if err != nil {
			return false, err
		}
		return h.Holds(), nil
	})

	// Direct logit attribution.
	at := func(name string, f func(e *Env, tr *trace.Trace, at *trace.Attribution) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			if tr.Attribution == nil {
				return "", errors.New("the run recorded no logit attribution (Measure.Inspect)")
			}
			return f(e, tr, tr.Attribution), nil
		})
	}
	at("dla-token", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return a.Display })
	at("dla-logit", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return num(float64(a.Logit), 5) })
	at("dla-sum", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return num(a.Sum(), 5) })
	at("dla-parts", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return itoa(len(dlaParts(e, a))) })
	// The parts by kind: heads, per-layer attention biases and MLPs.
	at("dla-heads", func(e *Env, tr *trace.Trace, a *trace.Attribution) string {
		n := 0
		for _, l := range a.Heads {
			n += len(l)
		}
		return itoa(n)
	})
	at("dla-layers", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return itoa(len(a.Heads)) })
	at("dla-top", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return dlaParts(e, a)[0].name })
	at("dla-top-value", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return num(dlaParts(e, a)[0].v, 3) })
	at("dla-neg", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return dlaMin(e, a).name })
	at("dla-neg-value", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return num(dlaMin(e, a).v, 3) })
	at("dla-sigma", func(e *Env, tr *trace.Trace, a *trace.Attribution) string { return num(float64(a.Sigma), 4) })
	runFact("dla-sums", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		if tr.Attribution == nil {
			return false, errors.New("the run recorded no logit attribution (Measure.Inspect)")
		}
		at := tr.Attribution
		return math.Abs(at.Sum()-float64(at.Logit)) < DrillTolerance*math.Max(1, math.Abs(float64(at.Logit)))*10, nil
	})
	dlaFact := func(name string, f func(e *Env, a *trace.Attribution) bool) {
		runFact(name, func(e *Env, _ *Args, tr *trace.Trace) (bool, error) {
			if tr.Attribution == nil {
				return false, errors.New("the run recorded no logit attribution (Measure.Inspect)")
			}
			return f(e, tr.Attribution), nil
		})
	}
	// The largest part pushes the token down: it is then also the part
	// that pushed it down most, which the page need not say twice.
	dlaFact("dla-top-negative", func(e *Env, a *trace.Attribution) bool { return dlaParts(e, a)[0].v < 0 })
	dlaFact("dla-other-negative", func(e *Env, a *trace.Attribution) bool {
		return dlaMin(e, a).v < 0 && dlaParts(e, a)[0].v >= 0
	})
	charts["dla"] = dlaChart
}

// DrillTolerance is the largest error lesson 6 calls rounding when it
// recomputes a head's softmax and output, and (×10, relative) the logit
// from its attributed parts.
const DrillTolerance = 1e-4

// drillTop is the index of the key with the highest probability.
func drillTop(d *trace.Drill) int {
	best := 0
	for j, p := range d.Probs {
		if p > d.Probs[best] {
			best = j
		}
	}
	return best
}

// drillErrors recomputes the softmax of the scaled scores and Σ p·v and
// returns their largest differences from the engine's probabilities and
// output.
func drillErrors(d *trace.Drill) (softmax, output float64) {
	mx := math.Inf(-1)
	for _, s := range d.Dots {
		mx = math.Max(mx, float64(s*d.Scale))
	}
	var z float64
	for _, s := range d.Dots {
		z += math.Exp(float64(s*d.Scale) - mx)
	}
	out := make([]float64, len(d.Output))
	for j, s := range d.Dots {
		softmax = math.Max(softmax, math.Abs(math.Exp(float64(s*d.Scale)-mx)/z-float64(d.Probs[j])))
		for i := range out {
			out[i] += float64(d.Probs[j]) * float64(d.Values[j][i])
		}
	}
	for i := range out {
		output = math.Max(output, math.Abs(out[i]-float64(d.Output[i])))
	}
	return softmax, output
}

// headStats returns the findings statistics of one head.
func headStats(tr *trace.Trace, layer, head int) (findings.HeadStats, bool) {
	for _, s := range findings.Heads(tr) {
		if s.Layer == layer && s.Head == head {
			return s, true
		}
	}
	return findings.HeadStats{}, false
}

// bestRole returns the head with the highest score for the role named by
// the argument role= among heads with at least MinRows rows (whether or
// not it reaches the role's threshold).
func bestRole(a *Args, tr *trace.Trace) (findings.HeadRole, error) {
	name := a.String("role", "")
	var r findings.Role
	for _, x := range findings.Roles {
		if x.String() == name {
			r = x
		}
	}
	if r == 0 {
		return findings.HeadRole{}, fmt.Errorf("role=%q: want one of previous-token, first-token, self, induction", name)
	}
	var best findings.HeadRole
	ok := false
	for _, s := range findings.Heads(tr) {
		score, rows := s.Score(r)
		if rows < findings.MinRows || ok && score <= best.Score {
			continue
		}
		base := s.Baseline
		if r == findings.Induction {
			base = s.InductionBaseline
		}
		best, ok = findings.HeadRole{Layer: s.Layer, Head: s.Head, Role: r, Score: score, Rows: rows, Baseline: base}, true
	}
	if !ok {
		return best, fmt.Errorf("role %s: no head has %d rows to score (the run is too short or repeats nothing)", name, findings.MinRows)
	}
	return best, nil
}

// drillTable lists the drilled head's keys: q·k, scaled, probability.
func drillTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	d := tr.Drill
	if d == nil {
		return nil, errors.New("the run drilled no head down (Measure.Inspect)")
	}
	t := &output.Table{
		Caption: e.T(fmt.Sprintf("Layer %d, head %d, query at position %d: every key it may read", d.Layer, d.Head, d.Query),
			fmt.Sprintf("第 %d 层第 %d 个头，位置 %d 的查询：它能读取的每个键", d.Layer, d.Head, d.Query)),
		Header: []string{e.T("position", "位置"), "token", "q·k", "q·k / √d_head", "p = softmax", "p·‖v‖"},
		Align:  []string{"right", "left", "right", "right", "right", "right"},
	}
	for j := range d.Keys {
		var vn float64
		for _, x := range d.Values[j] {
			vn += float64(x) * float64(x)
		}
		t.Rows = append(t.Rows, []string{itoa(d.WindowStart + j), tokenText(tr.Tokens[d.WindowStart+j]),
			num(float64(d.Dots[j]), 4), num(float64(d.Dots[j]*d.Scale), 4), num(float64(d.Probs[j]), 4), num(float64(d.Probs[j])*math.Sqrt(vn), 4)})
	}
	if d.Masked > 0 {
		t.Rows = append(t.Rows, []string{e.T(fmt.Sprintf("%d later", d.Masked), fmt.Sprintf("之后的 %d 个", d.Masked)), e.T("(masked)", "（被遮住）"), "", "−∞", "0", "0"})
	}
	return t, nil
}

// dlaPart is one component's part of the attributed logit.
type dlaPart struct {
	name string
	v    float64
}

// dlaParts lists every component by |part|, largest first (ties by name).
func dlaParts(e *Env, a *trace.Attribution) []dlaPart {
	ps := []dlaPart{{e.T("embeddings", "嵌入"), a.Embed}, {e.T("final LayerNorm bias", "最终 LayerNorm 偏置"), a.LNBias}}
	for l := range a.Heads {
		for h, v := range a.Heads[l] {
			ps = append(ps, dlaPart{headName(l, h), v})
		}
		ps = append(ps, dlaPart{fmt.Sprintf("L%d %s", l, e.T("attn bias", "注意力偏置")), a.AttnBias[l]}, dlaPart{fmt.Sprintf("L%d MLP", l), a.MLP[l]})
	}
	slices.SortStableFunc(ps, func(x, y dlaPart) int { return cmp.Compare(math.Abs(y.v), math.Abs(x.v)) })
	return ps
}

// dlaMin is the component that pushed the token down most.
func dlaMin(e *Env, a *trace.Attribution) dlaPart {
	ps := dlaParts(e, a)
	best := ps[0]
	for _, p := range ps {
		if p.v < best.v {
			best = p
		}
	}
	return best
}

// DLABars is how many components the attribution chart shows.
const DLABars = 16

// dlaChart draws the largest parts of the attributed logit.
func dlaChart(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
	at := tr.Attribution
	if at == nil {
		return nil, "", errors.New("the run recorded no logit attribution (Measure.Inspect)")
	}
	ps := dlaParts(e, at)
	ps = ps[:min(DLABars, len(ps))]
	var cats []string
	var pos, neg []float64
	for _, p := range ps {
		cats = append(cats, p.name)
		if p.v >= 0 {
			pos, neg = append(pos, p.v), append(neg, math.NaN())
		} else {
			pos, neg = append(pos, math.NaN()), append(neg, p.v)
		}
	}
	c, err := viz.NewSeriesChart(viz.SeriesChart{ID: "dla",
		Subtitle: e.T(fmt.Sprintf("part of the logit of “%s” from each component: W_U · (g ⊙ (c − mean c) / σ), σ = %s frozen at the final LayerNorm", at.Display, num(float64(at.Sigma), 4)),
			fmt.Sprintf("各组成部分对“%s”的 logit 的贡献：W_U · (g ⊙ (c − mean c) / σ)，σ = %s 取自最终 LayerNorm", at.Display, num(float64(at.Sigma), 4))),
		XName: e.T("component (L = layer, H = head)", "组成部分（L = 层，H = 头）"), YName: "logit",
		Categories: cats, Series: []viz.Series{
			{Name: e.T("pushes it up", "推高"), Values: pos, Color: "#31a354"},
			{Name: e.T("pushes it down", "压低"), Values: neg, Color: "#de2d26"},
		}})
	return c, e.T(fmt.Sprintf("Direct logit attribution: the %d largest parts", len(ps)), fmt.Sprintf("直接 logit 归因：最大的 %d 个部分", len(ps))), err
}

// RoleChance is how many times the even-spread share a head's score may be
// and still be called chance level by lesson 6.
const RoleChance = 1.5
