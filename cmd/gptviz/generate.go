package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/trace"
)

const generateUsage = `Usage: gptviz generate [flags] PROMPT

Generates a continuation of PROMPT one token at a time and prints it. The
filters apply in the order temperature → top-k → top-p; the same --seed and
settings give the same tokens every time.

Output: the prompt followed by the continuation, then a newline. On a
terminal, characters a terminal would obey (escape sequences, other control
characters except newline and tab, bidirectional overrides) are shown
escaped, as \x1b, \u202e, and bytes that are not UTF-8 as <e4 bd>, so
that generated text cannot retitle the window or clear the screen. When
stdout is a pipe or a file, the exact bytes are written, unescaped.

The trace (--trace) holds the run's wall-clock timings; --reproducible, or
SOURCE_DATE_EPOCH set in the environment, leaves them out, so that the same
command writes the same trace bytes on machines of the same architecture.
--kv-rows and --kv-focus bound what the trace records of each step's
writes into the KV cache, as in gptviz report (see gptviz report --help).

Examples:
  gptviz generate "The light"
  gptviz generate --steps 40 --temperature 0.8 --top-k 40 --top-p 0.9 --seed 7 "The light"
  gptviz generate --model gpt2 --trace run.json "The quick brown fox"
  gptviz generate --reproducible --trace run.json "The light"

Flags:
`

// sampleFlags are the sampling and run-length flags shared by generate and
// report.
type sampleFlags struct {
	steps        int
	p            model.SamplingParams
	seed         uint64
	overflow     string // model.Overflow
	continuation string
}

func (f *sampleFlags) register(fs *pflag.FlagSet, steps int) {
	fs.IntVarP(&f.steps, "steps", "n", steps, "number of tokens to generate")
	fs.Float64VarP(&f.p.Temperature, "temperature", "t", 1, "divide the logits by T before the softmax; 0 means greedy (argmax)")
	fs.IntVarP(&f.p.TopK, "top-k", "k", 0, "sample only from the K most probable tokens; 0 means off")
	fs.Float64VarP(&f.p.TopP, "top-p", "p", 1, "sample only from the smallest set of tokens whose probability reaches P (nucleus); 1 means off")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed; the same seed and settings give the same tokens")
	fs.StringVar(&f.overflow, "overflow", string(model.OverflowBlock), "when prompt + steps exceed the context window: block (evict the oldest quarter of the window, recompute once, keep decoding with the KV cache) or slide (evict one token per step and recompute the whole window every step: exact, much slower)")
	fs.StringVar(&f.continuation, "continuation", "", "also score this text after the prompt under teacher forcing: log2 P(continuation | prompt) in bits and per token, beside what the model generates")
}

// record runs and records m on r's prompt with these settings for
// subcommand sub ("report" or "generate"): it warns on stderr when the
// context window will overflow, records the rerun command r.command(sub),
// shows progress, and returns library parameter errors as flag errors.
func (f *sampleFlags) record(ctx context.Context, stderr io.Writer, m *model.Model, r rerun, sub string, to model.TraceOptions) (*trace.Trace, error) {
	warnOverflow(stderr, m, r.prompt, f.options())
	opts := f.options()
	opts.Prompt, opts.Command, opts.Version, opts.Progress = r.prompt, r.command(sub), version, progress(stderr, sub)
	opts.Trace = to
	tr, err := model.Run(ctx, m, opts)
	if err != nil {
		return nil, flagError(err)
	}
	return tr, nil
}

// options returns the run's settings in the library's words.
func (f *sampleFlags) options() model.RunOptions {
	return model.RunOptions{Steps: f.steps, Sampling: f.p, Seed: f.seed, Overflow: model.Overflow(f.overflow), Continuation: f.continuation}
}

func (f *sampleFlags) validate() error {
	if f.steps < 0 {
		return usagef("--steps %d: must be ≥ 0", f.steps)
	}
	if err := model.Overflow(f.overflow).Validate(); err != nil || f.overflow == "" {
		return usagef("--overflow %q: want block or slide", f.overflow)
	}
	if err := model.CheckPrompt(f.continuation); err != nil {
		return usagef("--continuation: %s", strings.TrimPrefix(err.Error(), "prompt: "))
	}
	return flagError(f.p.Validate())
}

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("generate", pflag.ContinueOnError)
	var mf modelFlags
	var sf sampleFlags
	mf.register(fs)
	sf.register(fs, 20)
	tracePath := fs.String("trace", "", "also write the run's Trace (JSON) to this file")
	var repro bool
	registerReproducible(fs, &repro)
	var kf recordFlags
	kf.register(fs)
	if err := parseFlags(fs, args, generateUsage, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("generate: want exactly one PROMPT argument, got %d", fs.NArg())
	}
	if err := model.CheckPrompt(fs.Arg(0)); err != nil {
		return &usageError{msg: err.Error()}
	}
	if err := sf.validate(); err != nil {
		return err
	}
	repro, err := reproducible(repro)
	if err != nil {
		return err
	}
	if fs.Changed("trace") {
		if err := checkOutPath("--trace", *tracePath); err != nil {
			return err
		}
	}
	if err := kf.validate(); err != nil {
		return err
	}
	for _, name := range []string{"kv-rows", "kv-focus", "lens-positions"} {
		if fs.Changed(name) && *tracePath == "" {
			return usagef("--%s: records into the trace; give --trace FILE too", name)
		}
	}
	var traceOpts model.TraceOptions
	kf.apply(&traceOpts)
	mf.run = model.RunSize{PromptTokens: len(fs.Arg(0)) + len(sf.continuation) + 1, Steps: sf.steps, Overflow: model.Overflow(sf.overflow), Trace: traceOpts}
	if *tracePath != "" {
		mf.run.Output = model.OutputJSON
	}
	m, loadTime, err := mf.load(ctx, stderr)
	if err != nil {
		return err
	}
	if *tracePath != "" {
		if err := mf.inputs().check("--trace", *tracePath); err != nil {
			return err
		}
	}
	if err := kf.checkModel(m.Config); err != nil {
		return err
	}
	r := kf.view(rerun{model: mf.name, revision: mf.revision, prompt: fs.Arg(0), steps: sf.steps, sampling: sf.p, seed: sf.seed,
		overflow: sf.overflow, continuation: sf.continuation, reproducible: repro}, m.Config)
	tr, err := sf.record(ctx, stderr, m, r, "generate", traceOpts)
	if err != nil {
		return err
	}
	tr.Timings.LoadMillis = float64(loadTime.Microseconds()) / 1000
	if repro {
		omitTimings(tr)
	}
	var out []int
	for _, t := range tr.Tokens[tr.PromptLen:] {
		out = append(out, t.ID)
	}
	text := append([]byte(tr.Prompt), m.Tokenizer.Decode(out)...)
	if isTerminal(stdout) {
		text = []byte(bpe.TerminalText(text))
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", text); err != nil {
		return err
	}
	if ct := tr.Continuation; ct != nil {
		fmt.Fprintf(stderr, "continuation: log2 P(continuation | prompt) = %.3f bits over %d tokens (%.3f bits/token)\n", ct.Log2Prob, len(ct.Tokens), ct.BitsPerToken)
	}
	if *tracePath != "" {
		if err := writeJSONFile(ctx, "--trace", *tracePath, tr); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "trace written to %s\n", *tracePath)
	}
	return nil
}

// version is gptviz's version, recorded in traces and reports.
const version = "0.1.0"

// progress returns a Progress callback that reports on stderr once a run
// has taken more than a second: on a terminal one line updated in place a
// few times a second, elsewhere (a log) a plain line every few seconds.
func progress(stderr io.Writer, what string) func(step, total int) {
	start := time.Now()
	var last time.Time
	tty := isTerminal(stderr)
	every := 5 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	return func(step, total int) {
		now := time.Now()
		if now.Sub(start) < time.Second || (now.Sub(last) < every && step < total) {
			return
		}
		last = now
		if !tty {
			fmt.Fprintf(stderr, "%s: step %d/%d (%.1fs)\n", what, step, total, now.Sub(start).Seconds())
			return
		}
		fmt.Fprintf(stderr, "\r%s: step %d/%d (%.1fs)", what, step, total, now.Sub(start).Seconds())
		if step == total {
			fmt.Fprintln(stderr)
		}
	}
}

// isTerminal reports whether w is a terminal (not merely a character
// device such as /dev/null).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
