package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
)

const lessonUsage = `Usage: gptviz lesson [flags] N|NAME

Renders one lesson walkthrough (see 'gptviz lessons' for the list): runs the
lesson's prompts on the model, then writes a notebook page that explains
them with live charts, the exact commands, things to try and questions
with folded answers. Every number the page states is computed from the
runs. The page works offline. It is deterministic except for the times
lesson 7 measures on this machine (decode steps with and without the KV
cache); --reproducible, or SOURCE_DATE_EPOCH set in the environment, leaves
those out too, so the same command writes the same bytes.

Examples:
  gptviz lesson 1
  gptviz lesson probability --lang zh -o probability.html
  gptviz lesson 3 --model gpt2 --format ipynb -o 03.ipynb

Flags:
`

const lessonsUsage = `Usage: gptviz lessons [flags]

Lists the lesson walkthroughs, or with --all renders every one of them into
a folder: an offline mini-site with an index page and previous/next links,
in both languages (en/ and zh/) unless --lang picks one. Each lesson's runs
are made once and shared by both languages. Progress goes to stderr; every
file is replaced only once its new version is complete. --reproducible works
as for 'gptviz lesson'.

Examples:
  gptviz lessons
  gptviz lessons --all -o site
  gptviz lessons --all --lang zh --model gpt2 -o site-gpt2

Flags:
`

// lessonFlags are the flags of lesson and lessons.
type lessonFlags struct {
	mf     modelFlags
	lang   string
	out    string
	format string
	// reproducible leaves lesson 7's measured times out.
	reproducible bool
}

func (f *lessonFlags) register(fs *pflag.FlagSet, langHelp string) {
	f.mf.register(fs)
	f.mf.registerDownload(fs)
	fs.StringVar(&f.lang, "lang", "", langHelp)
	fs.StringVarP(&f.out, "out", "o", "", "output file (lesson) or folder (lessons --all)")
	fs.StringVar(&f.format, "format", "html", "html (self-contained page) or ipynb (Jupyter notebook); without it, an --out ending in .ipynb or .html chooses")
	registerReproducible(fs, &f.reproducible)
}

// validateFormat checks --format and settles --reproducible (the flag or
// SOURCE_DATE_EPOCH).
func (f *lessonFlags) validateFormat() error {
	if f.format != "html" && f.format != "ipynb" {
		return usagef("--format %q: want html or ipynb", f.format)
	}
	var err error
	f.reproducible, err = reproducible(f.reproducible)
	return err
}

func runLesson(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f lessonFlags
	fs := pflag.NewFlagSet("lesson", pflag.ContinueOnError)
	f.register(fs, "language of the lesson: en or zh (default en)")
	if err := parseFlags(fs, args, lessonUsage, stdout); err != nil {
		return err
	}
	if err := formatFromOut(fs, &f.format, f.out, "html", "ipynb"); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("lesson: want exactly one lesson (a number or a name), got %d arguments", fs.NArg())
	}
	l, err := lessons.Find(fs.Arg(0))
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	if f.lang == "" {
		f.lang = "en"
	}
	if f.lang != "en" && f.lang != "zh" {
		return usagef("--lang %q: want en or zh", f.lang)
	}
	if err := f.validateFormat(); err != nil {
		return err
	}
	if f.out == "" {
		f.out = l.Name() + "." + f.format
	}
	if err := checkOutPath("--out", f.out); err != nil {
		return err
	}
	lr, err := f.loadRunner(ctx, stderr, []*lessons.Lesson{l})
	if err != nil {
		return err
	}
	if err := lr.in.check("--out", f.out); err != nil {
		return err
	}
	runs, err := lr.runs(ctx, l)
	if err != nil {
		return err
	}
	nb, err := l.Render(lr.options(f.lang, f.format, runs, nil))
	if err != nil {
		return flagError(err)
	}
	if err := writeNotebook(ctx, f.out, f.format, nb); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, f.out)
	return err
}

// writeNotebook writes nb as format (html or ipynb) to path, atomically.
func writeNotebook(ctx context.Context, path, format string, nb *output.Notebook) error {
	writer := output.WriteHTML
	if format == "ipynb" {
		writer = output.WriteIPYNB
	}
	if err := output.WriteFileAtomic(ctx, path, func(w io.Writer) error { return writer(w, nb) }); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// lessonRunner runs lessons' RunSpecs on one model, each once.
type lessonRunner struct {
	f      *lessonFlags
	m      *model.Model
	in     inputs
	stderr io.Writer
	done   map[string]*lessons.Run
}

// loadRunner loads the model for the lessons ls, checking first that
// their longest run fits in memory.
func (f *lessonFlags) loadRunner(ctx context.Context, stderr io.Writer, ls []*lessons.Lesson) (*lessonRunner, error) {
	var size model.RunSize
	for _, l := range ls {
		for _, s := range l.Specs() {
			size.PromptTokens = max(size.PromptTokens, len(s.Prompt)+len(s.Continuation)+1)
			size.Steps = max(size.Steps, s.Steps)
		}
	}
	size.Trace = model.TraceOptions{MaxAttention: defaultMaxAttention, MaxQueries: defaultMaxAttention}
	size.Output = model.OutputReport
	f.mf.run = size
	m, _, err := f.mf.load(ctx, stderr)
	if err != nil {
		return nil, err
	}
	return &lessonRunner{f: f, m: m, in: f.mf.inputs(), stderr: stderr, done: map[string]*lessons.Run{}}, nil
}

// runs runs (or reuses) the RunSpecs of l.
func (lr *lessonRunner) runs(ctx context.Context, l *lessons.Lesson) (map[string]*lessons.Run, error) {
	out := map[string]*lessons.Run{}
	for _, s := range l.Specs() {
		if r, ok := lr.done[s.Name]; ok {
			out[s.Name] = r
			continue
		}
		r := rerun{model: lr.f.mf.name, revision: lr.f.mf.revision, prompt: s.Prompt, steps: s.Steps,
			sampling: model.SamplingParams{Temperature: s.Temperature, TopK: s.TopK, TopP: s.TopP},
			seed:     s.Seed, continuation: s.Continuation}
		opts := model.RunOptions{Prompt: s.Prompt, Steps: s.Steps, Sampling: r.sampling, Seed: s.Seed, Continuation: s.Continuation,
			Trace:   model.TraceOptions{MaxAttention: defaultMaxAttention, MaxQueries: defaultMaxAttention},
			Command: r.command("report"), Version: version, Progress: progress(lr.stderr, "lesson "+l.ID+": run "+s.Name)}
		tr, err := model.Run(ctx, lr.m, opts)
		if err != nil {
			return nil, fmt.Errorf("lesson %s: run %s: %w", l.ID, s.Name, err)
		}
		// Lessons show no run timings; the only times on a page are the
		// decode steps lesson 7 measures, left out when reproducible.
		tr.ClearTimings()
		if err := measure(ctx, lr.m, tr, s); err != nil {
			return nil, fmt.Errorf("lesson %s: run %s: %w", l.ID, s.Name, err)
		}
		if lr.f.reproducible {
			tr.ClearTimings()
		}
		run := &lessons.Run{Trace: tr, Command: r.command("report")}
		lr.done[s.Name], out[s.Name] = run, run
	}
	return out, nil
}

// options returns the render options of a lesson page.
func (lr *lessonRunner) options(lang, format string, runs map[string]*lessons.Run, nav *lessons.Nav) lessons.LessonOptions {
	opt := lessons.LessonOptions{Lang: lang, Runs: runs, Nav: nav, Static: staticFormats(format, "")}
	var words []string
	if lr.f.mf.name != "" {
		words = append(words, "--model", shellQuote(lr.f.mf.name))
	}
	if lr.f.mf.revision != "" {
		words = append(words, "--revision", shellQuote(lr.f.mf.revision))
	}
	opt.ModelArgs = strings.Join(words, " ")
	return opt
}

func runLessons(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f lessonFlags
	fs := pflag.NewFlagSet("lessons", pflag.ContinueOnError)
	f.register(fs, "language: en or zh (default: the list in English; with --all both languages)")
	all := fs.Bool("all", false, "render every lesson into the folder --out (default lessons)")
	if err := parseFlags(fs, args, lessonsUsage, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("lessons: takes no arguments, got %d (render one with 'gptviz lesson N')", fs.NArg())
	}
	if f.lang != "" && f.lang != "en" && f.lang != "zh" {
		return usagef("--lang %q: want en or zh", f.lang)
	}
	ls, err := lessons.Lessons()
	if err != nil {
		return err
	}
	if !*all {
		for _, name := range []string{"out", "format", "model", "revision", "download"} {
			if fs.Changed(name) {
				return usagef("--%s: only with --all (or render one lesson with 'gptviz lesson N')", name)
			}
		}
		lang := f.lang
		if lang == "" {
			lang = "en"
		}
		var b strings.Builder
		for _, l := range ls {
			fmt.Fprintf(&b, "%3d  %-16s %s\n", l.Number, l.ID, l.Title(lang))
		}
		_, err := io.WriteString(stdout, b.String())
		return err
	}
	if err := f.validateFormat(); err != nil {
		return err
	}
	if f.out == "" {
		f.out = "lessons"
	}
	return writeSite(ctx, &f, ls, stdout, stderr)
}

// writeSite renders every lesson into the folder f.out: index.html (or
// .ipynb) and LANG/NN-ID.html for each language.
func writeSite(ctx context.Context, f *lessonFlags, ls []*lessons.Lesson, stdout, stderr io.Writer) error {
	if fi, err := os.Stat(f.out); err == nil && !fi.IsDir() {
		return usagef("--out %s: is a file; give a folder", f.out)
	}
	langs := []string{"en", "zh"}
	if f.lang != "" {
		langs = []string{f.lang}
	}
	for _, lang := range langs {
		if err := os.MkdirAll(filepath.Join(f.out, lang), 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	lr, err := f.loadRunner(ctx, stderr, ls)
	if err != nil {
		return err
	}
	ext := "." + f.format
	total, done := len(ls)*len(langs), 0
	for i, l := range ls {
		runs, err := lr.runs(ctx, l)
		if err != nil {
			return err
		}
		for _, lang := range langs {
			nav := &lessons.Nav{Index: "../index" + ext}
			if i > 0 {
				nav.Prev, nav.PrevTitle = ls[i-1].Name()+ext, fmt.Sprintf("%d. %s", ls[i-1].Number, ls[i-1].Title(lang))
			}
			if i+1 < len(ls) {
				nav.Next, nav.NextTitle = ls[i+1].Name()+ext, fmt.Sprintf("%d. %s", ls[i+1].Number, ls[i+1].Title(lang))
			}
			nb, err := l.Render(lr.options(lang, f.format, runs, nav))
			if err != nil {
				return flagError(err)
			}
			path := filepath.Join(f.out, lang, l.Name()+ext)
			if err := lr.in.check("--out", path); err != nil {
				return err
			}
			if err := writeNotebook(ctx, path, f.format, nb); err != nil {
				return err
			}
			done++
			fmt.Fprintf(stderr, "lessons: %d/%d %s\n", done, total, path)
		}
	}
	index := filepath.Join(f.out, "index"+ext)
	if err := writeNotebook(ctx, index, f.format, lessons.Index(ls, langs, ext)); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, index)
	return err
}

// measure records what s asks for beyond the report's trace (lessons 4, 6
// and 7): n-gram baselines, logit attribution and a drilled-down head,
// decoding with vs without the KV cache. The cache's timings are real: the
// only wall times a lesson shows.
func measure(ctx context.Context, m *model.Model, tr *trace.Trace, s lessons.RunSpec) error {
	ms := s.Measure()
	if ms.Baselines {
		if err := model.Baselines(m, tr, m.Name == defaultmodel.Name); err != nil {
			return err
		}
	}
	if ms.Inspect {
		l, h, q := lessons.DrillTarget(tr)
		if err := model.Inspect(m, tr, &model.DrillAt{Layer: l, Head: h, Query: q}); err != nil {
			return err
		}
	}
	if ms.Training {
		t, err := training(ctx, s)
		if err != nil {
			return err
		}
		tr.Training = t
	}
	if ms.CacheSteps > 0 {
		if err := model.MeasureCache(ctx, m, tr, ms.CacheSteps); err != nil {
			return err
		}
	}
	return nil
}

// training runs s's prompt on every shipped snapshot of the default model
// and on the final model, with the training run's loss curve and the
// n-gram baselines of its corpus (lesson 11).
func training(ctx context.Context, s lessons.RunSpec) (*trace.Training, error) {
	curve, err := defaultmodel.LossCurve()
	if err != nil {
		return nil, err
	}
	final, err := defaultmodel.Load()
	if err != nil {
		return nil, err
	}
	n, err := defaultmodel.TrainTokens()
	if err != nil {
		return nil, err
	}
	t := &trace.Training{Model: defaultmodel.Name, Config: final.Config, Curve: curve, TrainTokens: n}
	steps := defaultmodel.Snapshots()
	if n := len(curve); n > 0 && curve[n-1].Step > steps[len(steps)-1] {
		steps = append(steps, curve[n-1].Step)
	}
	for i, step := range steps {
		m := final
		if i < len(steps)-1 || step == 0 {
			if m, err = defaultmodel.LoadSnapshot(step); err != nil {
				return nil, err
			}
		}
		st, err := model.Run(ctx, m, model.RunOptions{Prompt: s.Prompt, Steps: 1, Sampling: model.SamplingParams{TopP: 1},
			Trace: model.TraceOptions{MaxAttention: defaultMaxAttention, MaxQueries: defaultMaxAttention}})
		if err != nil {
			return nil, fmt.Errorf("snapshot %d: %w", step, err)
		}
		st.ClearTimings()
		t.Snapshots = append(t.Snapshots, trace.Snapshot{Step: step, Tokens: st.Tokens[:st.PromptLen], Scores: st.Scores, Prefill: st.Steps[0], Next: st.Steps[1].Next})
		if i == len(steps)-1 {
			if err := model.Baselines(m, st, true); err != nil {
				return nil, err
			}
			t.Baselines = st.Baselines
		}
	}
	return t, nil
}
