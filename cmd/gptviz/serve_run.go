package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/serve"
)

// servedModel is the model gptviz serve loaded, which the commands it runs
// for the lessons and their try-it cells use instead of loading one
// (modelFlags.load reads it from the context).
type servedModel struct {
	m              *model.Model
	name, revision string // the server's --model and --revision
	maxSteps       int    // decode steps a command may ask for
}

type servedModelKey struct{}

// served returns the served model in ctx, or nil.
func served(ctx context.Context) *servedModel {
	sm, _ := ctx.Value(servedModelKey{}).(*servedModel)
	return sm
}

// use returns the served model for a command's model flags f: the same
// --model and --revision as the server's, or none; anything else is a
// usage error, as is a run of more decode steps than the server allows. A
// run that needs more memory than is available beside the model (which is
// loaded) is a plain error.
func (sm *servedModel) use(f *modelFlags) (*model.Model, error) {
	if f.name != "" && (f.name != sm.name || f.revision != sm.revision) {
		which := "the default model"
		if sm.name != "" {
			which = "--model " + sm.name
		}
		return nil, usagef("--model %s: this server runs %s; start 'gptviz serve --model %s' to run that one, or leave --model out", f.name, which, f.name)
	}
	if f.run.Steps > sm.maxSteps {
		return nil, usagef("--steps %d: this server runs commands of at most %d decode steps (gptviz serve --max-steps)", f.run.Steps, sm.maxSteps)
	}
	if avail, ok := availableMemory(); ok {
		// The weights and the runtime are held already.
		need := model.EstimateMemory(sm.m.Config, f.run)
		need.Weights, need.Runtime = 0, 0
		if err := model.CheckMemory(need, avail); err != nil {
			return nil, fmt.Errorf("the run %w; lower --steps or shorten the prompt", err)
		}
	}
	return sm.m, nil
}

// servedCommands are the commands serve.RunCommands names (the table
// commands, which would make an initialisation cycle through runServe).
var servedCommands = map[string]func(context.Context, []string, io.Writer, io.Writer) error{
	"report": runReport, "compare": runCompare, "generate": runGenerate, "tokens": runTokens, "lesson": runLesson,
}

// writesFiles are the flags with which a command writes files of its own
// choosing; a command the server runs writes only the file it shows.
var writesFiles = []string{"out", "figures", "trace"}

// serveCommand returns serve.Options.Command: it runs `gptviz ARGS` with
// the command's own flags, on the served model m, in-process. The file a
// command writes goes to a temporary folder (an --out the server adds as
// the command's last flag) and is returned; the folder is removed. A
// command line that names --out, --figures, --trace or --open, or another
// model, is refused.
func serveCommand(m *model.Model, mf *modelFlags, maxSteps int) func(context.Context, []string, io.Writer, io.Writer) (*serve.File, error) {
	sm := &servedModel{m: m, name: mf.name, revision: mf.revision, maxSteps: maxSteps}
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) (*serve.File, error) {
		var runCmd func(context.Context, []string, io.Writer, io.Writer) error
		if len(args) > 0 && slices.Contains(serve.RunCommands, args[0]) {
			runCmd = servedCommands[args[0]]
		}
		if runCmd == nil {
			return nil, &serve.CommandError{Usage: true, Err: fmt.Errorf("want one of gptviz %s", strings.Join(serve.RunCommands, ", "))}
		}
		flags, rest := args[1:], []string(nil)
		if k := slices.Index(flags, "--"); k >= 0 {
			flags, rest = flags[:k], flags[k:]
		}
		for _, a := range flags {
			if name, ok := writesFile(a); ok {
				return nil, &serve.CommandError{Usage: true, Err: fmt.Errorf("%s: the server shows the command's result in the page and writes no other file; leave it out", name)}
			}
			if a == "--open" || strings.HasPrefix(a, "--open=") {
				return nil, &serve.CommandError{Usage: true, Err: errors.New("--open: the server shows the command's result in the page and opens no browser of its own; leave it out")}
			}
		}
		full := append([]string{}, flags...)
		if !hasModelFlag(flags) && sm.name != "" {
			// The commands a page shows name the server's model, as
			// 'gptviz lesson --model M' writes them.
			full = append([]string{"--model", sm.name}, full...)
			if sm.revision != "" {
				full = append([]string{"--revision", sm.revision}, full...)
			}
		}
		var dir string
		if args[0] != "tokens" && args[0] != "generate" {
			var err error
			if dir, err = os.MkdirTemp("", "gptviz-serve-*"); err != nil {
				return nil, err
			}
			defer os.RemoveAll(dir)
			// First, in one word: after the user's flags, a trailing flag
			// that takes a value ("--continuation") swallowed "--out" and
			// the command wrote report.html into the server's folder.
			full = append([]string{"--out=" + filepath.Join(dir, args[0]+"."+formatOf(flags))}, full...)
		}
		full = append(full, rest...)
		var out bytes.Buffer
		err := runCmd(context.WithValue(ctx, servedModelKey{}, sm), full, &out, stderr)
		if errors.Is(err, errHelp) {
			err = nil
		}
		var u *usageError
		switch {
		case errors.As(err, &u):
			return nil, &serve.CommandError{Usage: true, Err: err}
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			return nil, &serve.CommandError{Err: err}
		}
		if dir == "" {
			_, err := stdout.Write(out.Bytes())
			return nil, err
		}
		// A command that writes a file prints its name: the temporary
		// one means nothing to the reader.
		printed := out.String()
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
				continue
			}
			p := filepath.Join(dir, e.Name())
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			io.WriteString(stdout, strings.ReplaceAll(printed, p+"\n", ""))
			return &serve.File{Name: e.Name(), Data: data}, nil
		}
		_, err = io.WriteString(stdout, printed)
		return nil, err
	}
}

// writesFile reports whether command-line word a sets one of writesFiles
// (--out, --out=F, -o, -oF, or -o inside a group of short flags), and which.
func writesFile(a string) (string, bool) {
	if name, ok := strings.CutPrefix(a, "--"); ok {
		name, _, _ = strings.Cut(name, "=")
		return "--" + name, slices.Contains(writesFiles, name)
	}
	if len(a) > 1 && a[0] == '-' && strings.ContainsRune(a[1:], 'o') {
		return "-o", true
	}
	return "", false
}

// hasModelFlag reports whether flags name a model (--model, -m).
func hasModelFlag(flags []string) bool {
	for _, a := range flags {
		if a == "--model" || strings.HasPrefix(a, "--model=") || a == "-m" || strings.HasPrefix(a, "-m") && !strings.HasPrefix(a, "--") {
			return true
		}
	}
	return false
}

// formatOf returns the --format the flags ask for (html by default), as
// the extension of the file the server asks the command for.
func formatOf(flags []string) string {
	f := "html"
	for i, a := range flags {
		if a == "--format" && i+1 < len(flags) {
			f = flags[i+1]
		} else if v, ok := strings.CutPrefix(a, "--format="); ok {
			f = v
		}
	}
	if f != "ipynb" && f != "json" {
		f = "html" // the command refuses a bad --format itself
	}
	return f
}
