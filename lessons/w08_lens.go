package lessons

import (
	"errors"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
)

// Lesson 8, the logit lens: where each position's prediction settles,
// from findings.LogitLens.
func init() {
	lens := func(name string, f func(l findings.Lens) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			l, ok := findings.LogitLens(tr)
			if !ok {
				return "", errNoLens
			}
			return f(l), nil
		})
	}
	lens("lens-layers", func(l findings.Lens) string { return itoa(l.NLayer) })
	lens("lens-top-layer", func(l findings.Lens) string { return itoa(l.NLayer - 1) })
	lens("lens-positions", func(l findings.Lens) string { return itoa(len(l.Positions)) })
	lens("lens-median", func(l findings.Lens) string { return itoa(l.Median) })
	lens("lens-early", func(l findings.Lens) string { return itoa(l.Early) })
	lens("lens-late", func(l findings.Lens) string { return itoa(l.Late) })
	lens("lens-last-pos", func(l findings.Lens) string { return itoa(l.Last().Position) })
	lens("lens-last-layer", func(l findings.Lens) string { return itoa(l.Last().Layer) })
	lens("lens-last-top", func(l findings.Lens) string { return l.Last().Top.Display })
	lens("lens-last-prob", func(l findings.Lens) string { return probText(l.Last().Top.Prob) })
	lensFact := func(name string, f func(l findings.Lens) bool) {
		runFact(name, func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
			l, ok := findings.LogitLens(tr)
			if !ok {
				return false, errNoLens
			}
			return f(l), nil
		})
	}
	// The typical position settles before the last layer.
	lensFact("lens-settles-early", func(l findings.Lens) bool { return l.Median < l.NLayer-1 })
	// Some position's answer was already the top token after block 0.
	lensFact("lens-some-from-first", func(l findings.Lens) bool { return l.Early > 0 })
	// Some position settled only at the last layer.
	lensFact("lens-some-late", func(l findings.Lens) bool { return l.Late > 0 })
	// The newest prediction settled only at the last layer.
	lensFact("lens-last-late", func(l findings.Lens) bool { return l.Last().Layer == l.NLayer-1 })
	tables["lens-settle"] = lensSettleTable
}

var errNoLens = errors.New("the run recorded no logit lens over 2 or more layers")

// lensSettleTable lists every recorded position: the token there, the
// model's final top token for the next one, and the first layer from
// which the lens agrees with it.
func lensSettleTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	l, ok := findings.LogitLens(tr)
	if !ok {
		return nil, errNoLens
	}
	t := &output.Table{
		Caption: e.T("Where the logit lens settles, position by position", "逐位置看 logit lens 在哪一层定下来"),
		Header: []string{e.T("position", "位置"), e.T("token there", "该位置的 token"), e.T("final prediction", "最终预测"),
			e.T("P (last layer)", "P（最后一层）"), e.T("settled from layer", "从第几层起不变")},
		Align:  []string{"right", "left", "left", "right", "right"},
		Folded: len(l.Positions) > 24,
	}
	for _, s := range l.Positions {
		tok := ""
		if s.Position < len(tr.Tokens) {
			tok = tokenText(tr.Tokens[s.Position])
		}
		t.Rows = append(t.Rows, []string{itoa(s.Position), tok, s.Top.Display, probText(s.Top.Prob), itoa(s.Layer)})
	}
	return t, nil
}

// probText writes a probability to 3 significant digits, or more when
// those would round one short of certainty up to "1" (0.9996, not 1).
func probText(p float64) string {
	for d := 3; d < 12 && p < 1; d++ {
		if t := num(p, d); t != "1" {
			return t
		}
	}
	return num(p, 3)
}
