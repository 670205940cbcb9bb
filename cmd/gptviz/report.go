package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
)

const reportUsage = `Usage: gptviz report [flags] PROMPT

Runs the model on PROMPT, generates --steps tokens, records every layer, and
writes a notebook-style report: the tokens entering working memory,
P(w_i | w_<i) over the prompt, each generation step, attention, the KV cache,
the logit lens and the residual stream. The HTML page is one self-contained
file that opens offline.

Files are deterministic except for the run's wall-clock timings (load,
prefill, decode, each step); --reproducible, or SOURCE_DATE_EPOCH set in the
environment, leaves those out, so that the same command writes the same
bytes (HTML, ipynb and JSON) on machines of the same architecture. The
report then says the timings were left out.

What a long run records is bounded by four flags; lower them to make the
trace and the page of a long prompt smaller (and --lens-positions, the run
faster):
  --max-attention N   attention rows of up to N keys are kept in full, longer
                      ones as averages over blocks of keys; the prefill
                      records the last N query rows (attention, logit lens,
                      residual stream)
  --kv-rows N         of the rows each step writes into the KV cache, the last
                      N keep the keys and values of the --kv-focus head in
                      full; every row keeps its key and value norms in every
                      layer (0: only those)
  --kv-focus L,H      that head: layer L, head H (default the last layer,
                      head 0)
  --lens-positions N  the logit lens is read out at the last N positions of
                      a step (default 16: a short prompt whole); each
                      position costs n_layer − 1 passes through the output
                      head (the last layer's reading is the output itself)

Examples:
  gptviz report "The quick brown fox jumps over the lazy dog."
  gptviz report --lang zh -o fox.html "The quick brown fox"
  gptviz report --model gpt2 --steps 30 --temperature 0.7 --top-p 0.9 "Once upon a time"
  gptviz report --format ipynb -o run.ipynb --figures figs "The light"
  gptviz report --layers 0,3 --heads 1 --focus 3,1 "To be or not to be"
  gptviz report --reproducible -o run.html "The light"    # the same bytes every time
  gptviz report --model gpt2 --max-attention 128 --kv-rows 64 --kv-focus 5,1 "$(cat long.txt)"

Flags:
`

// reportFlags choose how a Trace becomes a report; shared by report and
// render.
type reportFlags struct {
	out     string
	format  string
	lang    string
	layers  []int
	heads   []int
	focus   []int
	figures string
	open    bool
	// reproducible leaves timings out (--reproducible or
	// SOURCE_DATE_EPOCH), resolved by validate.
	reproducible bool
}

func (f *reportFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.out, "out", "o", "", "output file (default report.html, report.ipynb or trace.json by --format); replaced only once the new file is complete")
	fs.StringVar(&f.format, "format", "html", "html (self-contained page), ipynb (Jupyter notebook) or json (the Trace); without it, an --out ending in .ipynb, .json or .html chooses")
	fs.StringVar(&f.lang, "lang", "en", "language of the explanations: en or zh")
	fs.IntSliceVar(&f.layers, "layers", nil, "layers to show in the attention model view, by index from 0 (default all)")
	fs.IntSliceVar(&f.heads, "heads", nil, "heads to show in the attention model view, by index from 0 (default all)")
	fs.IntSliceVar(&f.focus, "focus", nil, "LAYER,HEAD of the large attention view and KV-cache heatmap (default the first shown)")
	fs.StringVar(&f.figures, "figures", "", "also write every chart as SVG and PNG into this folder")
	fs.BoolVar(&f.open, "open", false, "open the report in the default browser")
	registerReproducible(fs, &f.reproducible)
}

// validate checks the flags and the output paths before any work is done.
func (f *reportFlags) validate() error {
	switch f.format {
	case "html", "ipynb", "json":
	default:
		return usagef("--format %q: want html, ipynb or json", f.format)
	}
	if f.lang != "en" && f.lang != "zh" {
		return usagef("--lang %q: want en or zh", f.lang)
	}
	if f.focus != nil && len(f.focus) != 2 {
		return usagef("--focus %v: want LAYER,HEAD", f.focus)
	}
	var err error
	if f.reproducible, err = reproducible(f.reproducible); err != nil {
		return err
	}
	if f.out == "" {
		f.out = map[string]string{"html": "report.html", "ipynb": "report.ipynb", "json": "trace.json"}[f.format]
	}
	if err := checkOutPath("--out", f.out); err != nil {
		return err
	}
	if f.figures != "" {
		if fi, err := os.Stat(f.figures); err == nil && !fi.IsDir() {
			return usagef("--figures %s: is a file, not a folder", f.figures)
		}
	}
	return checkFiguresNotOut(f.figures, f.out)
}

// view returns r with how this report shows it (language, format, layers,
// heads, focus), for its command line.
func (f *reportFlags) view(r rerun) rerun {
	r.lang, r.format, r.layers, r.heads, r.focus = f.lang, f.format, f.layers, f.heads, f.focus
	r.reproducible = r.reproducible || f.reproducible
	return r
}

// checkModel checks --layers, --heads and --focus against the model's
// shape, so that a bad index is a usage error before any work is done.
func (f *reportFlags) checkModel(c arch.Config) error {
	for _, l := range f.layers {
		if l < 0 || l >= c.NLayer {
			return usagef("--layers %d: the model has layers 0..%d", l, c.NLayer-1)
		}
	}
	for _, h := range f.heads {
		if h < 0 || h >= c.NHead {
			return usagef("--heads %d: the model has heads 0..%d", h, c.NHead-1)
		}
	}
	if f.focus != nil && (f.focus[0] < 0 || f.focus[0] >= c.NLayer || f.focus[1] < 0 || f.focus[1] >= c.NHead) {
		return usagef("--focus %d,%d: the model has layers 0..%d and heads 0..%d", f.focus[0], f.focus[1], c.NLayer-1, c.NHead-1)
	}
	return nil
}

// write renders tr as the chosen format into f.out (atomically), writes the
// figures, prints the path and opens it if asked. The report shows cmds; no
// file written may replace one of in. With f.reproducible, tr's timings are
// left out first (omitTimings). Cancelling ctx stops the writing and
// leaves no partial file (complete figures may remain).
func (f *reportFlags) write(ctx context.Context, tr *trace.Trace, cmds lessons.Commands, in inputs, stdout, stderr io.Writer) error {
	if err := in.check("--out", f.out); err != nil {
		return err
	}
	if f.reproducible {
		omitTimings(tr)
	}
	if f.format == "json" {
		if err := writeJSONFile(ctx, "--out", f.out, tr); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, f.out)
		return err
	}
	opt := lessons.ReportOptions{Lang: f.lang, Layers: f.layers, Heads: f.heads, Commands: cmds, Static: staticFormats(f.format, f.figures)}
	if f.focus != nil {
		opt.Focus = &lessons.Head{Layer: f.focus[0], Head: f.focus[1]}
	}
	nb, err := lessons.Report(tr, opt)
	if err != nil {
		return flagError(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := writeWithFigures(ctx, nb, f.format, f.out, f.figures, in, stderr); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, f.out); err != nil {
		return err
	}
	if f.open {
		if err := openBrowser(f.out); err != nil {
			fmt.Fprintf(stderr, "gptviz: --open: %v (the report is at %s)\n", err, f.out)
		}
	}
	return nil
}

// defaultMaxAttention is the default of report's --max-attention.
const defaultMaxAttention = 256

// reportFlagSet returns report's flags, set into the given values.
func reportFlagSet(mf *modelFlags, sf *sampleFlags, rf *reportFlags, maxAttention *int, kf *recordFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	mf.register(fs)
	mf.registerDownload(fs)
	sf.register(fs, 20)
	rf.register(fs)
	fs.IntVar(maxAttention, "max-attention", defaultMaxAttention, "record attention in full for up to this many positions; longer rows are averaged")
	kf.register(fs)
	return fs
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var mf modelFlags
	var sf sampleFlags
	var rf reportFlags
	var maxAttention int
	var kf recordFlags
	fs := reportFlagSet(&mf, &sf, &rf, &maxAttention, &kf)
	if err := parseFlags(fs, args, reportUsage, stdout); err != nil {
		return err
	}
	if err := formatFromOut(fs, &rf.format, rf.out, "html", "ipynb", "json"); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("report: want exactly one PROMPT argument, got %d", fs.NArg())
	}
	if err := model.CheckPrompt(fs.Arg(0)); err != nil {
		return &usageError{msg: err.Error()}
	}
	if err := sf.validate(); err != nil {
		return err
	}
	if fs.Changed("out") && rf.out == "" {
		return usagef("--out: empty file name")
	}
	if err := rf.validate(); err != nil {
		return err
	}
	if maxAttention < 1 {
		return usagef("--max-attention %d: must be ≥ 1", maxAttention)
	}
	if err := kf.validate(); err != nil {
		return err
	}
	traceOpts := model.TraceOptions{MaxAttention: maxAttention, MaxQueries: maxAttention}
	kf.apply(&traceOpts)
	mf.run = model.RunSize{PromptTokens: len(fs.Arg(0)) + len(sf.continuation) + 1, Steps: sf.steps, Overflow: model.Overflow(sf.overflow), Trace: traceOpts, Output: model.OutputReport}
	if rf.format == "json" {
		mf.run.Output = model.OutputJSON
	}
	m, loadTime, err := mf.load(ctx, stderr)
	if err != nil {
		return err
	}
	if err := rf.checkModel(m.Config); err != nil {
		return err
	}
	if err := kf.checkModel(m.Config); err != nil {
		return err
	}
	in := mf.inputs()
	if err := in.check("--out", rf.out); err != nil {
		return err
	}
	r := rf.view(rerun{model: mf.name, revision: mf.revision, prompt: fs.Arg(0), steps: sf.steps, sampling: sf.p, seed: sf.seed,
		overflow: sf.overflow, continuation: sf.continuation})
	if maxAttention != defaultMaxAttention {
		r.maxAttention = maxAttention
	}
	r = kf.view(r, m.Config)
	tr, err := sf.record(ctx, stderr, m, r, "report", traceOpts)
	if err != nil {
		return err
	}
	if !rf.reproducible {
		tr.Timings.LoadMillis = float64(loadTime.Microseconds()) / 1000
	}
	return rf.write(ctx, tr, r.commands(false), in, stdout, stderr)
}

// openBrowser opens path, a local file, in the system's default browser
// without waiting (openURL on its absolute path).
func openBrowser(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	return openURL(abs)
}
