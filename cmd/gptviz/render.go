package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/output"
)

const renderUsage = `Usage: gptviz render TRACE.json [flags]

Re-renders a run saved as a trace (gptviz report --format json) without the
model: the same notebook-style report, in another language, format or
selection of layers and heads. The report is written atomically: an existing
file is replaced only once the new one is complete. Its path is printed.

Examples:
  gptviz render run.json                         # writes run.html
  gptviz render run.json --lang zh -o run-zh.html
  gptviz render run.json --format ipynb          # writes run.ipynb
  gptviz render run.json --layers 0,1 --heads 3 --focus 1:3 --figures figs

Flags:
`

// outputFlags choose what a report shows and where it goes; shared by the
// commands that write reports.
type outputFlags struct {
	out     string
	format  string
	lang    string
	layers  []int
	heads   []int
	focus   string
	figures string
}

func (f *outputFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.out, "out", "o", "", "file to write (default: the input's name with the format's extension)")
	fs.StringVar(&f.format, "format", "html", "html (self-contained page, opens offline), ipynb (Jupyter notebook) or json (the trace)")
	fs.StringVar(&f.lang, "lang", "en", "language of the explanations: en or zh")
	fs.IntSliceVar(&f.layers, "layers", nil, "layers of the attention model view, by index from 0, e.g. 0,3 (default all)")
	fs.IntSliceVar(&f.heads, "heads", nil, "heads of the attention model view, by index from 0 (default all)")
	fs.StringVar(&f.focus, "focus", "", "LAYER:HEAD of the large attention view and the KV cache contents (default: the first selected)")
	fs.StringVar(&f.figures, "figures", "", "also write every chart as DIR/ID.svg and DIR/ID.png")
}

// check validates the flags that need no trace; errors are usage errors.
func (f *outputFlags) check(cmd string) (*lessons.Head, error) {
	switch f.format {
	case "html", "ipynb", "json":
	default:
		return nil, usagef("%s: --format %q: want html, ipynb or json", cmd, f.format)
	}
	if f.lang != "en" && f.lang != "zh" {
		return nil, usagef("%s: --lang %q: want en or zh", cmd, f.lang)
	}
	if f.focus == "" {
		return nil, nil
	}
	l, h, ok := strings.Cut(f.focus, ":")
	layer, err1 := strconv.Atoi(l)
	head, err2 := strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil {
		return nil, usagef("%s: --focus %q: want LAYER:HEAD, e.g. 0:3", cmd, f.focus)
	}
	return &lessons.Head{Layer: layer, Head: head}, nil
}

// extension returns the file extension of the chosen format.
func (f *outputFlags) extension() string { return "." + f.format }

// write renders tr as the chosen format into f.out, and the figures into
// f.figures if set, printing each path written to stdout.
func (f *outputFlags) write(tr *model.Trace, focus *lessons.Head, stdout io.Writer) error {
	if f.format == "json" && f.figures == "" {
		if err := output.WriteFileAtomic(f.out, func(w io.Writer) error { return output.WriteJSON(w, tr) }); err != nil {
			return err
		}
		fmt.Fprintln(stdout, f.out)
		return nil
	}
	opt := lessons.ReportOptions{Lang: f.lang, Layers: f.layers, Heads: f.heads, Focus: focus}
	switch {
	case f.figures != "":
		opt.Static = []string{"svg", "png"}
	case f.format == "ipynb":
		opt.Static = []string{"svg"}
	}
	nb, err := lessons.Report(tr, opt)
	if err != nil {
		if errors.Is(err, lessons.ErrOptions) {
			return &usageError{err.Error()}
		}
		return err
	}
	var write func(io.Writer) error
	switch f.format {
	case "html":
		write = func(w io.Writer) error { return output.WriteHTML(w, nb) }
	case "ipynb":
		write = func(w io.Writer) error { return output.WriteIPYNB(w, nb) }
	case "json":
		write = func(w io.Writer) error { return output.WriteJSON(w, tr) }
	}
	if err := output.WriteFileAtomic(f.out, write); err != nil {
		return err
	}
	fmt.Fprintln(stdout, f.out)
	if f.figures != "" {
		paths, err := output.WriteFigures(f.figures, nb)
		for _, p := range paths {
			fmt.Fprintln(stdout, p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readTrace reads a trace written by gptviz (model.Trace as JSON). It
// returns an error naming path when the file cannot be read, is not one
// JSON object of a trace, has another version than model.TraceVersion, or
// describes an impossible model (model.Config.Validate). The rest of the
// trace is checked by the charts that use it.
func readTrace(path string) (*model.Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	var probe struct {
		Version *int `json:"version"`
	}
	raw := json.RawMessage{}
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("trace %s: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trace %s: data after the trace object", path)
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("trace %s: not a trace object: %w", path, err)
	}
	switch {
	case probe.Version == nil:
		return nil, fmt.Errorf("trace %s: no \"version\": not a gptviz trace", path)
	case *probe.Version != model.TraceVersion:
		return nil, fmt.Errorf("trace %s: version %d; this gptviz reads version %d", path, *probe.Version, model.TraceVersion)
	}
	var tr model.Trace
	if err := json.Unmarshal(raw, &tr); err != nil {
		return nil, fmt.Errorf("trace %s: %w", path, err)
	}
	if err := tr.Model.Config.Validate(); err != nil {
		return nil, fmt.Errorf("trace %s: model: %w", path, err)
	}
	return &tr, nil
}

// runRender re-renders a saved trace without the model.
func runRender(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("render", pflag.ContinueOnError)
	var of outputFlags
	of.register(fs)
	if err := parseFlags(fs, args, renderUsage, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("render: want exactly one TRACE.json, got %d arguments", fs.NArg())
	}
	focus, err := of.check("render")
	if err != nil {
		return err
	}
	in := fs.Arg(0)
	if of.out == "" {
		of.out = strings.TrimSuffix(in, filepath.Ext(in)) + of.extension()
	}
	if abs, err1 := filepath.Abs(in); err1 == nil {
		if out, err2 := filepath.Abs(of.out); err2 == nil && abs == out {
			return usagef("render: --out %s would overwrite the trace it reads", of.out)
		}
	}
	tr, err := readTrace(in)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := of.write(tr, focus, stdout); err != nil {
		var u *usageError
		if errors.As(err, &u) {
			return usagef("render: %s", u.msg)
		}
		return fmt.Errorf("render: %w", err)
	}
	return nil
}
