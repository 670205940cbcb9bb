package lessons

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/internal/numfmt"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

// CompareOptions choose how a comparison of sampling settings is shown.
type CompareOptions struct {
	// Lang is the language of the explanations: "en" (also when empty) or
	// "zh".
	Lang string
	// Static lists static renderings to embed in every chart cell: "svg"
	// and/or "png" (as ReportOptions.Static).
	Static []string
	// Rerun is the shell command line that reruns the comparison, shown as
	// given (a single line without control characters; empty leaves it
	// out). Reconstructed says it was rebuilt from a saved comparison's
	// settings; the page then says so.
	Rerun         string
	Reconstructed bool
	// Seed is the index in Comparison.Seeds of the seed whose runs the
	// per-step views (the step slider, the lines over the steps, the
	// divergence) show; 0 is the first.
	Seed int
}

// Compare builds the notebook of a comparison of sampling settings
// (gptviz compare): what was compared and the command that reruns it; per
// setting the generated text, each token shaded by its probability, the
// top alternatives on hover; each setting's next-token distribution stage
// by stage at a chosen step (one slider for all settings); entropy and the
// chosen token's probability over the steps; the summary numbers with
// their spread across seeds; and where two settings with the same seed
// first part. Every sentence about the run is computed from c, in English
// or Chinese. It returns an *OptionError (matching ErrOptions) for an
// unknown language or static format, a seed index outside c.Seeds or a
// command that is not one line; an error for a nil or invalid comparison;
// and otherwise the first chart error that is not missing data.
func Compare(c *trace.Comparison, opt CompareOptions) (*output.Notebook, error) {
	if c == nil {
		return nil, errors.New("compare: nil comparison")
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("compare: invalid comparison: %w", err)
	}
	if err := opt.check(len(c.Seeds)); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	lang := pageLang(opt.Lang)
	b := &cmpBuilder{c: c, opt: opt, lang: i18n.ParseLang(lang), j: opt.Seed}
	b.nb = &output.Notebook{Title: b.t("c.title"), Lang: lang, Meta: map[string]string{}}
	setRunMeta(b.nb.Meta, c.Runs[0][0])
	sections := []func() error{b.summary, b.texts, b.steps, b.lines, b.numbers, b.divergence, b.playground}
	if c.Steps == 0 { // nothing generated: nothing to compare
		sections = []func() error{b.summary, func() error { b.note(b.t("c.nosteps")); return nil }}
	}
	for _, section := range sections {
		if err := section(); err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
	}
	return b.nb, nil
}

func (opt CompareOptions) check(seeds int) error {
	if err := checkLangStatic(opt.Lang, opt.Static); err != nil {
		return err
	}
	if opt.Seed < 0 || opt.Seed >= seeds {
		return &OptionError{"seed", strconv.Itoa(opt.Seed), fmt.Sprintf("the comparison has seeds 0..%d (by index)", seeds-1)}
	}
	return checkLine("commands", opt.Rerun)
}

// cmpBuilder accumulates the cells of one comparison page.
type cmpBuilder struct {
	c    *trace.Comparison
	opt  CompareOptions
	lang i18n.Lang
	j    int // the seed index of the per-step views
	nb   *output.Notebook
}

func (b *cmpBuilder) t(key string, args ...any) string {
	return compareTexts.Get(b.lang, key, args...) // TestCompareTexts finds unknown keys
}

func (b *cmpBuilder) add(c output.Cell) { b.nb.Cells = append(b.nb.Cells, c) }
func (b *cmpBuilder) md(s string)       { b.add(output.MarkdownCell(s)) }
func (b *cmpBuilder) note(s string)     { b.add(output.NoteCell(s)) }
func (b *cmpBuilder) vl() viz.Option    { return viz.Lang(string(b.lang)) }

// chart adds a chart with its static renderings; a chart without data
// becomes the note noData.
func (b *cmpBuilder) chart(c *viz.Chart, err error, noData string) error {
	if errors.Is(err, viz.ErrNoData) {
		b.note(noData)
		return nil
	}
	if err != nil {
		return err
	}
	oc := &output.Chart{ID: c.ID, Title: c.Title, Option: c.Option, Height: c.Height}
	for _, f := range b.opt.Static {
		var buf strings.Builder
		if err := c.Static(&buf, f); err != nil {
			return err
		}
		if f == "svg" {
			oc.SVG = []byte(buf.String())
		} else {
			oc.PNG = []byte(buf.String())
		}
	}
	b.add(output.ChartCell(oc))
	if c.Subtitle != "" {
		b.note(c.Subtitle)
	}
	for _, n := range c.Notes {
		b.note(n)
	}
	return nil
}

// setting describes setting i from its checked numbers only (never from
// its spec, which a saved file could fill with anything), fit for
// markdown: "greedy", "T = 0.7", "T = 1, top-k = 40".
func (b *cmpBuilder) setting(i int) string {
	s := b.c.Settings[i]
	if s.Temperature == 0 {
		return b.t("c.greedy")
	}
	parts := []string{"T = " + num(s.Temperature, 4)}
	if s.TopK > 0 {
		parts = append(parts, "top-k = "+strconv.Itoa(s.TopK))
	}
	if s.TopP < 1 {
		parts = append(parts, "top-p = "+num(s.TopP, 4))
	}
	return "**" + strings.Join(parts, ", ") + "**"
}

// generated returns the ids of run [i][j]'s generated tokens.
func (b *cmpBuilder) generated(i, j int) []int {
	tr := b.c.Runs[i][j]
	var ids []int
	for _, t := range tr.Tokens[tr.PromptLen:] {
		ids = append(ids, t.ID)
	}
	return ids
}

// preds returns the predictions of run [i][j]'s decode steps, in order.
func (b *cmpBuilder) preds(i, j int) []*trace.Prediction {
	var out []*trace.Prediction
	for _, st := range b.c.Runs[i][j].Steps {
		if st.Next != nil && st.Kind.Generates() {
			out = append(out, st.Next)
		}
	}
	return out
}

func (b *cmpBuilder) greedyIndex() int {
	for i, s := range b.c.Settings {
		if s.Temperature == 0 {
			return i
		}
	}
	return -1
}

// 1. What was compared.
func (b *cmpBuilder) summary() error {
	c := b.c
	tr := c.Runs[0][0]
	b.md(b.t("c.summary.h") + "\n\n" + b.t("c.summary.md", len(c.Settings), len(c.Seeds), c.Steps, len(c.Settings)*len(c.Seeds)))
	seeds := make([]string, len(c.Seeds))
	for j, s := range c.Seeds {
		seeds[j] = strconv.FormatUint(s, 10)
	}
	rows := [][]string{
		{b.t("c.f.model"), tr.Model.Name},
		{b.t("c.f.prompt"), c.Prompt},
		{b.t("c.f.steps"), strconv.Itoa(c.Steps)},
		{b.t("c.f.seeds"), strings.Join(seeds, ", ")},
		{b.t("c.f.shown"), seeds[b.j]},
	}
	b.add(output.TableCell(&output.Table{Caption: b.t("c.f.caption"), Header: []string{b.t("c.field"), b.t("c.value")}, Rows: rows}))
	var srows [][]string
	for i, s := range c.Settings {
		temp, topk, topp := num(s.Temperature, 4), strconv.Itoa(s.TopK), num(s.TopP, 4)
		if s.Temperature == 0 {
			temp = b.t("c.greedy.cell")
		}
		if s.TopK == 0 {
			topk = b.t("c.off")
		}
		if s.TopP >= 1 {
			topp = b.t("c.off")
		}
		srows = append(srows, []string{strconv.Itoa(i + 1), s.Spec, temp, topk, topp})
	}
	b.add(output.TableCell(&output.Table{Caption: b.t("c.s.caption"),
		Header: []string{"#", "--sample", b.t("c.temp"), "top-k", "top-p"}, Rows: srows, Align: []string{"right", "left", "right", "right", "right"}}))
	if b.opt.Rerun != "" {
		head := b.t("c.rerun")
		if b.opt.Reconstructed {
			head += "\n" + b.t("c.rebuilt")
		}
		b.add(output.CodeCell("shell", head+"\n"+b.opt.Rerun))
	}
	b.md(b.t("c.same.md"))
	return nil
}

// 2. The generated texts.
func (b *cmpBuilder) texts() error {
	c := b.c
	b.md(b.t("c.text.h") + "\n\n" + b.t("c.text.md", c.Seeds[b.j]))
	for i, set := range c.Settings {
		tr := c.Runs[i][b.j]
		preds := b.preds(i, b.j)
		chips := &output.Chips{Caption: b.t("c.text.caption", i+1, set.Spec, c.Seeds[b.j]), Column: true}
		prompt := strings.Builder{}
		for _, t := range tr.Tokens[:tr.PromptLen] {
			prompt.WriteString(t.Display)
		}
		chips.Items = append(chips.Items, output.Chip{Label: prompt.String(), Title: b.t("c.text.prompt")})
		for k, t := range tr.Tokens[tr.PromptLen:] {
			chip := output.Chip{Label: t.Display}
			if k < len(preds) {
				p := preds[k]
				chip.Shade = max(p.Chosen.Prob, 0.001)
				chip.Title = b.chipTitle(k+1, p)
			}
			chips.Items = append(chips.Items, chip)
		}
		b.add(output.ChipsCell(chips))
	}
	b.md(b.randomText())
	return nil
}

// chipTitle is a generated token's hover text: its probabilities and the
// top alternatives at its step.
func (b *cmpBuilder) chipTitle(step int, p *trace.Prediction) string {
	var alts []string
	for _, a := range p.Top[:min(len(p.Top), 5)] {
		alts = append(alts, fmt.Sprintf("%s %s", a.Display, num(a.Prob, 3)))
	}
	return b.t("c.chip", step, num(p.Chosen.Prob, 3), num(p.Chosen.SampleProb, 3), strings.Join(alts, " · "))
}

// randomText says, from the run, what a seed does: greedy writes the same
// text with every seed; a sampled setting's seeds write different texts
// (or, when they happen not to, that they did not here).
func (b *cmpBuilder) randomText() string {
	c := b.c
	var parts []string
	if g := b.greedyIndex(); g >= 0 && len(c.Seeds) > 1 {
		same := true
		for j := 1; j < len(c.Seeds); j++ {
			same = same && slices.Equal(b.generated(g, 0), b.generated(g, j))
		}
		if same {
			parts = append(parts, b.t("c.greedy.same", len(c.Seeds)))
		}
	}
	// The sampled setting to speak of: plain T = 1 if compared, else the
	// first sampled one.
	pick := -1
	for i, s := range c.Settings {
		if s.Temperature == 1 && s.TopK == 0 && s.TopP >= 1 {
			pick = i
			break
		}
		if pick < 0 && s.Temperature > 0 {
			pick = i
		}
	}
	if pick >= 0 && len(c.Seeds) > 1 {
		var texts [][]int
		for j := range c.Seeds {
			if !slices.ContainsFunc(texts, func(t []int) bool { return slices.Equal(t, b.generated(pick, j)) }) {
				texts = append(texts, b.generated(pick, j))
			}
		}
		if len(texts) > 1 {
			parts = append(parts, b.t("c.seeds.differ", b.setting(pick), len(c.Seeds), len(texts)))
			if c.Settings[pick].Temperature == 1 {
				parts = append(parts, b.t("c.t1"))
			}
		} else {
			parts = append(parts, b.t("c.seeds.same", b.setting(pick), len(c.Seeds)))
		}
	}
	parts = append(parts, b.t("c.seed.fixed"))
	return strings.Join(parts, " ")
}

// 3. The distribution stage by stage.
func (b *cmpBuilder) steps() error {
	b.md(b.t("c.steps.h") + "\n\n" + b.t("c.steps.md"))
	if s := b.filterText(); s != "" {
		b.md(s)
	}
	ch, err := viz.CompareSteps(b.c, b.j, b.vl())
	if err := b.chart(ch, err, b.t("c.nosteps")); err != nil {
		return err
	}
	if s := b.greedyText(); s != "" {
		b.md(s)
	}
	if s := b.topPText(); s != "" {
		b.md(s)
	}
	return nil
}

// filterText follows one filtered draw through the stages, with the run's
// numbers: the first setting that uses top-k or top-p, at its first step.
func (b *cmpBuilder) filterText() string {
	for i, s := range b.c.Settings {
		if s.Temperature == 0 || (s.TopK == 0 && s.TopP >= 1) {
			continue
		}
		for k, p := range b.preds(i, b.j) {
			var fk, fp *trace.FilterResult
			for f := range p.Filters {
				switch p.Filters[f].Name {
				case "top-k":
					fk = &p.Filters[f]
				case "top-p":
					fp = &p.Filters[f]
				}
			}
			if fk == nil || fp == nil || fp.Mass <= 0 {
				return ""
			}
			pT := p.Chosen.SampleProb * fp.Mass // the chosen token's tempered probability
			return b.t("c.filter.md", b.setting(i), k+1, num(pT, 3), fk.Kept, num(fk.Mass, 3), fp.Kept, num(fp.Mass, 3), num(p.Chosen.SampleProb, 3))
		}
	}
	return ""
}

// greedyText: T → 0 is greedy, from the runs' own check, and how long a
// low temperature followed greedy.
func (b *cmpBuilder) greedyText() string {
	all := true
	for _, row := range b.c.Runs {
		for _, tr := range row {
			all = all && tr.Checks.ZeroTempIsGreedy
		}
	}
	s := b.t("c.t0.bad")
	if all {
		s = b.t("c.t0.ok")
	}
	g := b.greedyIndex()
	if g < 0 {
		return s
	}
	for i, set := range b.c.Settings {
		if i == g || set.Temperature == 0 || set.Temperature >= 1 {
			continue
		}
		step, ok := trace.Divergence(b.c.Runs[g][b.j], b.c.Runs[i][b.j])
		if !ok {
			return s + " " + b.t("c.lowt.same", b.setting(i), b.c.Steps)
		}
		if step == 1 {
			return s + " " + b.t("c.lowt.first", b.setting(i))
		}
		return s + " " + b.t("c.lowt.part", b.setting(i), step-1, step)
	}
	return s
}

// topPText: how many candidates top-p kept, step by step, for the first
// setting that uses it.
func (b *cmpBuilder) topPText() string {
	for i, s := range b.c.Settings {
		if s.Temperature == 0 || s.TopP >= 1 {
			continue
		}
		lo, hi, loAt, hiAt := math.MaxInt, -1, 0, 0
		for k, p := range b.preds(i, b.j) {
			for _, f := range p.Filters {
				if f.Name != "top-p" {
					continue
				}
				if f.Kept < lo {
					lo, loAt = f.Kept, k+1
				}
				if f.Kept > hi {
					hi, hiAt = f.Kept, k+1
				}
			}
		}
		if hi < 0 {
			return ""
		}
		one := map[bool]string{true: ".one"}[lo == 1] // "1 token", not "1 tokens"
		if lo == hi {
			return b.t("c.topp.same"+one, b.setting(i), lo)
		}
		return b.t("c.topp.md"+one, b.setting(i), lo, loAt, hi, hiAt)
	}
	return ""
}

// 4. Entropy and probability over the steps.
func (b *cmpBuilder) lines() error {
	b.md(b.t("c.lines.h") + "\n\n" + b.t("c.lines.md"))
	ch, err := viz.CompareLines(b.c, b.j, b.vl())
	return b.chart(ch, err, b.t("c.nosteps"))
}

// 5. Summary numbers.
func (b *cmpBuilder) numbers() error {
	c := b.c
	b.md(b.t("c.num.h") + "\n\n" + b.t("c.num.md"))
	var rows [][]string
	aggs := make([]cmpAgg, len(c.Settings))
	for i, set := range c.Settings {
		var lp, ppl, d1, d2, rep []float64
		for _, s := range c.Summaries[i] {
			lp, ppl, d1, d2, rep = append(lp, s.MeanLogProb), append(ppl, s.Perplexity), append(d1, s.Distinct1), append(d2, s.Distinct2), append(rep, s.Repetition)
		}
		aggs[i] = cmpAgg{numfmt.Mean(lp), math.Exp(-numfmt.Mean(lp)), numfmt.Mean(d2), numfmt.Mean(rep)}
		rows = append(rows, []string{set.Spec, spread(lp), spreadAround(aggs[i].ppl, ppl), spread(d1), spread(d2), spread(rep)})
	}
	caption := b.t("c.num.caption", len(c.Seeds))
	if len(c.Seeds) == 1 {
		caption = b.t("c.num.caption.one", c.Seeds[0])
	}
	b.add(output.TableCell(&output.Table{Caption: caption,
		Header: []string{"--sample", b.t("c.num.lp"), b.t("c.num.ppl"), "distinct-1", "distinct-2", b.t("c.num.rep")},
		Rows:   rows, Align: []string{"left", "right", "right", "right", "right", "right"}}))
	if c.Steps > 0 {
		b.md(b.numbersSentence(aggs))
	}
	ch, err := viz.CompareSummary(c, b.vl())
	return b.chart(ch, err, b.t("c.nosteps"))
}

// cmpAgg is one setting's summary over the seeds: the mean log-probability
// (nats per token), the perplexity of that mean (e^−lp, the geometric mean
// of the seeds' perplexities), the mean distinct-2 and repetition rate.
type cmpAgg struct{ lp, ppl, d2, rep float64 }

// numbersSentence names the settings whose text was likeliest, most varied
// and most repetitive, every setting that ties for first.
func (b *cmpBuilder) numbersSentence(aggs []cmpAgg) string {
	best := func(v func(a cmpAgg) float64) []int {
		var is []int
		for i, a := range aggs {
			switch {
			case len(is) == 0 || v(a) > v(aggs[is[0]]):
				is = []int{i}
			case v(a) == v(aggs[is[0]]):
				is = append(is, i)
			}
		}
		return is
	}
	lp, div, rep := best(func(a cmpAgg) float64 { return a.lp }), best(func(a cmpAgg) float64 { return a.d2 }), best(func(a cmpAgg) float64 { return a.rep })
	s := b.t("c.num.likely", b.settingList(lp), num(aggs[lp[0]].lp, 3), num(aggs[lp[0]].ppl, 3)) + " " +
		b.t("c.num.diverse", b.settingList(div), num(aggs[div[0]].d2, 3))
	if n := b.noiseSentence(); n != "" {
		s += " " + n
	}
	switch {
	case aggs[rep[0]].rep == 0:
		s += " " + b.t("c.num.norep")
	case len(rep) > 1:
		s += " " + b.t("c.num.rep.many", b.settingList(rep), num(aggs[rep[0]].rep, 3))
	default:
		s += " " + b.t("c.num.rep.md", b.settingList(rep), num(aggs[rep[0]].rep, 3))
	}
	return s
}

// noiseSentence names the runs (setting and seeds) whose perplexity is
// above the vocabulary size, "" when none is: such a perplexity counts no
// choices, the text is noise to the model, and its variety no merit.
func (b *cmpBuilder) noiseSentence() string {
	v := b.c.Runs[0][0].Model.Config.VocabSize
	var names []string
	for i, row := range b.c.Summaries {
		var seeds []string
		for j, sm := range row {
			if sm.Perplexity > float64(v) {
				seeds = append(seeds, strconv.FormatUint(b.c.Seeds[j], 10))
			}
		}
		if len(seeds) > 0 {
			names = append(names, b.t("c.num.noise.run", b.setting(i), strings.Join(seeds, b.t("c.sep"))))
		}
	}
	if len(names) == 0 || v < 1 {
		return ""
	}
	list := names[0]
	if len(names) > 1 {
		list = b.t("c.and", strings.Join(names[:len(names)-1], b.t("c.sep")), names[len(names)-1])
	}
	return b.t("c.num.noise", list, thousands(int64(v)))
}

// settingList names settings is: "greedy", "greedy and T = 0.7",
// "greedy, T = 0.7 and T = 1" (Chinese: 、 and 和).
func (b *cmpBuilder) settingList(is []int) string {
	names := make([]string, len(is))
	for k, i := range is {
		names[k] = b.setting(i)
	}
	if len(names) == 1 {
		return names[0]
	}
	return b.t("c.and", strings.Join(names[:len(names)-1], b.t("c.sep")), names[len(names)-1])
}

// spread writes the mean of v and, with several values, their range as
// an interval, which reads plainly for negative numbers too:
// "0.52 [0.41, 0.63]", "-2.01 [-2.49, -1.53]".
func spread(v []float64) string { return spreadAround(numfmt.Mean(v), v) }

// spreadAround is spread with the centre given: a perplexity's is e^−(mean
// log-probability), not the mean of the perplexities.
func spreadAround(centre float64, v []float64) string {
	s := num(centre, 3)
	if len(v) > 1 {
		s += " [" + num(slices.Min(v), 3) + ", " + num(slices.Max(v), 3) + "]"
	}
	return s
}

// 6. Where two settings part.
func (b *cmpBuilder) divergence() error {
	c := b.c
	b.md(b.t("c.div.h") + "\n\n" + b.t("c.div.md", b.setting(0)))
	// The table: each setting against the first, per seed.
	header := []string{"--sample"}
	for _, s := range c.Seeds {
		header = append(header, b.t("c.div.seed", s))
	}
	var rows [][]string
	for i := 1; i < len(c.Settings); i++ {
		row := []string{c.Settings[i].Spec}
		for j := range c.Seeds {
			if d := c.Diverges[i][j]; d > 0 {
				row = append(row, strconv.Itoa(d))
			} else {
				row = append(row, b.t("c.div.never"))
			}
		}
		rows = append(rows, row)
	}
	if len(rows) > 0 {
		b.add(output.TableCell(&output.Table{Caption: b.t("c.div.caption", c.Settings[0].Spec), Header: header, Rows: rows}))
	}
	// The chart: the first setting against the one that stays with it
	// longest before parting, with the seed where that happens.
	a, other, seed := 0, -1, b.j
	for i := 1; i < len(c.Settings); i++ {
		for j := range c.Seeds {
			if d := c.Diverges[i][j]; d > 0 && (other < 0 || d > c.Diverges[other][seed]) {
				other, seed = i, j
			}
		}
	}
	if other < 0 {
		b.note(b.t("c.div.none"))
		return nil
	}
	ch, err := viz.CompareDivergence(c, a, other, seed, b.vl())
	if err := b.chart(ch, err, b.t("c.nosteps")); err != nil {
		return err
	}
	step := c.Diverges[other][seed]
	pa, pb := b.preds(a, seed)[step-1], b.preds(other, seed)[step-1]
	why := b.t("c.div.why", b.setting(a), b.setting(other), step-1, step, c.Seeds[seed])
	if step == 1 {
		why = b.t("c.div.why.first", b.setting(a), b.setting(other), c.Seeds[seed])
	}
	b.md(why + " " + b.t("c.div.probs", b.setting(a), b.setting(other), num(pa.Chosen.SampleProb, 3), num(pb.Chosen.SampleProb, 3), num(pa.Chosen.Prob, 3), num(pb.Chosen.Prob, 3)))
	return nil
}

// 7. A sampling playground on the shown seed's run of the first setting
// that samples (the greedy one when none does): the reader reshapes the
// recorded steps with other filters than the compared ones.
func (b *cmpBuilder) playground() error {
	i := 0
	for k, s := range b.c.Settings {
		if s.Temperature != 0 {
			i = k
			break
		}
	}
	cells, err := Playground(b.c.Runs[i][b.j], PlaygroundOptions{
		Lang:    string(b.lang),
		ID:      "compare-playground",
		Heading: b.t("c.pg.h", b.setting(i)),
	})
	if err != nil {
		return err
	}
	for _, c := range cells {
		b.add(c)
	}
	return nil
}
