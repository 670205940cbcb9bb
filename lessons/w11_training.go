package lessons

import (
	"errors"
	"math"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

// Lesson 11, how training builds working memory: the default model's loss
// curve against the n-gram baselines, and the same prompt at each shipped
// snapshot.
func init() {
	tv := func(name string, f func(tr *trace.Trace, t *trace.Training) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			t, err := trainingOf(tr)
			if err != nil {
				return "", err
			}
			return f(tr, t), nil
		})
	}
	last := func(t *trace.Training) trace.LossPoint { return t.Curve[len(t.Curve)-1] }
	tv("train-model", func(tr *trace.Trace, t *trace.Training) string { return t.Model })
	tv("train-steps", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(last(t).Step)) })
	tv("train-tokens", func(tr *trace.Trace, t *trace.Training) string { return thousands(last(t).Tokens) })
	tv("train-snapshots", func(tr *trace.Trace, t *trace.Training) string { return itoa(len(t.Snapshots)) })
	tv("val-start", func(tr *trace.Trace, t *trace.Training) string { return num(t.Curve[0].ValLoss, 4) })
	tv("val-end", func(tr *trace.Trace, t *trace.Training) string { return num(last(t).ValLoss, 4) })
	tv("val-uniform", func(tr *trace.Trace, t *trace.Training) string { return num(math.Log(float64(t.Config.VocabSize)), 4) })
	tv("train-vocab", func(tr *trace.Trace, t *trace.Training) string { return itoa(t.Config.VocabSize) })
	tv("train-end", func(tr *trace.Trace, t *trace.Training) string { return num(last(t).TrainLoss, 4) })
	for k, name := range []string{"bigram", "trigram"} {
		tv("val-"+name, func(tr *trace.Trace, t *trace.Training) string { return num(t.Baselines.Models[k].ValBits*math.Ln2, 4) })
	}
	tv("beats-trigram-step", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(beatsAt(t))) })
	tv("snap-first-nats", func(tr *trace.Trace, t *trace.Training) string { return num(snapBits(t, 0)*math.Ln2, 3) })
	tv("snap-last-nats", func(tr *trace.Trace, t *trace.Training) string {
		return num(snapBits(t, len(t.Snapshots)-1)*math.Ln2, 3)
	})
	tv("snap-prev-first", func(tr *trace.Trace, t *trace.Training) string { p, _, _ := snapHeads(t, 0); return pct(p) })
	tv("snap-prev-last", func(tr *trace.Trace, t *trace.Training) string {
		p, _, _ := snapHeads(t, len(t.Snapshots)-1)
		return pct(p)
	})
	tv("snap-beyond-first", func(tr *trace.Trace, t *trace.Training) string { _, _, b := snapHeads(t, 0); return pct(b) })
	tv("snap-beyond-last", func(tr *trace.Trace, t *trace.Training) string {
		_, _, b := snapHeads(t, len(t.Snapshots)-1)
		return pct(b)
	})
	tv("train-corpus", func(tr *trace.Trace, t *trace.Training) string { return t.Baselines.Corpus })
	tv("train-corpus-tokens", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(t.TrainTokens)) })
	tv("train-passes", func(tr *trace.Trace, t *trace.Training) string {
		return num(float64(last(t).Tokens)/float64(t.TrainTokens), 3)
	})
	// The first-token head over training (snapFirst).
	tv("snap-sink-peak", func(tr *trace.Trace, t *trace.Training) string { return pct(snapFirst(t).peak) })
	tv("snap-sink-peak-step", func(tr *trace.Trace, t *trace.Training) string { return itoa(t.Snapshots[snapFirst(t).at].Step) })
	tv("snap-sink-first", func(tr *trace.Trace, t *trace.Training) string { return pct(snapFirst(t).first) })
	tv("snap-sink-last", func(tr *trace.Trace, t *trace.Training) string { return pct(snapFirst(t).last) })
	tf := func(name string, f func(tr *trace.Trace, t *trace.Training) bool) {
		runFact(name, func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
			t, err := trainingOf(tr)
			if err != nil {
				return false, err
			}
			return f(tr, t), nil
		})
	}
	tf("train-is-run-model", func(tr *trace.Trace, t *trace.Training) bool { return tr.Model.Name == t.Model })
	tf("train-beats-trigram", func(tr *trace.Trace, t *trace.Training) bool { return beatsAt(t) >= 0 })
	// Behind the trigram again after first beating it (a warm restart's
	// bump can do that), and ahead again or not.
	tf("trigram-lost-regained", func(tr *trace.Trace, t *trace.Training) bool {
		l := trigramLapse(t)
		return l.lost >= 0 && l.regained >= 0
	})
	tf("trigram-lost-stays", func(tr *trace.Trace, t *trace.Training) bool {
		l := trigramLapse(t)
		return l.lost >= 0 && l.regained < 0
	})
	tv("trigram-lost-step", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(trigramLapse(t).lost)) })
	tv("trigram-lost-val", func(tr *trace.Trace, t *trace.Training) string { return num(trigramLapse(t).val, 4) })
	tv("trigram-regained-step", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(trigramLapse(t).regained)) })
	tf("train-overfits", func(tr *trace.Trace, t *trace.Training) bool { return last(t).ValLoss-last(t).TrainLoss > 0.1 })
	tf("snap-prev-grows", func(tr *trace.Trace, t *trace.Training) bool {
		a, _, _ := snapHeads(t, 0)
		b, _, _ := snapHeads(t, len(t.Snapshots)-1)
		return b > a
	})
	tf("snap-improves", func(tr *trace.Trace, t *trace.Training) bool {
		return snapBits(t, len(t.Snapshots)-1) < snapBits(t, 0)
	})
	// The training text's size is known: the curve's tokens are so many
	// passes over it.
	tf("train-passes-known", func(tr *trace.Trace, t *trace.Training) bool {
		return t.TrainTokens > 0 && last(t).Tokens > 0
	})
	// The initialised model scored worse than a uniform guess.
	tf("train-start-worse", func(tr *trace.Trace, t *trace.Training) bool {
		return t.Curve[0].Step == 0 && t.Curve[0].ValLoss > math.Log(float64(t.Config.VocabSize))
	})
	// A first-token head (an attention sink) formed during training and
	// then faded: its share peaked at a middle snapshot, at least
	// findings.RoleThreshold, and ended below half of the peak.
	tf("snap-sink-fades", func(tr *trace.Trace, t *trace.Training) bool {
		f := snapFirst(t)
		return f.ok && f.at > 0 && f.at < len(t.Snapshots)-1 && f.peak >= findings.RoleThreshold && f.last < f.peak/2
	})
	// A first-token head is there at the end and was not at the start.
	tf("snap-sink-forms", func(tr *trace.Trace, t *trace.Training) bool {
		f := snapFirst(t)
		return f.ok && f.last >= findings.RoleThreshold && f.first < findings.RoleThreshold
	})
	// A warm restart of the learning rate (lrRestart) and what the
	// validation loss did after it.
	tf("lr-restart", func(tr *trace.Trace, t *trace.Training) bool { return lrRestart(t).ok })
	tv("lr-peak", func(tr *trace.Trace, t *trace.Training) string { return num(lrRestart(t).peak, 2) })
	tv("lr-peak-step", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(lrRestart(t).peakStep)) })
	tv("lr-restart-from-step", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(lrRestart(t).before.Step)) })
	tv("lr-restart-step", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(lrRestart(t).after.Step)) })
	tv("lr-restart-from", func(tr *trace.Trace, t *trace.Training) string { return num(lrRestart(t).before.LR, 2) })
	tv("lr-restart-to", func(tr *trace.Trace, t *trace.Training) string { return num(lrRestart(t).after.LR, 2) })
	tv("lr-restart-val-from", func(tr *trace.Trace, t *trace.Training) string { return num(lrRestart(t).before.ValLoss, 4) })
	tv("lr-restart-val-to", func(tr *trace.Trace, t *trace.Training) string { return num(lrRestart(t).after.ValLoss, 4) })
	tv("lr-restart-back-step", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(lrRestart(t).back)) })
	tf("lr-restart-val-recovers", func(tr *trace.Trace, t *trace.Training) bool { r := lrRestart(t); return r.rises() && r.back >= 0 })
	tf("lr-restart-val-stays-up", func(tr *trace.Trace, t *trace.Training) bool { r := lrRestart(t); return r.rises() && r.back < 0 })
	tf("lr-restart-val-no-rise", func(tr *trace.Trace, t *trace.Training) bool { r := lrRestart(t); return r.ok && !r.rises() })
	// Later restarts: the lesson says how many and describes the last.
	tf("lr-restart-twice", func(tr *trace.Trace, t *trace.Training) bool { return len(lrRestarts(t)) == 2 })
	tf("lr-restart-many", func(tr *trace.Trace, t *trace.Training) bool { return len(lrRestarts(t)) > 2 })
	tv("lr-restarts", func(tr *trace.Trace, t *trace.Training) string { return itoa(len(lrRestarts(t))) })
	tv("lr-last-restart-from-step", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(lastRestart(t).before.Step)) })
	tv("lr-last-restart-step", func(tr *trace.Trace, t *trace.Training) string { return thousands(int64(lastRestart(t).after.Step)) })
	tv("lr-last-restart-from", func(tr *trace.Trace, t *trace.Training) string { return num(lastRestart(t).before.LR, 2) })
	tv("lr-last-restart-to", func(tr *trace.Trace, t *trace.Training) string { return num(lastRestart(t).after.LR, 2) })
	tv("lr-last-restart-val-from", func(tr *trace.Trace, t *trace.Training) string { return num(lastRestart(t).before.ValLoss, 4) })
	tv("lr-last-restart-val-to", func(tr *trace.Trace, t *trace.Training) string { return num(lastRestart(t).after.ValLoss, 4) })
	charts["loss-curve"] = lossChart
	charts["snapshot-heads"] = snapshotHeadsChart
	tables["snapshots"] = snapshotsTable
}

// trainingOf returns tr.Training with its curve, baselines and snapshots.
func trainingOf(tr *trace.Trace) (*trace.Training, error) {
	t := tr.Training
	if t == nil || len(t.Curve) == 0 || len(t.Snapshots) == 0 || t.Baselines == nil || len(t.Baselines.Models) < 2 {
		return nil, errors.New("the run recorded no training (Measure.Training)")
	}
	return t, nil
}

// beatsAt is the first evaluated step whose validation loss is below the
// trigram's, or −1.
func beatsAt(t *trace.Training) int {
	tri := t.Baselines.Models[1].ValBits * math.Ln2
	for _, p := range t.Curve {
		if p.ValLoss < tri {
			return p.Step
		}
	}
	return -1
}

// lapse is the first evaluation after beatsAt at which the validation
// loss is not below the trigram's again (lost, its loss val; −1 if none),
// and the first after that below it again (regained; −1 if none).
type lapse struct {
	lost, regained int
	val            float64
}

// trigramLapse finds t's lapse.
func trigramLapse(t *trace.Training) lapse {
	tri := t.Baselines.Models[1].ValBits * math.Ln2
	l := lapse{lost: -1, regained: -1}
	beaten := false
	for _, p := range t.Curve {
		switch {
		case !beaten:
			beaten = p.ValLoss < tri
		case l.lost < 0 && p.ValLoss >= tri:
			l.lost, l.val = p.Step, p.ValLoss
		case l.lost >= 0 && p.ValLoss < tri:
			l.regained = p.Step
			return l
		}
	}
	return l
}

// snapBits is snapshot i's mean surprisal on the prompt, bits/token.
func snapBits(t *trace.Training, i int) float64 {
	s, n := 0.0, 0
	for _, sc := range t.Snapshots[i].Scores {
		if !sc.NoContext && sc.Position > 0 {
			s += sc.Surprisal
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// valAt is the validation loss evaluated at step, and false when the run
// did not evaluate there (snapshots are often taken between evaluations:
// the default model's at steps 100 and 500, evaluated every 2,000 steps).
func valAt(t *trace.Training, step int) (float64, bool) {
	for _, p := range t.Curve {
		if p.Step == step {
			return p.ValLoss, true
		}
	}
	return 0, false
}

// lossChart draws the validation and training loss over the steps with the
// baselines' validation loss as flat lines.
func lossChart(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
	t, err := trainingOf(tr)
	if err != nil {
		return nil, "", err
	}
	var cats []string
	var val, train, bi, tri []float64
	for _, p := range t.Curve {
		cats = append(cats, itoa(p.Step))
		val, train = append(val, p.ValLoss), append(train, p.TrainLoss)
		bi, tri = append(bi, t.Baselines.Models[0].ValBits*math.Ln2), append(tri, t.Baselines.Models[1].ValBits*math.Ln2)
	}
	c, err := viz.NewSeriesChart(viz.SeriesChart{ID: "loss-curve",
		Subtitle: e.T("cross-entropy on the "+t.Baselines.Corpus+" corpus, nats per token (lower is better)", "在 "+t.Baselines.Corpus+" 语料上的交叉熵，单位 nat/token（越低越好）"),
		XName:    e.T("optimizer step", "优化步数"), YName: e.T("loss (nats/token)", "损失（nats/token）"), Categories: cats, Line: true, FitY: true,
		Series: []viz.Series{
			{Name: e.T("transformer, validation", "Transformer，验证集"), Values: val, Color: "#3182bd"},
			{Name: e.T("transformer, training text", "Transformer，训练文本"), Values: train, Color: "#9ecae1"},
			{Name: t.Baselines.Models[0].Name, Values: bi, Color: "#e6550d"},
			{Name: t.Baselines.Models[1].Name, Values: tri, Color: "#31a354"},
		}})
	return c, e.T("Loss on the training and validation text against the n-gram baselines", "训练文本与验证文本上的损失，对比 n 元基线"), err
}

// snapHeads returns, for snapshot i, the best previous-token and
// first-token scores and the mean share of attention beyond two tokens.
func snapHeads(t *trace.Training, i int) (prev, first, beyond float64) {
	stats := findings.Heads(t.AsTrace(i))
	prev, first, beyond = math.NaN(), math.NaN(), math.NaN()
	for _, s := range stats {
		if s.Rows < findings.MinRows {
			continue
		}
		if math.IsNaN(prev) || s.Previous > prev {
			prev = s.Previous
		}
		if math.IsNaN(first) || s.First > first {
			first = s.First
		}
	}
	if b, ok := findings.MeanBeyond(stats); ok {
		beyond = b
	}
	return prev, first, beyond
}

// sinkTrend is the best first-token head's share over the snapshots: at
// the first and last, and its peak (at snapshot index at); ok is false when
// some snapshot has no score.
type sinkTrend struct {
	first, last, peak float64
	at                int
	ok                bool
}

// snapFirst returns the sinkTrend of t's snapshots.
func snapFirst(t *trace.Training) sinkTrend {
	f := sinkTrend{ok: true}
	for i := range t.Snapshots {
		_, v, _ := snapHeads(t, i)
		if math.IsNaN(v) {
			return sinkTrend{}
		}
		if i == 0 {
			f.first = v
		}
		if i == 0 || v > f.peak {
			f.peak, f.at = v, i
		}
		f.last = v
	}
	return f
}

// snapshotHeadsChart draws how the heads' attention changes over training.
func snapshotHeadsChart(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
	t, err := trainingOf(tr)
	if err != nil {
		return nil, "", err
	}
	var cats []string
	var prev, first, beyond []float64
	for i, s := range t.Snapshots {
		cats = append(cats, itoa(s.Step))
		p, f, b := snapHeads(t, i)
		prev, first, beyond = append(prev, 100*p), append(first, 100*f), append(beyond, 100*b)
	}
	c, err := viz.NewSeriesChart(viz.SeriesChart{ID: "snapshot-heads",
		Subtitle: e.T("on the lesson's prompt, at each snapshot", "在本课的提示词上，每个快照一组"),
		XName:    e.T("optimizer step", "优化步数"), YName: "%", Categories: cats,
		Series: []viz.Series{
			{Name: e.T("best previous-token head", "最强的前一个 token 头"), Values: prev, Color: "#3182bd"},
			{Name: e.T("best first-token head", "最强的首 token 头"), Values: first, Color: "#e6550d"},
			{Name: e.T("attention beyond 2 tokens (mean of heads)", "超出 2 个 token 的注意力（各头平均）"), Values: beyond, Color: "#31a354"},
		}})
	return c, e.T("What the heads do, snapshot by snapshot", "各个头的行为，逐个快照"), err
}

// snapshotsTable lists each snapshot's loss, its surprise on the prompt
// and its prediction after it.
func snapshotsTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	t, err := trainingOf(tr)
	if err != nil {
		return nil, err
	}
	out := &output.Table{
		Caption: e.T("Each snapshot's loss and its prediction after the prompt", "每个快照的损失，以及它在提示词之后的预测"),
		Header: []string{e.T("step", "步数"), e.T("validation loss, nats/token", "验证损失（nat/token）"), e.T("prompt, nats/token", "提示词（nat/token）"),
			e.T("next token", "下一个 token"), "P"},
		Align: []string{"right", "right", "right", "left", "right"},
	}
	for i, s := range t.Snapshots {
		val := e.T("not evaluated", "未评估")
		if v, ok := valAt(t, s.Step); ok {
			val = num(v, 4)
		}
		out.Rows = append(out.Rows, []string{itoa(s.Step), val, num(snapBits(t, i)*math.Ln2, 3), s.Next.Top[0].Display, num(s.Next.Top[0].Prob, 3)})
	}
	return out, nil
}

// restart is a warm restart of the learning rate found in a loss curve:
// the evaluations before and after the rate went back up, the highest rate
// evaluated before it and that evaluation's step, and the first evaluated
// step after it whose validation loss is below before's again (−1 if
// none).
type restart struct {
	ok            bool
	before, after trace.LossPoint
	peak          float64
	peakStep      int
	back          int
}

// rises reports whether the validation loss rose across the restart.
func (r restart) rises() bool { return r.ok && r.after.ValLoss > r.before.ValLoss }

// lrRestart is the first of lrRestarts, or none (ok false).
func lrRestart(t *trace.Training) restart {
	if rs := lrRestarts(t); len(rs) > 0 {
		return rs[0]
	}
	return restart{back: -1}
}

// lastRestart is the last of lrRestarts when there are several, or none
// (ok false).
func lastRestart(t *trace.Training) restart {
	if rs := lrRestarts(t); len(rs) > 1 {
		return rs[len(rs)-1]
	}
	return restart{back: -1}
}

// lrRestarts finds every evaluation whose learning rate is more than 1%
// above the evaluation's before it, after the rate had fallen from a
// higher one: a schedule started again (a warm restart, as in Loshchilov
// and Hutter's SGDR), not the warm-up. Curves without learning rates (LR
// 0) have none. Each restart's peak is the highest rate evaluated before
// it.
func lrRestarts(t *trace.Training) []restart {
	var out []restart
	peak, peakStep := 0.0, 0
	for i := 1; i < len(t.Curve); i++ {
		a, b := t.Curve[i-1], t.Curve[i]
		if a.LR > peak {
			peak, peakStep = a.LR, a.Step
		}
		if a.LR > 0 && a.LR < peak && b.LR > 1.01*a.LR {
			r := restart{ok: true, before: a, after: b, peak: peak, peakStep: peakStep, back: -1}
			for _, p := range t.Curve[i+1:] {
				if p.ValLoss < a.ValLoss {
					r.back = p.Step
					break
				}
			}
			out = append(out, r)
		}
	}
	return out
}
