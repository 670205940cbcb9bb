package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/model"
)

const tokensUsage = `Usage: gptviz tokens [--model M] TEXT

Shows how TEXT is split into tokens: position, token id, and the display form
(␣ marks a leading space, ↵ a newline, <e4 bd> the bytes of a partial UTF-8
character).

Examples:
  gptviz tokens "The quick brown fox"
  gptviz tokens --model gpt2 "你好，世界"

Flags:
`

func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("tokens", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	if err := parseFlags(fs, args, tokensUsage, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("tokens: want exactly one TEXT argument, got %d", fs.NArg())
	}
	if err := model.CheckPrompt(fs.Arg(0)); err != nil {
		return &usageError{msg: "TEXT: " + err.Error()}
	}
	m, _, err := mf.load(ctx, stderr)
	if err != nil {
		return err
	}
	tok := m.Tokenizer
	ids := tok.Encode(fs.Arg(0))
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "pos\tid\ttoken")
	for i, id := range ids {
		fmt.Fprintf(tw, "%d\t%d\t%s\n", i, id, tok.Display(id))
	}
	tw.Flush()
	noun := "tokens"
	if len(ids) == 1 {
		noun = "token"
	}
	fmt.Fprintf(&b, "%d %s (context window %d)\n", len(ids), noun, m.Config.NPositions)
	_, err = io.WriteString(stdout, b.String())
	return err
}

// parseFlags parses args, printing usage and returning errHelp for --help
// and a usage error for anything malformed.
func parseFlags(fs *pflag.FlagSet, args []string, usage string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			io.WriteString(stdout, usage)
			io.WriteString(stdout, fs.FlagUsages())
			return errHelp
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}
