// Package lessons turns a recorded run into the walkthroughs a learner
// reads: the narrative (English and Chinese), which charts each section
// shows, and the order of it all.
//
// [Report] builds the notebook of `gptviz report` from a [model.Trace]:
//
//  1. run summary and the exact command to rerun it;
//  2. tokens entering working memory;
//  3. P(w_i | w_<i) over the prompt, with perplexity;
//  4. step-by-step generation;
//  5. attention;
//  6. the KV cache;
//  7. the logit lens;
//  8. the residual stream;
//  9. sanity checks.
//
// [Compare] builds the page of `gptviz compare` from a trace.Comparison:
// sampling settings side by side on the same prompt and seeds.
//
// Each section is a short explanation (markdown), the command or Go call
// that produced it (a code cell) and its output (charts from package viz,
// tables, token chips). The package computes no model internals itself:
// everything shown comes from the Trace, and every sentence about the run
// comes from a fact of package findings and appears only when it holds. Model and user text (the prompt,
// token strings) only ever appears in plain-text cells — tables, chips,
// code — never inside markdown.
package lessons

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/internal/numfmt"
	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

// ReportOptions choose what a report shows and how.
type ReportOptions struct {
	// Lang is the language of the explanations: "en" (also when empty) or
	// "zh" (Simplified Chinese).
	Lang string
	// Layers and Heads select, by real index (0-based), the layers and heads
	// of the attention model view. Nil or empty means all.
	Layers, Heads []int
	// Focus is the layer and head of the large attention view, the
	// new-token attention and the KV cache contents. Nil means the first
	// selected layer and head.
	Focus *Head
	// Static lists static renderings to embed in every chart cell besides
	// the interactive option: "svg" (for Jupyter notebooks and figures)
	// and/or "png". Nil embeds none (the HTML page draws the options).
	Static []string
	// Commands are the command lines the report shows.
	Commands Commands
}

// Commands are the shell command lines a report shows, as data. The program
// that knows its flags (the gptviz CLI) builds and quotes them; Report shows
// each as given in a shell code cell and never parses or rebuilds it. Each
// must be a single line without control characters (else ErrOptions); an
// empty one is left out.
type Commands struct {
	// Rerun reproduces this report.
	Rerun string
	// Reconstructed says Rerun was rebuilt from a saved trace's settings
	// rather than being the command that made the run; the report says so.
	Reconstructed bool
	// Tokens shows how the prompt is split into tokens.
	Tokens string
}

// NoteTimingsOmitted is the code of the trace.Note a program adds when it
// left a run's wall-clock timings out (all zero) so that its files are
// byte-identical from run to run (gptviz --reproducible). The report then
// says the timings were left out instead of showing zeros. No Args.
const NoteTimingsOmitted = "timings-omitted"

// Head names one attention head by its real layer and head index.
type Head struct{ Layer, Head int }

// ErrOptions is matched (errors.Is) by Report's errors about its options.
var ErrOptions = errors.New("invalid report options")

// OptionError reports a ReportOptions field that cannot work. Option names
// the field in the library's words ("lang", "layers", "heads", "focus",
// "static", "commands"), so that a caller can name its own flag for it;
// Value is the offending value as text. It matches ErrOptions with
// errors.Is; match the type itself with errors.As.
type OptionError struct {
	Option  string
	Value   string
	Problem string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Option, e.Value, e.Problem)
}

// Is reports whether target is ErrOptions.
func (e *OptionError) Is(target error) bool { return target == ErrOptions }

// setRunMeta records in a page's metadata the run it shows: "generator",
// the gptviz version that recorded tr ("gptviz" when unknown), and
// "model", its model's name.
func setRunMeta(meta map[string]string, tr *trace.Trace) {
	meta["generator"] = strings.TrimSpace("gptviz " + tr.Settings.Version)
	meta["model"] = tr.Model.Name
}

// checkLangStatic returns an *OptionError when lang is not "" (English),
// "en" or "zh", or a static figure format is not svg or png: the options
// every page (report, comparison, lesson) takes.
func checkLangStatic(lang string, static []string) error {
	if lang != "" && lang != "en" && lang != "zh" {
		return &OptionError{"lang", strconv.Quote(lang), "want en or zh"}
	}
	for _, f := range static {
		if f != "svg" && f != "png" {
			return &OptionError{"static", strconv.Quote(f), "want svg or png"}
		}
	}
	return nil
}

// checkLine returns an *OptionError for the option name when s, a command
// line shown on the page, is not a single line without control characters.
func checkLine(name, s string) error {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return &OptionError{name, strconv.Quote(s), "want a single line without control characters"}
	}
	return nil
}

// pageLang returns the page language for the option lang: "en" when empty.
func pageLang(lang string) string {
	if lang == "" {
		return "en"
	}
	return lang
}

// check returns an *OptionError for the first option that cannot work with
// a model of cfg's shape.
func (opt ReportOptions) check(cfg arch.Config) error {
	if err := checkLangStatic(opt.Lang, opt.Static); err != nil {
		return err
	}
	for _, l := range opt.Layers {
		if l < 0 || l >= cfg.NLayer {
			return &OptionError{"layers", strconv.Itoa(l), fmt.Sprintf("the model has layers 0..%d", cfg.NLayer-1)}
		}
	}
	for _, h := range opt.Heads {
		if h < 0 || h >= cfg.NHead {
			return &OptionError{"heads", strconv.Itoa(h), fmt.Sprintf("the model has heads 0..%d", cfg.NHead-1)}
		}
	}
	if f := opt.Focus; f != nil && (f.Layer < 0 || f.Layer >= cfg.NLayer || f.Head < 0 || f.Head >= cfg.NHead) {
		return &OptionError{"focus", fmt.Sprintf("%d,%d", f.Layer, f.Head),
			fmt.Sprintf("the model has layers 0..%d and heads 0..%d", cfg.NLayer-1, cfg.NHead-1)}
	}
	for _, c := range []string{opt.Commands.Rerun, opt.Commands.Tokens} {
		if err := checkLine("commands", c); err != nil {
			return err
		}
	}
	return nil
}

// Report builds the notebook of one run (see the package documentation for
// its sections). It returns an *OptionError (matching ErrOptions) for an
// option that cannot work: an unknown language or static format, a layer or
// head outside the model, a command that is not a single line. It returns
// an error for a nil trace or one that fails trace.Trace.Validate, and
// otherwise the first chart error that is not a missing piece of data:
// charts whose data the trace lacks are replaced by a note.
func Report(tr *trace.Trace, opt ReportOptions) (*output.Notebook, error) {
	if tr == nil {
		return nil, errors.New("report: nil trace")
	}
	// The chart code indexes the trace by its recorded shapes: check them
	// first, so a hand-made or damaged trace is an error, never a panic.
	if err := tr.Validate(); err != nil {
		return nil, fmt.Errorf("report: invalid trace: %w", err)
	}
	cfg := tr.Model.Config
	if err := opt.check(cfg); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	lang := pageLang(opt.Lang)
	layers, heads, err := viz.Filter{Layers: opt.Layers, Heads: opt.Heads}.Resolve(cfg.NLayer, cfg.NHead)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	focus := Head{}
	if len(layers) > 0 && len(heads) > 0 {
		focus = Head{layers[0], heads[0]}
	}
	if opt.Focus != nil {
		focus = *opt.Focus
	}
	b := &builder{
		tr: tr, lang: lang, opt: opt, layers: layers, heads: heads, focus: focus,
		nb: &output.Notebook{Title: texts.Get(i18n.ParseLang(lang), "title"), Lang: lang, Meta: map[string]string{}},
	}
	setRunMeta(b.nb.Meta, tr)
	for _, section := range []func() error{
		b.summary, b.tokens, b.promptProbs, b.generation, b.continuation, b.attention, b.kvCache, b.logitLens, b.residual, b.checks,
	} {
		if err := section(); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	return b.nb, nil
}

// builder accumulates the cells of one report.
type builder struct {
	tr            *trace.Trace
	lang          string
	opt           ReportOptions
	layers, heads []int
	focus         Head
	nb            *output.Notebook
}

// t returns the text of key in the report's language, formatted with args.
func (b *builder) t(key string, args ...any) string {
	return texts.Get(i18n.ParseLang(b.lang), key, args...) // TestTexts finds unknown keys
}

// n returns the count c with the noun of key in the report's language:
// the text key+".one" for 1 ("1 token"), key+".other" otherwise ("2
// tokens"); Chinese has no plural, so both read the same there.
func (b *builder) n(c int, key string) string {
	if c == 1 {
		return b.t(key+".one", c)
	}
	return b.t(key+".other", c)
}

// vl is the chart language option.
func (b *builder) vl() viz.Option { return viz.Lang(b.lang) }

func (b *builder) add(c output.Cell)     { b.nb.Cells = append(b.nb.Cells, c) }
func (b *builder) md(s string)           { b.add(output.MarkdownCell(s)) }
func (b *builder) note(s string)         { b.add(output.NoteCell(s)) }
func (b *builder) goCode(s string)       { b.add(output.CodeCell("go", s)) }
func (b *builder) shell(s string)        { b.add(output.CodeCell("shell", s)) }
func (b *builder) table(t *output.Table) { b.add(output.TableCell(t)) }

// chart adds c with the caption of key (formatted with args), its static
// renderings if asked for, and a note for everything it summarised. A
// chart the trace has no data for becomes the note noData (if not empty).
func (b *builder) chart(c *viz.Chart, err error, noData string, key string, args ...any) error {
	if errors.Is(err, viz.ErrNoData) {
		if noData != "" {
			b.note(noData)
		}
		return nil
	}
	if err != nil {
		return err
	}
	oc := &output.Chart{ID: c.ID, Title: b.t(key, args...), Option: c.Option, Height: c.Height}
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
	for _, n := range c.Notes {
		b.note(n)
	}
	return nil
}

// num formats x with d significant digits by the one rule of numfmt.Sig
// (the charts use it too), plainly (no exponent for ordinary sizes).
func num(x float64, d int) string { return numfmt.Sig(x, d) }

// thousands writes n with thousands separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// 1. Run summary.
func (b *builder) summary() error {
	tr, cfg, s := b.tr, b.tr.Model.Config, b.tr.Settings
	b.md(b.t("summary.h") + "\n\n" + b.t("summary.md"))
	temp := num(s.Temperature, 4)
	if s.Temperature == 0 {
		temp = b.t("greedy")
	}
	// The value the rerun command passes, and "off" beside it when it
	// turns the filter off: "0 (off)", "1 (off)".
	topk := strconv.Itoa(s.TopK)
	if s.TopK <= 0 {
		topk = b.t("value.off", topk)
	}
	topp := num(s.TopP, 4)
	if s.TopP <= 0 || s.TopP >= 1 {
		topp = b.t("value.off", topp)
	}
	dhead := "–"
	if cfg.NHead > 0 {
		dhead = strconv.Itoa(cfg.DHead())
	}
	tm := tr.Timings
	rows := [][]string{
		{b.t("f.model"), tr.Model.Name},
	}
	if about := b.about(); about != "" {
		rows = append(rows, []string{b.t("f.about"), about})
	}
	overflow := b.t("overflow.block")
	if tr.OverflowOf() == trace.OverflowSlide {
		overflow = b.t("overflow.slide")
	}
	rows = append(rows, [][]string{
		{b.t("f.nlayer"), strconv.Itoa(cfg.NLayer)},
		{b.t("f.nhead"), strconv.Itoa(cfg.NHead)},
		{b.t("f.nembd"), strconv.Itoa(cfg.NEmbd)},
		{b.t("f.dhead"), dhead},
		{b.t("f.npos"), strconv.Itoa(cfg.NPositions)},
		{b.t("f.vocab"), thousands(int64(cfg.VocabSize))},
		{b.t("f.params"), thousands(int64(tr.Model.NumParams))},
		{b.t("f.prompt"), tr.Prompt},
		// Plain text, so the continuation reads as a sentence; bytes that
		// are not UTF-8 (a character cut between tokens) show as U+FFFD.
		{b.t("f.generated"), plainText(generatedText(tr))},
		{b.t("f.steps"), strconv.Itoa(s.Steps)},
		{b.t("f.temp"), temp},
		{b.t("f.topk"), topk},
		{b.t("f.topp"), topp},
		{b.t("f.seed"), strconv.FormatUint(s.Seed, 10)},
		{b.t("f.overflow"), overflow},
		{b.t("f.version"), s.Version},
	}...)
	omitted := slices.ContainsFunc(tr.Notes, func(n trace.Note) bool { return n.Code == NoteTimingsOmitted })
	if omitted {
		rows = append(rows, []string{b.t("f.timings"), b.t("timings.omitted")})
	} else {
		rows = append(rows, []string{b.t("f.timings"), fmt.Sprintf("%s / %s / %s ms", num(tm.LoadMillis, 4), num(tm.PrefillMillis, 4), num(tm.DecodeMillis, 4))})
	}
	if tm.TokensPerSec > 0 && !omitted {
		rows = append(rows, []string{b.t("f.speed"), b.t("tokps", num(tm.TokensPerSec, 3))})
	}
	b.table(&output.Table{Caption: b.t("summary.caption"), Header: []string{b.t("field"), b.t("value")}, Rows: rows})
	if c := b.opt.Commands; c.Rerun != "" {
		head := b.t("summary.rerun")
		if c.Reconstructed {
			head += "\n" + b.t("summary.rebuilt")
		}
		b.shell(head + "\n" + c.Rerun)
	}
	if len(tr.Notes) > 0 {
		b.md(b.t("notes.h"))
		for _, n := range tr.Notes {
			b.note(b.traceNote(n))
		}
	}
	return nil
}

// plainText is s with each run of bytes that are not UTF-8 shown as one
// U+FFFD. A trace read back from JSON holds a U+FFFD for each such byte
// (JSON carries no invalid UTF-8), so runs of U+FFFD are one too: the
// report and its render from the saved trace then say the same.
func plainText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for strings.Contains(s, "\uFFFD\uFFFD") {
		s = strings.ReplaceAll(s, "\uFFFD\uFFFD", "\uFFFD")
	}
	return s
}

// 2. Tokens entering working memory.
func (b *builder) tokens() error {
	tr := b.tr
	evictedAt := map[int]int{}
	for _, e := range tr.Evictions {
		evictedAt[e.Position] = e.Step
	}
	nPrompt := 0
	for _, t := range tr.Tokens {
		if t.Prompt {
			nPrompt++
		}
	}
	used := len(tr.Tokens) - len(tr.Evictions)
	b.md(b.t("tokens.h") + "\n\n" + b.t("tokens.md", b.n(nPrompt, "n.token"), len(tr.Tokens)-nPrompt, b.n(tr.Model.Config.NPositions, "n.position"), used, thousands(int64(tr.Model.Config.VocabSize))))
	if len(tr.Evictions) > 0 {
		b.md(b.t("tokens.full", b.n(len(tr.Evictions), "n.token"), b.n(used, "n.token")))
	}
	if c := b.opt.Commands.Tokens; c != "" {
		b.shell(c)
	}
	chips := &output.Chips{Caption: b.t("tokens.caption", b.n(used, "n.token"), b.n(tr.Model.Config.NPositions, "n.position"))}
	for i, t := range tr.Tokens {
		kind, group := b.t("tokens.prompt"), 1
		if !t.Prompt {
			kind, group = b.t("tokens.gen"), 2
		}
		if st, ok := evictedAt[i]; ok {
			kind, group = kind+" · "+b.t("tokens.evicted", st), 0
		}
		label := t.Display
		if label == "" {
			label = t.Text
		}
		chips.Items = append(chips.Items, output.Chip{Label: label, Title: b.t("tokens.chip", t.ID, i, kind), Group: group})
	}
	b.add(output.ChipsCell(chips))
	return nil
}

// topGuesses lists candidates as "token 0.123 · …", at most n.
func topGuesses(cs []trace.Candidate, n int) string {
	var parts []string
	for i, c := range cs {
		if i == n {
			break
		}
		d := c.Display
		if d == "" {
			d = c.Text
		}
		parts = append(parts, d+" "+num(c.Prob, 3))
	}
	// Not ", ": a comma token would blur into it ("- 0.0775, , 0.0644").
	return strings.Join(parts, " · ")
}

// 3. P(w_i | w_<i) over the prompt.
func (b *builder) promptProbs() error {
	tr := b.tr
	b.md(b.t("probs.h") + "\n\n" + b.t("probs.md"))
	b.goCode("// " + b.t("c.scores") + "\nchart, err := viz.PromptProbs(tr)\nppl, ok := findings.PromptPerplexity(tr)")
	if ood := b.oodText(); ood != "" {
		b.md(ood)
	}
	if p, ok := findings.PromptPerplexity(tr); ok {
		b.md(b.pplText(p))
	} else if len(tr.Scores) > 0 {
		b.md(b.t("probs.none"))
	}
	if s := b.surpriseText(); s != "" {
		b.md(s)
	}
	c, err := viz.PromptProbs(tr, b.vl())
	if err := b.chart(c, err, "", "cap.prompt-probs"); err != nil {
		return err
	}
	if len(tr.Scores) == 0 {
		return nil
	}
	t := &output.Table{
		Caption: b.t("probs.caption"),
		Header:  []string{b.t("col.position"), b.t("col.token"), b.t("col.context"), b.t("col.prob"), b.t("col.surprisal"), b.t("col.top")},
		Align:   []string{"right", "left", "right", "right", "right", "left"},
	}
	for i, s := range tr.Scores {
		tok := ""
		if s.Position >= 0 && s.Position < len(tr.Tokens) {
			tok = tr.Tokens[s.Position].Display
		}
		p, bits := num(s.Prob, 3), num(s.Surprisal, 3)
		if s.NoContext {
			p, bits = b.t("probs.nocontext"), "–"
		}
		t.Rows = append(t.Rows, []string{strconv.Itoa(s.Position), tok, strconv.Itoa(tr.ScoreContext(i)), p, bits, topGuesses(s.Top, 5)})
	}
	if len(t.Rows) <= maxTableRows {
		b.table(t)
		return nil
	}
	// A long prompt: the most surprising tokens first, the whole table
	// folded below them, so that the page stays short enough to scroll.
	order := make([]int, 0, len(tr.Scores))
	for i, s := range tr.Scores {
		if !s.NoContext {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(tr.Scores[j].Surprisal, tr.Scores[i].Surprisal) })
	top := &output.Table{Caption: b.t("probs.top", min(topSurprising, len(order)), len(t.Rows)), Header: t.Header, Align: t.Align}
	for _, i := range order[:min(topSurprising, len(order))] {
		top.Rows = append(top.Rows, t.Rows[i])
	}
	b.table(top)
	t.Caption, t.Folded = b.t("probs.all", len(t.Rows)), true
	b.table(t)
	return nil
}

// maxTableRows is the most rows the token-by-token table shows open; a
// longer one is folded below its topSurprising most surprising rows.
const (
	maxTableRows  = 64
	topSurprising = 20
)

// 4. Step-by-step generation.
// continuation reports a given continuation scored under teacher forcing
// (report --continuation): log2 P(continuation | prompt) in bits, its bits
// per token beside the mean surprisal of the tokens the model generated
// itself (at T = 1), and each token's P. Absent when none was given.
func (b *builder) continuation() error {
	c := b.tr.Continuation
	if c == nil {
		return nil
	}
	b.md(b.t("cont.h") + "\n\n" + b.t("cont.md", c.Text, num(c.Log2Prob, 4), b.n(len(c.Tokens), "n.token"), num(c.BitsPerToken, 3)))
	var bits float64
	n := 0
	for _, st := range b.tr.Steps {
		if p := st.Next; p != nil && p.Chosen.Prob > 0 {
			bits -= math.Log2(p.Chosen.Prob)
			n++
		}
	}
	if n > 0 {
		b.md(b.t("cont.gen", b.n(n, "n.token"), num(bits/float64(n), 3), num(c.BitsPerToken, 3)))
	}
	t := &output.Table{
		Caption: b.t("cont.caption"),
		Header:  []string{b.t("col.position"), b.t("col.token"), b.t("col.prob"), b.t("col.surprisal")},
		Align:   []string{"right", "left", "right", "right"},
	}
	for i, tok := range c.Tokens {
		if i >= len(c.Scores) {
			break
		}
		d := tok.Display
		if d == "" {
			d = tok.Text
		}
		s := c.Scores[i]
		t.Rows = append(t.Rows, []string{strconv.Itoa(s.Position), d, num(s.Prob, 3), num(s.Surprisal, 3)})
	}
	b.table(t)
	return nil
}

func (b *builder) generation() error {
	tr := b.tr
	b.md(b.t("gen.h") + "\n\n" + b.t("gen.md"))
	b.goCode("chart, err := viz.NextToken(tr)       // " + b.t("c.slider") + "\nlines, err := viz.GenerationLines(tr) // " + b.t("c.lines"))
	c, err := viz.NextToken(tr, b.vl())
	if errors.Is(err, viz.ErrNoData) {
		b.note(b.t("gen.none"))
		return nil
	}
	if err := b.chart(c, err, "", "cap.next-token"); err != nil {
		return err
	}
	b.md(b.t("gen.lines"))
	c, err = viz.GenerationLines(tr, b.vl())
	if err := b.chart(c, err, "", "cap.next-entropy"); err != nil {
		return err
	}
	if s := b.flatText(); s != "" {
		b.md(s)
	}
	t := &output.Table{
		Caption: b.t("gen.caption"),
		Header:  []string{b.t("col.step"), b.t("col.position"), b.t("col.chosen"), b.t("col.pchosen"), b.t("col.entropy"), b.t("col.how"), b.t("col.top")},
		Align:   []string{"right", "right", "left", "right", "right", "left", "left"},
	}
	// Where temperature or a filter changed what the sampler drew from,
	// the chosen token's probability there too, beside the raw one.
	// (At temperature 1 without filters the two agree up to rounding.)
	filtered := slices.ContainsFunc(tr.Steps, func(st trace.Step) bool {
		if st.Next == nil || st.Next.Greedy {
			return false
		}
		c := st.Next.Chosen
		return math.Abs(c.SampleProb-c.Prob) > 1e-6*math.Max(c.Prob, c.SampleProb)
	})
	if filtered {
		t.Header = slices.Insert(t.Header, 4, b.t("col.psampled"))
		t.Align = slices.Insert(t.Align, 4, "right")
	}
	for _, st := range tr.Steps {
		p := st.Next
		if p == nil {
			continue
		}
		how := b.t("how.sampled")
		if p.Greedy {
			how = b.t("how.greedy")
		}
		d := p.Chosen.Display
		if d == "" {
			d = p.Chosen.Text
		}
		row := []string{strconv.Itoa(st.Index), strconv.Itoa(p.Position + 1), d, num(p.Chosen.Prob, 3), num(p.Entropy, 3), how, topGuesses(p.Top, 5)}
		if filtered {
			sampled := "–" // greedy: argmax, no distribution drawn from
			if !p.Greedy {
				sampled = num(p.Chosen.SampleProb, 3)
			}
			row = slices.Insert(row, 4, sampled)
		}
		t.Rows = append(t.Rows, row)
	}
	b.table(t)
	// The sampling playground: the recorded steps under other settings.
	cells, err := Playground(tr, PlaygroundOptions{Lang: b.lang})
	if err != nil {
		return err
	}
	for _, c := range cells {
		b.add(c)
	}
	return nil
}

// headsText names the selected heads for a caption.
func (b *builder) headsText() string {
	hs := b.heads
	if len(hs) == 1 {
		return b.t("heads.one", hs[0])
	}
	if hs[len(hs)-1]-hs[0] == len(hs)-1 {
		return b.t("heads.all", hs[0], hs[len(hs)-1])
	}
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = strconv.Itoa(h)
	}
	return b.t("heads.some", strings.Join(s, ", "))
}

func intList(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return "[]int{" + strings.Join(s, ", ") + "}"
}

// 5. Attention.
func (b *builder) attention() error {
	tr, f := b.tr, b.focus
	intro := b.t("attn.h") + "\n\n" + b.t("attn.md")
	if n := tr.Model.Config.NHead; n > 1 {
		intro += " " + b.t("attn.heads", n)
	}
	b.md(intro)
	filter := "viz.Filter{}"
	if len(b.opt.Layers) > 0 || len(b.opt.Heads) > 0 {
		filter = fmt.Sprintf("viz.Filter{Layers: %s, Heads: %s}", intList(b.layers), intList(b.heads))
	}
	b.goCode(fmt.Sprintf("big, err := viz.AttentionHead(tr, %d, %d) // %s\ngrid, err := viz.AttentionGrid(tr, %s) // %s\nnewTok, err := viz.NewTokenAttention(tr, %d, %d)",
		f.Layer, f.Head, b.t("c.layerhead", f.Layer, f.Head), filter, b.t("c.perlayer"), f.Layer, f.Head))
	c, err := viz.AttentionHead(tr, f.Layer, f.Head, b.vl())
	if errors.Is(err, viz.ErrNoData) {
		b.note(b.t("attn.none"))
		return nil
	}
	b.md(b.t("attn.focus", f.Layer, f.Head))
	if err := b.chart(c, err, "", "cap.attn", f.Layer, f.Head); err != nil {
		return err
	}
	grid, err := viz.AttentionGrid(tr, viz.Filter{Layers: b.layers, Heads: b.heads}, b.vl())
	if err != nil && !errors.Is(err, viz.ErrNoData) {
		return err
	}
	stats := findings.Heads(tr)
	if len(grid) > 0 {
		b.md(strings.TrimSpace(b.t("attn.grid") + "\n\n" + b.headRolesText(stats)))
		for i, g := range grid {
			l, _ := strconv.Atoi(strings.TrimPrefix(g.ID, "attn-grid-l"))
			if i > 0 {
				g.Notes = nil // the same note for every layer: say it once
			}
			if err := b.chart(g, nil, "", "cap.attn-grid", l, b.headsText()); err != nil {
				return err
			}
		}
	}
	if d := b.distanceText(stats); d != "" {
		b.md(d)
		b.table(b.headTable(stats))
	}
	c, err = viz.NewTokenAttention(tr, f.Layer, f.Head, b.vl())
	if errors.Is(err, viz.ErrNoData) {
		return nil
	}
	b.md(b.t("attn.new", f.Layer, f.Head) + b.recomputeText())
	return b.chart(c, err, "", "cap.attn-new", f.Layer, f.Head)
}

// 6. The KV cache.
func (b *builder) kvCache() error {
	tr, f, cfg := b.tr, b.focus, b.tr.Model.Config
	positions := 0
	if n := len(tr.Steps); n > 0 {
		for _, p := range tr.Steps[n-1].KV.Positions {
			positions = max(positions, p)
		}
	}
	b.md(b.t("kv.h") + "\n\n" + b.t("kv.md", viz.KVFormulaFor(cfg, positions, b.vl()), cfg.NLayer, positions) + " " + b.kvWindowText())
	b.goCode(fmt.Sprintf("size, err := viz.KVSize(tr) // %s\nbytes := tr.Model.Config.KVBytes(%d) // 2 × n_layer × positions × n_embd × 4\ncache, err := viz.KVHeatmap(tr, %d, %d) // %s",
		b.t("c.kvsize"), positions, f.Layer, f.Head, b.t("c.kvcache", f.Layer, f.Head)))
	c, err := viz.KVSize(tr, b.vl())
	if err := b.chart(c, err, "", "cap.kv-bytes"); err != nil {
		return err
	}
	if d := tr.Checks.CacheVsRecompute; d >= 0 {
		b.md(b.cacheCheckText(d))
	} else {
		b.note(b.t("kv.nocheck"))
	}
	if len(tr.Evictions) > 0 {
		b.md(b.t("kv.evict", b.n(len(tr.Evictions), "n.token"), cfg.NPositions))
		t := &output.Table{Caption: b.t("kv.caption"), Header: []string{b.t("col.step"), b.t("col.position"), b.t("col.token")}, Align: []string{"right", "right", "left"}}
		for _, e := range tr.Evictions {
			tok := ""
			if e.Position >= 0 && e.Position < len(tr.Tokens) {
				tok = tr.Tokens[e.Position].Display
			}
			t.Rows = append(t.Rows, []string{strconv.Itoa(e.Step), strconv.Itoa(e.Position), tok})
		}
		t.Folded = len(t.Rows) > foldEvictions
		b.table(t)
	}
	if err := b.kvOverTime(); err != nil {
		return err
	}
	var recorded []string
	for _, kv := range tr.Cache {
		recorded = append(recorded, strconv.Itoa(kv.Layer))
	}
	c, err = viz.KVHeatmap(tr, f.Layer, f.Head, b.vl())
	if errors.Is(err, viz.ErrNoData) {
		if len(recorded) > 0 {
			b.note(b.t("kv.notrec", strings.Join(recorded, ", ")))
			// Show the nearest recorded layer instead.
			l := tr.Cache[0].Layer
			for _, kv := range tr.Cache {
				if abs(kv.Layer-f.Layer) < abs(l-f.Layer) {
					l = kv.Layer
				}
			}
			c, err = viz.KVHeatmap(tr, l, f.Head, b.vl())
			b.md(b.t("kv.heat", l, f.Head))
			return b.chart(c, err, "", "cap.kv", l, f.Head)
		}
		return nil
	}
	b.md(b.t("kv.heat", f.Layer, f.Head))
	return b.chart(c, err, "", "cap.kv", f.Layer, f.Head)
}

// kvOverTime adds the cache size of every layer and the focus head's
// cache after each step, with sentences computed from the run: what the
// cache held at the end, how many tokens left it, which steps recomputed
// the window.
// foldEvictions is the number of evicted tokens above which their table is
// folded: after a long run the list runs to hundreds of rows.
const foldEvictions = 16

func (b *builder) kvOverTime() error {
	tr := b.tr
	b.goCode(fmt.Sprintf("layers, err := viz.KVLayerSizes(tr) // %s\nover, err := viz.KVOverTime(tr) // %s", b.t("c.kvlayers"), b.t("c.kvtime")))
	same := true
	for _, st := range tr.Steps {
		for _, p := range st.KV.Positions {
			same = same && p == st.KV.Positions[0]
		}
	}
	sizes := b.t("kv.layers", tr.Model.Config.NLayer)
	if same {
		sizes += " " + b.t("kv.layers.same")
	}
	c, err := viz.KVLayerSizes(tr, b.vl())
	if err == nil {
		b.md(sizes)
	}
	if err := b.chart(c, err, "", "cap.kv-layers"); err != nil {
		return err
	}
	c, err = viz.KVOverTime(tr, b.vl())
	if errors.Is(err, viz.ErrNoData) {
		b.note(b.t("kv.time.none"))
		return nil
	}
	if err != nil {
		return err
	}
	w := tr.Steps[0].KVWrite
	b.md(b.kvTimeText())
	return b.chart(c, nil, "", "cap.kv-time", w.Layer, w.Head)
}

// kvTimeText is the paragraph beside the KV-over-time chart: only the
// sentences whose facts hold for this run.
func (b *builder) kvTimeText() string {
	tr := b.tr
	w := tr.Steps[0].KVWrite
	last := tr.Steps[len(tr.Steps)-1]
	end := last.QueryStart + last.NQuery
	parts := []string{b.t("kv.time.md", w.Layer, w.Head)}
	parts = append(parts, b.t("kv.time.end", b.n(end-last.WindowStart, "n.position"), last.WindowStart, end-1))
	switch n := len(tr.Evictions); {
	case n == 1:
		parts = append(parts, b.t("kv.time.evicted1", tr.Evictions[0].Position))
	case n > 1:
		parts = append(parts, b.t("kv.time.evicted", n, tr.Evictions[0].Position, tr.Evictions[n-1].Position))
	}
	var recomputed []int
	for _, st := range tr.Steps {
		if st.Kind == trace.Recompute {
			recomputed = append(recomputed, st.Index)
		}
	}
	switch n := len(recomputed); {
	case n == 1:
		parts = append(parts, b.t("kv.time.recompute1", recomputed[0]))
	case n > 1:
		parts = append(parts, b.t("kv.time.recompute", n, recomputed[0], recomputed[n-1]))
	}
	if n := len(recomputed); n > 0 {
		parts = append(parts, b.t("kv.time.why"))
	}
	return strings.Join(parts, " ")
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// lensColumns is how many of the last positions the logit lens table shows.
const lensColumns = 8

// 7. Logit lens.
func (b *builder) logitLens() error {
	tr := b.tr
	b.md(b.t("lens.h") + "\n\n" + b.t("lens.md"))
	b.goCode("chart, err := viz.LogitLens(tr) // " + b.t("c.lens"))
	c, err := viz.LogitLens(tr, b.vl())
	if errors.Is(err, viz.ErrNoData) {
		return nil
	}
	if err := b.chart(c, err, "", "cap.logit-lens"); err != nil {
		return err
	}
	if s := b.lensText(); s != "" {
		b.md(s)
	}
	if s := b.lensCostText(); s != "" {
		b.md(s)
	}
	// Table: layers × the last few positions, "token (p)".
	type cell struct {
		pos int
		e   trace.LensEntry
	}
	byLayer := map[int][]cell{}
	nLayer := 0
	for _, st := range tr.Steps {
		for l, row := range st.LogitLens {
			nLayer = max(nLayer, l+1)
			for q, e := range row {
				byLayer[l] = append(byLayer[l], cell{st.QueryStart + st.LensStart + q, e})
			}
		}
	}
	var positions []int
	for _, c := range byLayer[0] {
		positions = append(positions, c.pos)
	}
	slices.Sort(positions)
	positions = slices.Compact(positions)
	if len(positions) > lensColumns {
		positions = positions[len(positions)-lensColumns:]
	}
	header := []string{b.t("col.layer")}
	align := []string{"right"}
	for _, p := range positions {
		tok := ""
		if p >= 0 && p < len(tr.Tokens) {
			tok = " " + tr.Tokens[p].Display
		}
		header = append(header, strconv.Itoa(p)+tok)
		align = append(align, "left")
	}
	t := &output.Table{Caption: b.t("lens.caption", b.n(len(positions), "n.position")), Header: header, Align: align}
	for l := nLayer - 1; l >= 0; l-- {
		row := []string{strconv.Itoa(l)}
		at := map[int]trace.LensEntry{}
		for _, c := range byLayer[l] {
			at[c.pos] = c.e
		}
		for _, p := range positions {
			e, ok := at[p]
			if !ok {
				row = append(row, "")
				continue
			}
			row = append(row, fmt.Sprintf("%s (%s)", e.Display, num(e.Prob, 2)))
		}
		t.Rows = append(t.Rows, row)
	}
	b.table(t)
	return nil
}

// 8. Residual stream.
func (b *builder) residual() error {
	b.md(strings.TrimSpace(b.t("resid.h") + "\n\n" + b.t("resid.md") + " " + b.residText()))
	b.goCode("chart, err := viz.ResidualNorm(tr) // " + b.t("c.resid"))
	c, err := viz.ResidualNorm(b.tr, b.vl())
	return b.chart(c, err, "", "cap.residual-norm")
}

// 9. Sanity checks.
func (b *builder) checks() error {
	cs := findings.Checks(b.tr)
	b.md(b.t("checks.h") + "\n\n" + b.t("checks.md") + " " + b.checksText(cs))
	b.goCode("checks := findings.Checks(tr) // " + b.t("c.checks"))
	res := func(ok bool) string {
		if ok {
			return b.t("pass")
		}
		return b.t("fail")
	}
	t := &output.Table{
		Header: []string{b.t("col.check"), b.t("col.measured"), b.t("col.expected"), b.t("col.result")},
		Align:  []string{"left", "right", "left", "left"},
	}
	for _, c := range cs {
		measured, expected, result := num(c.Value, 3), "≤ "+num(c.Limit, 1), res(c.Pass)
		switch c.Name {
		case findings.CheckCausal:
			expected = "0"
		case findings.CheckGreedy:
			measured, expected = b.t("no"), b.t("yes")
			if c.Pass {
				measured = b.t("yes")
			}
		}
		if !c.Measured {
			measured, result = b.t("notmeasured"), "–"
		}
		t.Rows = append(t.Rows, []string{b.t(checkKey(c.Name)), measured, expected, result})
	}
	b.table(t)
	return nil
}

// traceNote says a Trace's note in the report's language: by its code when
// the code is known and its arguments fit, else its English text.
func (b *builder) traceNote(n trace.Note) string {
	key := "tracenote." + n.Code
	tx, ok := texts[key]
	switch {
	case !ok:
		return n.Text
	case n.Code == trace.NoteEvicted && len(n.Args) == 2:
		return b.t(key, b.n(n.Args[0], "n.token"), b.n(n.Args[1], "n.position"))
	case n.Code == trace.NoteEvictedBlock && len(n.Args) == 5:
		a := n.Args // evicted, n_positions, blocks, block size, positions
		return b.t(key, a[0], a[1], b.n(a[2], "n.block"), a[3], a[4])
	case n.Code == trace.NotePromptWindows && len(n.Args) == 4:
		a := n.Args // tokens, n_positions, windows, stride
		return b.t(key, a[0], a[1], a[2], a[3], a[1]-a[3], a[0]-a[1])
	case n.Code == trace.NoteKVLayers:
		layers := make([]string, len(n.Args))
		for i, l := range n.Args {
			layers[i] = strconv.Itoa(l)
		}
		return b.t(key, strings.Join(layers, ", "))
	case len(n.Args) != tx.Args():
		return n.Text
	}
	args := make([]any, len(n.Args))
	for i, a := range n.Args {
		args[i] = a
	}
	return b.t(key, args...)
}

// about describes a model the lessons know by name (the embedded default
// model, GPT-2) in the report's language; "" for any other.
func (b *builder) about() string {
	if tx, ok := texts["about."+b.tr.Model.Name]; ok {
		return tx.In(i18n.ParseLang(b.lang))
	}
	return ""
}
