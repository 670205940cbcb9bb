package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
)

const compareUsage = `Usage: gptviz compare [flags] PROMPT

Compares sampling settings on the same prompt and seeds. The prompt is
prefilled once; every setting (--sample, repeatable) then continues it with
every seed (--seeds), each run from its own copy of the prompt's KV cache,
so the runs differ only by their settings and seeds. Each run is the run
'gptviz report' makes with the same setting and seed.

Writes the comparison as JSON (-o, default compare.json): every run's
trace, the settings and seeds, the summary numbers below and the command
that reruns it; rerunning the command writes a byte-identical file. Prints
a summary table: per setting and seed the mean log-probability (nats per
token) and perplexity of the generated text under the model at
temperature 1, distinct-1 and distinct-2 (distinct unigrams and bigrams of
tokens over all of them), the repetition rate (the share of 4-grams that
repeat an earlier one), the first step at which the tokens differ from
the first setting's with the same seed, and the generated text.

A sampling SPEC is "greedy", or key=value items separated by commas with
keys temperature, top-k and top-p; a key left out is off (temperature 1,
top-k 0, top-p 1). The filters apply in the order temperature → top-k →
top-p. Without --sample, five settings are compared: greedy,
temperature=0.7, temperature=1, temperature=1,top-k=40 and
temperature=1,top-p=0.9.

Examples:
  gptviz compare "The light"
  gptviz compare --steps 40 --seeds 1,2,3 --sample greedy --sample "temperature=0.7,top-k=40" --sample top-p=0.9 "The light"
  gptviz compare --model gpt2 -o fox.json "The quick brown fox"

Flags:
`

// defaultSpecs are the settings compare compares when no --sample is given.
var defaultSpecs = []string{"greedy", "temperature=0.7", "temperature=1", "temperature=1,top-k=40", "temperature=1,top-p=0.9"}

// maxSettings is the most --sample settings one comparison takes.
const maxSettings = 16

// compareFlags are compare's own flags.
type compareFlags struct {
	steps  int
	seeds  string
	sample []string
	format string
	out    string
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
			return nil, nil, usagef("--sample %q: %s", spec, se.Reason())
		}
		if err != nil {
			return nil, nil, usagef("--sample %q: %v", spec, err)
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
		return nil, usagef("--seeds %q: %s", f.seeds, se.Reason())
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
	fs.StringVar(&cf.format, "format", "json", "json (the comparison: every run's trace, the settings, seeds and summary numbers)")
	fs.StringVarP(&cf.out, "out", "o", "compare.json", "output file; replaced only once the new file is complete")
	if err := parseFlags(fs, args, compareUsage, stdout); err != nil {
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
	if cf.format != "json" {
		return usagef("--format %q: compare writes json (an HTML page is not there yet)", cf.format)
	}
	if err := checkOutPath("--out", cf.out); err != nil {
		return err
	}
	mf.run = model.RunSize{PromptTokens: len(prompt) + 1, Steps: cf.steps, Runs: len(settings) * len(seeds), Output: model.OutputJSON,
		Trace: model.TraceOptions{NoAttention: true, NoLogitLens: true, KVLayers: []int{}}}
	m, _, err := mf.load(ctx, stderr)
	if err != nil {
		return err
	}
	if err := mf.inputs().check("--out", cf.out); err != nil {
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
	c, err := trace.NewComparison(shellLine(r.compareArgs(specs, seeds)), specs, runs)
	if err != nil {
		return err
	}
	if err := output.WriteFileAtomic(ctx, cf.out, func(w io.Writer) error { return output.WriteJSON(w, c) }); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(stderr, "comparison written to %s\n", cf.out)
	return writeSummary(stdout, c, m)
}

// writeSummary prints the comparison's summary table: one row per setting
// and seed. The generated text is Go-quoted, so control characters and
// invalid UTF-8 show as escapes.
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
	return tw.Flush()
}
