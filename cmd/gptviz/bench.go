package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/model"
)

const benchUsage = `Usage: gptviz bench [--model M | --random gpt2] [--prompt N] [--steps N] [--rounds N]

Times the engine on this machine: the prefill of a prompt and the decode
steps after it, without a recorder, with the full trace recorder (what
'gptviz report' does), and with the recorder but no logit lens, so that the
lens's price shows on its own; then one draw of the sampler per setting.
Prints tokens per second, milliseconds and heap allocations per token, the
heap in use and the peak resident memory.

--random gpt2 times random weights of GPT-2 124M's shapes (with a
synthetic tokenizer), nothing to download.

Examples:
  gptviz bench --random gpt2
  gptviz bench --model gpt2 --prompt 256 --steps 64

Flags:
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	random := fs.String("random", "", "time random weights of these shapes instead of a model: gpt2 (124M)")
	var o model.BenchOptions
	fs.IntVar(&o.Prompt, "prompt", 128, "prompt length, tokens")
	fs.IntVar(&o.Steps, "steps", 32, "decode steps timed after the prompt")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds per figure; the best is shown")
	if err := parseFlags(fs, args, benchUsage, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return usagef("bench: takes no arguments, got %d", fs.NArg())
	case *random != "" && *random != "gpt2":
		return usagef("bench: --random %q: want gpt2", *random)
	case *random != "" && mf.name != "":
		return usagef("bench: --random and --model exclude each other")
	case o.Prompt < 1 || o.Steps < 1 || o.Rounds < 1:
		return usagef("bench: --prompt, --steps and --rounds must be ≥ 1")
	}
	var m *model.Model
	var err error
	if *random != "" {
		m, err = model.RandomModel(model.GPT2SmallConfig, 1)
	} else {
		m, _, err = mf.load(ctx, stderr)
	}
	if err != nil {
		return err
	}
	if o.Prompt+o.Steps > m.Config.NPositions {
		return usagef("bench: --prompt %d + --steps %d exceed the context window of %d positions", o.Prompt, o.Steps, m.Config.NPositions)
	}
	res, err := model.Bench(ctx, m, o)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, formatBench(res))
	return err
}

// formatBench renders a BenchResult as a table.
func formatBench(r *model.BenchResult) string {
	var b strings.Builder
	kernels := "portable Go"
	if r.Accelerated {
		kernels = "AVX2+FMA"
	}
	fmt.Fprintf(&b, "model %s, %d parameters; prompt %d tokens, %d decode steps; %d threads; one-row kernels %s\n\n",
		r.Model, r.Params, r.Prompt, r.Steps, r.GOMAXPROCS, kernels)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\ttokens/s\tms/token\tallocs/token\tKiB/token\t")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t%.0f\t%.0f\t\n", f.Name, f.TokensPer, f.Millis, f.AllocsPer, f.BytesPer/1024)
	}
	tw.Flush()
	b.WriteString("\nsampler, one draw:\n")
	var names []string
	for k := range r.SampleMillis {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "  %-40s %.3f ms\n", k, r.SampleMillis[k])
	}
	fmt.Fprintf(&b, "\nheap in use %.0f MiB", r.HeapMiB)
	if r.PeakRSSMiB > 0 {
		fmt.Fprintf(&b, ", peak resident %.0f MiB", r.PeakRSSMiB)
	}
	b.WriteString("\n")
	return b.String()
}
