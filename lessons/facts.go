package lessons

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/output"
)

// The report's sentences about the run, each said only when its fact
// (package findings) holds and with the numbers that decided it.

// pct formats a share 0..1 as a percentage of 2 significant digits,
// without the sign.
func pct(x float64) string { return num(100*x, 2) }

// oodText is the out-of-distribution note of the prompt, "" when the
// prompt is like the model's training text.
func (b *builder) oodText() string {
	o, ok := findings.PromptOutOfDistribution(b.tr)
	if !ok {
		return ""
	}
	parts := []string{b.t("ood.h")}
	if o.ByBytes {
		parts = append(parts, b.t("ood.bytes", o.ByteTokens, b.n(o.Tokens, "n.token"), pct(o.ByteShare)))
	}
	if o.BySurprisal {
		parts = append(parts, b.t("ood.surprisal", num(o.MeanSurprisal, 3), num(o.UniformBits, 3), thousands(int64(b.tr.Model.Config.VocabSize)), num(o.MedianProb, 2)))
	}
	parts = append(parts, b.t("ood.so"))
	return strings.Join(parts, " ")
}

// pplText says the prompt's perplexity and how to read it for this
// vocabulary: as a number of choices only when it is at most vocab_size.
func (b *builder) pplText(p findings.Perplexity) string {
	s := b.t("probs.ppl", num(p.Value, 4), b.n(p.Scored, "n.scored"))
	if p.WorseThanUniform {
		return s + " " + b.t("probs.ppl.worse", thousands(int64(p.VocabSize)), num(p.UniformBits, 3), num(p.MeanSurprisal, 3))
	}
	return s + " " + b.t("probs.ppl.choices", num(p.Value, 4), thousands(int64(p.VocabSize)))
}

// surpriseText names the position of the most surprising prompt token
// (the table shows the token itself: model text stays out of markdown).
func (b *builder) surpriseText() string {
	s, ok := findings.MostSurprising(b.tr)
	if !ok {
		return ""
	}
	return b.t("probs.surprise", s.Position, num(s.Surprisal, 3), num(s.Prob, 2), num(s.MeanSurprisal, 3))
}

// flatText says at which steps the next-token distribution was almost
// uniform (findings.Flat), or "" when at none.
func (b *builder) flatText() string {
	f, ok := findings.Flat(b.tr)
	if !ok {
		return ""
	}
	args := []any{len(f.Steps), f.Decoded, num(f.MinBits, 3), num(f.MaxBits, 3), thousands(int64(f.VocabSize)),
		num(f.UniformBits, 3), thousands(int64(math.Round(math.Exp2(f.MinBits))))}
	var s string
	if f.FromOn {
		s = b.t("gen.flat.from", append([]any{f.Steps[0]}, args...)...)
	} else {
		s = b.t("gen.flat.at", append([]any{b.t("gen.flat.steps", stepRanges(f.Steps))}, args...)...)
	}
	if tail := b.tailText(f.Steps[0]); tail != "" {
		s += " " + tail
	}
	return s
}

// tailText says, for a run that sampled from the whole distribution
// (temperature above 0, no top-k, no top-p), the least likely token it
// drew before step first when that is below TailProb, and what keeps the
// sampler off the tail; "" otherwise.
func (b *builder) tailText(first int) string {
	set := b.tr.Settings
	if set.Temperature <= 0 || set.TopK > 0 || set.TopP < 1 {
		return ""
	}
	low, at := TailProb, -1 // the least likely draw below TailProb, and its step
	for _, st := range b.tr.Steps {
		if st.Index >= first {
			break
		}
		if p := st.Next; p != nil && !p.Greedy && p.Chosen.Prob < low {
			low, at = p.Chosen.Prob, st.Index
		}
	}
	if at < 0 {
		return ""
	}
	return b.t("gen.flat.tail", num(set.Temperature, 3), at, num(low, 3))
}

// TailProb is below what a drawn token's probability counts as the tail
// of the distribution (for the sentence after a flat stretch).
const TailProb = 1e-3

// stepRanges writes ascending step indices as ranges: "1, 3–5, 8".
func stepRanges(steps []int) string {
	var parts []string
	for i := 0; i < len(steps); {
		j := i
		for j+1 < len(steps) && steps[j+1] == steps[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(steps[i]))
		} else {
			parts = append(parts, strconv.Itoa(steps[i])+"–"+strconv.Itoa(steps[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// maxListed is how many heads a sentence names before "and N more".
const maxListed = 6

// headList names heads with their scores: "layer 0, head 1 (84%), …".
func (b *builder) headList(hs []findings.HeadRole) string {
	var parts []string
	for i, h := range hs {
		if i == maxListed {
			return strings.Join(parts, b.t("list.sep")) + b.t("list.more", len(hs)-maxListed)
		}
		parts = append(parts, b.t("head.score", h.Layer, h.Head, pct(h.Score)))
	}
	return strings.Join(parts, b.t("list.sep"))
}

// headRolesText says which heads play a known role, with their scores,
// or, when none does, how close the strongest came.
func (b *builder) headRolesText(stats []findings.HeadStats) string {
	var all []findings.HeadRole
	for _, s := range stats {
		all = append(all, s.Roles()...)
	}
	var parts []string
	for _, r := range findings.Roles {
		var hs []findings.HeadRole
		for _, h := range all {
			if h.Role == r {
				hs = append(hs, h)
			}
		}
		slices.SortStableFunc(hs, func(a, b findings.HeadRole) int { return cmp.Compare(b.Score, a.Score) })
		if len(hs) > 0 {
			parts = append(parts, b.t(roleKey("role.h.", r), b.headList(hs), pct(r.Threshold())))
		}
	}
	if len(all) == 0 {
		if s, ok := findings.Strongest(stats); ok {
			parts = append(parts, b.t("roles.none", pct(findings.RoleThreshold), findings.MinKeys,
				s.Layer, s.Head, pct(s.Score), b.t(roleKey("role.name.", s.Role)), pct(s.Baseline)))
		}
	}
	return strings.Join(parts, "\n\n")
}

// distanceText says how far back heads read.
func (b *builder) distanceText(stats []findings.HeadStats) string {
	beyond, ok := findings.MeanBeyond(stats)
	far, ok2 := findings.FarthestReader(stats)
	if !ok || !ok2 {
		return ""
	}
	s := b.t("attn.dist", pct(beyond), findings.NearDistance, far.Layer, far.Head, num(far.Distance.Mean, 3),
		far.Distance.Farthest, pct(findings.ReadThreshold))
	// A head that parks its attention on the window's first token "reads
	// far" from every late row without reading any content there.
	if first, rows := far.Score(findings.FirstToken); rows >= findings.MinRows && first >= findings.FirstToken.Threshold() {
		s += " " + b.t("attn.dist.sink", pct(first))
	}
	return s + " " + b.t("attn.dist.table")
}

// headTable is every head's scores: what it reads and how far back.
func (b *builder) headTable(stats []findings.HeadStats) *output.Table {
	t := &output.Table{
		Caption: b.t("heads.caption", findings.MinKeys),
		Header: []string{b.t("col.layer"), b.t("col.head"), b.t("col.prev"), b.t("col.first"), b.t("col.self"),
			b.t("col.induction"), b.t("col.beyond", findings.NearDistance), b.t("col.meandist"), b.t("col.farthest")},
		Align:  []string{"right", "right", "right", "right", "right", "right", "right", "right", "right"},
		Folded: len(stats) > 24,
	}
	for _, s := range stats {
		ind := "–"
		if s.InductionRows > 0 {
			ind = pct(s.Induction) + "%"
		}
		row := []string{strconv.Itoa(s.Layer), strconv.Itoa(s.Head), "–", "–", "–", ind, "–", "–", "–"}
		if s.Rows > 0 {
			row[2], row[3], row[4] = pct(s.Previous)+"%", pct(s.First)+"%", pct(s.Self)+"%"
		}
		if d := s.Distance; d.Rows > 0 {
			row[6], row[7], row[8] = pct(d.Beyond)+"%", num(d.Mean, 3), strconv.Itoa(d.Farthest)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// kvWindowText says whether the keys and values already cached ever
// changed in this run.
func (b *builder) kvWindowText() string {
	w, ok := findings.KVWindow(b.tr)
	switch {
	case !ok:
		return b.t("kv.kept")
	case w.Rewritten():
		return b.t("kv.rewritten", b.n(len(w.Recomputed), "n.step"), w.Recomputed[0])
	case w.PromptDropped > 0 && w.Evicted == 0:
		return b.t("kv.dropped", b.n(w.PromptDropped, "n.token"))
	}
	return ""
}

// lensText says where the logit lens settles.
func (b *builder) lensText() string {
	l, ok := findings.LogitLens(b.tr)
	if !ok {
		return ""
	}
	last := l.Last()
	return b.t("lens.settle", last.Position, last.Layer, l.NLayer-1, b.n(len(l.Positions), "n.position"), l.Median, l.Early, l.Late)
}

// lensCostText says what reading out the lens cost the run, when the
// trace timed it, and how much of a long prefill it read out.
func (b *builder) lensCostText() string {
	c, ok := findings.LogitLensCost(b.tr)
	if !ok {
		return ""
	}
	cfg := b.tr.Model.Config
	s := b.t("lens.cost", thousands(int64(cfg.VocabSize)), cfg.NEmbd, b.n(c.Positions, "n.position"), cfg.NLayer,
		thousands(int64(c.Readings)), num(c.Millis, 3), num(c.StepMillis, 3), num(100*c.Share(), 2))
	for _, st := range b.tr.Steps {
		if st.LensStart > 0 {
			s += b.t("lens.cut", st.NQuery, st.NQuery-st.LensStart)
			break
		}
	}
	return s
}

// residText says the first position's residual stream is outsized, when
// it is.
func (b *builder) residText() string {
	r, ok := findings.FirstResidual(b.tr)
	if !ok {
		return ""
	}
	return b.t("resid.sink", r.Layer, num(float64(r.Norm), 3), num(r.Ratio, 2), num(float64(r.MedianOther), 3))
}

// checksText says whether every measured check passed.
func (b *builder) checksText(cs []findings.Check) string {
	if f := findings.Failed(cs); len(f) > 0 {
		return b.t("checks.failed", b.n(len(f), "n.check"))
	}
	return b.t("checks.ok")
}

// roleKey is the text key prefix+role ("role.h.induction"); TestRoleTexts
// checks that every role has one.
func roleKey(prefix string, r findings.Role) string { return prefix + r.String() }

// checkKey is the text key of a sanity check's row ("check.causal");
// TestRoleTexts checks that every check has one.
func checkKey(n findings.CheckName) string { return "check." + string(n) }

// recomputeText adds to the new-token attention paragraph that some steps
// computed every row, when the window was recomputed.
func (b *builder) recomputeText() string {
	if w, ok := findings.KVWindow(b.tr); ok && w.Rewritten() {
		return " " + b.t("attn.new.recompute", b.n(len(w.Recomputed), "n.step"))
	}
	return ""
}

// cacheCheckText says how close cached decoding came to a full recompute
// (d = max |Δlogit| ≥ 0), and whether that is float32 rounding.
func (b *builder) cacheCheckText(d float64) string {
	if d <= findings.CacheTolerance {
		return b.t("kv.check", num(d, 3))
	}
	return b.t("kv.check.fail", num(d, 3), num(findings.CacheTolerance, 1))
}
