package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/model/trace"
)

const renderUsage = `Usage: gptviz render [flags] TRACE.json

Re-renders a run saved as a trace (gptviz report --format json) without the
model: the same notebook-style report, in another language, format or
selection of layers and heads. A comparison saved by gptviz compare
--format json becomes the page compare writes, byte for byte. The trace is checked before use. The report is
written atomically (an existing file is replaced only once the new one is
complete) and its path printed. --reproducible leaves the trace's timings
out of the report (a trace written with --reproducible has none).

Examples:
  gptviz render run.json                         # writes run.html
  gptviz render --lang zh -o run-zh.html run.json
  gptviz render --format ipynb run.json          # writes run.ipynb
  gptviz render --layers 0,1 --heads 3 --focus 1,3 --figures figs run.json

Flags:
`

// runRender re-renders a saved trace without the model. The flags are
// report's (reportFlags), except that --out defaults to the trace's name with
// the format's extension, beside it.
func runRender(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("render", pflag.ContinueOnError)
	var rf reportFlags
	rf.register(fs)
	fs.Lookup("out").Usage = "output file (default: TRACE with the extension of --format); replaced only once the new file is complete"
	if err := parseFlags(fs, args, renderUsage, stdout); err != nil {
		return err
	}
	if err := formatFromOut(fs, &rf.format, rf.out, "html", "ipynb", "json"); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("render: want exactly one TRACE.json, got %d arguments", fs.NArg())
	}
	in := fs.Arg(0)
	if rf.out == "" {
		rf.out = strings.TrimSuffix(in, filepath.Ext(in)) + "." + rf.format
		if rf.out == in && !strings.EqualFold(filepath.Ext(in), ".json") {
			return usagef("render: %s already has the extension .%s that the output would get: render reads a trace (.json) that gptviz generate --trace or report --format json wrote; give --out to choose the output", in, rf.format)
		}
	}
	if err := rf.validate(); err != nil {
		var u *usageError
		if errors.As(err, &u) {
			return usagef("render: %s", u.msg)
		}
		return err
	}
	var inputs inputs
	inputs.add(in)
	if err := inputs.check("--out", rf.out); err != nil {
		return usagef("render: %s", err)
	}
	if isComparison(in) {
		return renderComparison(ctx, in, &rf, inputs, stdout, stderr)
	}
	tr, err := trace.ReadFile(in)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if err := rf.checkModel(tr.Model.Config); err != nil {
		return err
	}
	// The rerun command is rebuilt from the trace's checked settings; the
	// command line a trace carries is never shown (a shared trace could
	// hold any shell code there).
	r, err := rerunOfTrace(tr)
	if err != nil {
		return fmt.Errorf("render: %s: settings: %w", in, err)
	}
	tr.Settings.Command = r.command("report") // --format json writes it on
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := rf.write(ctx, tr, rf.view(r).commands(true), inputs, stdout, stderr); err != nil {
		var u *usageError
		if errors.As(err, &u) {
			return usagef("render: %s", u.msg)
		}
		return fmt.Errorf("render: %w", err)
	}
	return nil
}
