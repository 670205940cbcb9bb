package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/trace"
)

const compareUsage = `Usage: gptviz compare [flags] PROMPT

Compares sampling settings on the same prompt and seeds. The prompt is
prefilled once; every setting (--sample, repeatable) then continues it with
every seed (--seeds), each run from its own copy of the prompt's KV cache,
so the runs differ only by their settings and seeds. Each run is the run
'gptviz report' makes with the same setting and seed.

Writes a self-contained HTML page (-o, default compare.html; it opens
offline): per setting the generated text, each token shaded by its
probability with the top alternatives on hover; each setting's next-token
distribution at one step, filter by filter, under one step slider; entropy
and the chosen token's probability over the steps; the summary numbers
with their spread across the seeds; and the first step where two settings
with the same seed part. --format ipynb writes a Jupyter notebook,
--format json the comparison itself (every run's trace, the settings and
seeds, the summary numbers and the command), which 'gptviz render'
re-renders into the same page. The page shows the command that reruns
it; rerunning it writes a byte-identical file.

Prints a summary table: per setting and seed the mean log-probability
(log-prob, nats per token) and perplexity of the generated text under the
model at temperature 1, distinct-1 and distinct-2 (distinct unigrams and
bigrams of tokens over all of them), the repetition rate (the share of
4-grams that repeat an earlier one), the first step at which the tokens
differ from the first setting's with the same seed (diverges), and the
generated text.

A sampling SPEC is "greedy", or key=value items separated by commas with
keys temperature, top-k and top-p; a key left out is off (temperature 1,
top-k 0, top-p 1). The filters apply in the order temperature → top-k →
top-p. Without --sample, five settings are compared: greedy,
temperature=0.7, temperature=1, temperature=1,top-k=40 and
temperature=1,top-p=0.9.

Examples:
  gptviz compare "The light"
  gptviz compare --steps 40 --seeds 1,2,3 --sample greedy --sample "temperature=0.7,top-k=40" --sample top-p=0.9 "The light"
  gptviz compare --lang zh -o fox.html "The quick brown fox"
  gptviz compare --format json -o fox.json "The quick brown fox" && gptviz render fox.json

Flags:
`

// defaultSpecs are the settings compare compares when no --sample is given.
var defaultSpecs = []string{"greedy", "temperature=0.7", "temperature=1", "temperature=1,top-k=40", "temperature=1,top-p=0.9"}

// maxSettings is the most --sample settings one comparison takes.
const maxSettings = 16

// compareFlags are compare's own flags.
type compareFlags struct {
	steps   int
	seeds   string
	sample  []string
	format  string
	out     string
	lang    string
	figures string
	open    bool
}

// validate checks --format, --lang, --out and --figures before any work,
// filling in --out's default (compare.FORMAT).
func (f *compareFlags) validate() error {
	switch f.format {
	case "html", "ipynb", "json":
	default:
		return usagef("--format %q: want html, ipynb or json", f.format)
	}
	if f.lang != "en" && f.lang != "zh" {
		return usagef("--lang %q: want en or zh", f.lang)
	}
	if f.out == "" {
		f.out = "compare." + f.format
	}
	if err := checkOutPath("--out", f.out); err != nil {
		return err
	}
	if f.figures != "" {
		if f.format == "json" {
			return usagef("--figures %s: a --format json comparison has no charts (render it)", f.figures)
		}
		if fi, err := os.Stat(f.figures); err == nil && !fi.IsDir() {
			return usagef("--figures %s: is a file, not a folder", f.figures)
		}
		if err := checkFiguresNotOut(f.figures, f.out); err != nil {
			return err
		}
	}
	return nil
}

// settings parses --sample (or the default set) into validated settings
// and their canonical specs, refusing a malformed spec, a setting given
// twice (in any spelling) and more than maxSettings.
func (f *compareFlags) settings() ([]model.SamplingParams, []string, error) {
	given := f.sample
	if len(given) == 0 {
		given = defaultSpecs
	}
	if len(given) > maxSettings {
		return nil, nil, usagef("--sample: %d settings, at most %d", len(given), maxSettings)
	}
	var ps []model.SamplingParams
	var specs []string
	for _, spec := range given {
		p, err := model.ParseSampling(spec)
		var se *model.SpecError
		if errors.As(err, &se) {
			return nil, nil, usagef("--sample %s: %s", model.QuoteSpec(spec), se.Reason())
		}
		if err != nil {
			return nil, nil, usagef("--sample %s: %v", model.QuoteSpec(spec), err)
		}
		for j, q := range ps {
			if q == p {
				return nil, nil, usagef("--sample %q: the same setting as --sample %q", spec, given[j])
			}
		}
		ps = append(ps, p)
		specs = append(specs, model.FormatSampling(p))
	}
	return ps, specs, nil
}

// parseSeeds parses --seeds.
func (f *compareFlags) parseSeeds() ([]uint64, error) {
	seeds, err := model.ParseSeeds(f.seeds)
	var se *model.SpecError
	if errors.As(err, &se) {
		return nil, usagef("--seeds %s: %s", model.QuoteSpec(f.seeds), se.Reason())
	}
	return seeds, err
}

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	var mf modelFlags
	var cf compareFlags
	mf.register(fs)
	mf.registerDownload(fs)
	fs.IntVarP(&cf.steps, "steps", "n", 20, "number of tokens each run generates")
	fs.StringVar(&cf.seeds, "seeds", "1,2,3", "seeds, comma-separated; every setting runs with each")
	fs.StringArrayVar(&cf.sample, "sample", nil, `a sampling setting: "greedy" or key=value items such as temperature=0.7,top-k=40 (repeatable; default five settings, see above)`)
	fs.StringVar(&cf.format, "format", "html", "html (self-contained page), ipynb (Jupyter notebook) or json (the comparison: every run's trace, the settings, seeds and summary numbers); without it, an --out ending in .ipynb, .json or .html chooses")
	fs.StringVarP(&cf.out, "out", "o", "", "output file (default compare.html, compare.ipynb or compare.json by --format); replaced only once the new file is complete")
	fs.StringVar(&cf.lang, "lang", "en", "language of the explanations: en or zh")
	fs.StringVar(&cf.figures, "figures", "", "also write every chart as SVG and PNG into this folder")
	fs.BoolVar(&cf.open, "open", false, "open the page in the default browser")
	if err := parseFlags(fs, args, compareUsage, stdout); err != nil {
		return err
	}
	if err := formatFromOut(fs, &cf.format, cf.out, "html", "ipynb", "json"); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("compare: want exactly one PROMPT argument, got %d", fs.NArg())
	}
	prompt := fs.Arg(0)
	if err := model.CheckPrompt(prompt); err != nil {
		return &usageError{msg: err.Error()}
	}
	if cf.steps < 0 {
		return usagef("--steps %d: must be ≥ 0", cf.steps)
	}
	settings, specs, err := cf.settings()
	if err != nil {
		return err
	}
	seeds, err := cf.parseSeeds()
	if err != nil {
		return err
	}
	if fs.Changed("out") && cf.out == "" {
		return usagef("--out: empty file name")
	}
	if err := cf.validate(); err != nil {
		return err
	}
	mf.run = model.RunSize{PromptTokens: len(prompt) + 1, Steps: cf.steps, Runs: len(settings) * len(seeds), Output: model.OutputJSON,
		Trace: model.TraceOptions{NoAttention: true, NoLogitLens: true, KVLayers: []int{}}}
	m, _, err := mf.load(ctx, stderr)
	if err != nil {
		return err
	}
	r := rerun{model: mf.name, revision: mf.revision, prompt: prompt, steps: cf.steps}
	runs, err := model.Compare(ctx, m, model.CompareOptions{
		Prompt: prompt, Steps: cf.steps, Settings: settings, Seeds: seeds,
		// A comparison is about the next-token distributions: attention,
		// the logit lens and the cache contents would be the same 15 times.
		Trace:   model.TraceOptions{NoAttention: true, NoLogitLens: true, KVLayers: []int{}},
		Version: version, Progress: progress(stderr, "compare"),
	})
	if err != nil {
		return flagError(err)
	}
	for i, row := range runs {
		for j, tr := range row {
			one := r
			one.sampling, one.seed = settings[i], seeds[j]
			tr.Settings.Command = one.command("report")
			tr.ClearTimings() // so that a rerun writes the same bytes
		}
	}
	shown := r
	shown.lang, shown.format = cf.lang, cf.format
	c, err := trace.NewComparison(shellLine(shown.compareArgs(specs, seeds)), specs, runs)
	if err != nil {
		return err
	}
	in := mf.inputs()
	if err := cf.write(ctx, c, false, in, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "comparison written to %s\n", cf.out)
	return writeSummary(stdout, c, m)
}

// write writes c as --format into --out (atomically), and the figures
// into --figures; no file written may replace one of in. reconstructed
// says c's command was rebuilt from a saved comparison.
func (f *compareFlags) write(ctx context.Context, c *trace.Comparison, reconstructed bool, in inputs, stderr io.Writer) error {
	if err := in.check("--out", f.out); err != nil {
		return err
	}
	if f.format == "json" {
		return writeJSONFile(ctx, "--out", f.out, c)
	}
	opt := lessons.CompareOptions{Lang: f.lang, Rerun: c.Command, Reconstructed: reconstructed, Static: staticFormats(f.format, f.figures)}
	nb, err := lessons.Compare(c, opt)
	if err != nil {
		return flagError(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := writeWithFigures(ctx, nb, f.format, f.out, f.figures, in, stderr); err != nil {
		return err
	}
	if f.open {
		if err := openBrowser(f.out); err != nil {
			fmt.Fprintf(stderr, "gptviz: --open: %v (the page is at %s)\n", err, f.out)
		}
	}
	return nil
}

// writeSummary prints the comparison's summary table: one row per setting
// and seed, then two lines saying what log-prob and diverges count. The
// generated text is Go-quoted, so control characters and invalid UTF-8
// show as escapes.
func writeSummary(w io.Writer, c *trace.Comparison, m *model.Model) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "setting\tseed\tlog-prob\tperplexity\tdistinct-1\tdistinct-2\trepetition\tdiverges\ttext")
	for i, row := range c.Runs {
		for j, tr := range row {
			s := c.Summaries[i][j]
			div := "-"
			switch {
			case i > 0 && c.Diverges[i][j] == 0:
				div = "never"
			case i > 0:
				div = strconv.Itoa(c.Diverges[i][j])
			}
			var ids []int
			for _, t := range tr.Tokens[tr.PromptLen:] {
				ids = append(ids, t.ID)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\n",
				c.Settings[i].Spec, c.Seeds[j], s.MeanLogProb, s.Perplexity, s.Distinct1, s.Distinct2, s.Repetition, div,
				strconv.Quote(string(m.Tokenizer.Decode(ids))))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "log-prob: mean ln P per generated token under the model at T = 1, nats; perplexity = e^(-log-prob)\n"+
		"diverges: the first step (from 1) whose token differs from %s's with the same seed; never: none does\n", c.Settings[0].Spec)
	return err
}

// isComparison reports whether the JSON file at path holds a comparison
// (gptviz compare --format json) rather than a trace: whether its top-level
// object has a key only a comparison has (runs, seeds, summaries,
// diverges, command, steps) before one only a trace has. It reads tokens
// as they come, stopping at the first telling key; anything it cannot read
// is left to the trace reader, which says what is wrong.
func isComparison(path string) bool {
	f, fi, err := inputfile.Open(path, trace.MaxBytes)
	if err != nil {
		return false
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(io.LimitReader(f, fi.Size())))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		switch key, _ := t.(string); key {
		case "runs", "seeds", "summaries", "diverges", "command", "steps":
			return true
		case "version", "prompt", "settings":
		default:
			return false
		}
		if err := skipJSONValue(dec); err != nil {
			return false
		}
	}
	return false
}

// skipJSONValue reads one value from dec, token by token.
func skipJSONValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// renderComparison re-renders a saved comparison (render's flags in rf,
// already validated) into the page compare writes: the settings' specs and
// the command are rebuilt from the comparison's checked values (never
// taken from the file, which could hold anything there), exactly as
// compare builds them, so the page is byte-identical to the one compare
// writes with the same --lang and --format.
func renderComparison(ctx context.Context, in string, rf *reportFlags, inputs inputs, stdout, stderr io.Writer) error {
	if len(rf.layers) > 0 || len(rf.heads) > 0 || rf.focus != nil {
		return usagef("render: %s is a comparison: --layers, --heads and --focus apply to a trace", in)
	}
	c, err := trace.ReadComparisonFile(in)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	r, err := rerunOfTrace(c.Runs[0][0])
	if err != nil {
		return fmt.Errorf("render: %s: runs[0][0].settings: %w", in, err)
	}
	r.reproducible, r.overflow, r.continuation = false, "", ""
	specs := make([]string, len(c.Settings))
	for i, s := range c.Settings {
		p := model.SamplingParams{Temperature: s.Temperature, TopK: s.TopK, TopP: s.TopP}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("render: %s: settings[%d]: %w", in, i, err)
		}
		specs[i] = model.FormatSampling(p)
		c.Settings[i].Spec = specs[i]
		for j, tr := range c.Runs[i] {
			one := r
			one.sampling, one.seed = p, c.Seeds[j]
			tr.Settings.Command = one.command("report")
		}
	}
	shown := r
	shown.lang, shown.format = rf.lang, rf.format
	c.Command = shellLine(shown.compareArgs(specs, c.Seeds))
	cf := compareFlags{format: rf.format, out: rf.out, lang: rf.lang, figures: rf.figures, open: rf.open}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := cf.write(ctx, c, false, inputs, stderr); err != nil {
		var u *usageError
		if errors.As(err, &u) {
			return usagef("render: %s", u.msg)
		}
		return fmt.Errorf("render: %w", err)
	}
	_, err = fmt.Fprintln(stdout, rf.out)
	return err
}
