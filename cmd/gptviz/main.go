// Command gptviz makes a GPT's working memory visible: it runs a GPT-2-family
// model step by step, records every layer, and writes notebook-style reports.
//
// main is a thin shell: all work happens in run, which tests call directly.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// command is one gptviz subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands in the order --help shows them. Each lives
// in its own file.
var commands = []command{
	{"report", "write a notebook-style HTML report of one run", runReport},
	{"serve", "explore live in the browser: step, force, undo, fork (local, token-protected)", runServe},
	{"lesson", "render one lesson walkthrough on live runs (gptviz lessons lists them)", runLesson},
	{"lessons", "list the lessons, or render them all as an offline site (--all)", runLessons},
	{"compare", "compare sampling settings on the same prompt and seeds", runCompare},
	{"render", "re-render a saved trace (JSON) without the model", runRender},
	{"generate", "generate text and print the continuation", runGenerate},
	{"tokens", "show how a text is split into tokens", runTokens},
	{"pull", "download a GPT-2 model from the Hugging Face Hub", runPull},
	{"train", "train a small GPT-2 (and its tokenizer) from text", runTrain},
	{"bench", "time prefill, decode, recording and sampling on this machine", runBench},
}

// usageError marks errors in how gptviz was called (exit status 2). cmd is
// the subcommand whose --help to suggest, filled in by run.
type usageError struct{ msg, cmd string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp reports that help was printed; it exits 0.
var errHelp = errors.New("help requested")

// exitCode maps run's error to the process exit status: 0 ok, 2 usage,
// 130 interrupted (Ctrl-C, as shells report SIGINT; also SIGTERM and
// SIGHUP, see stopSignals), 1 any other failure.
// It prints the error.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "gptviz: interrupted")
		return 130
	}
	fmt.Fprintf(stderr, "gptviz: %v\n", err)
	var u *usageError
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "Run 'gptviz %s--help' for usage.\n", u.cmd)
		return 2
	}
	return 1
}

// run executes gptviz with the given arguments (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return usagef("no command given")
		}
		return errHelp
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			var u *usageError
			if errors.As(err, &u) {
				u.cmd = c.name + " "
			}
			return err
		}
	}
	return usagef("unknown command %q", args[0])
}

func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("gptviz makes a GPT's working memory visible.\n\nUsage:\n  gptviz COMMAND [flags] [args]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Examples:
  gptviz report "The quick brown fox jumps over the lazy dog."
  gptviz generate --steps 20 --temperature 0.8 --top-p 0.9 --seed 1 "The light"
  gptviz tokens "你好，世界"

Run 'gptviz COMMAND --help' for a command's flags.
`)
	io.WriteString(w, b.String())
}
