package lessons

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

// The lesson walkthroughs (issue 10): markdown files per lesson and
// language under walk/LANG/NN-ID.md, with the directive syntax documented
// in walk/README.md. Directives, values and facts are Go functions in
// three registries (blocks, values, facts) that any file of this package
// adds to in an init function; the runs a lesson needs are RunSpecs,
// registered the same way (registerRun), which the CLI executes with the
// engine — this package never imports it.

//go:embed walk
var walkFS embed.FS

// RunSpec is a run a lesson needs, as plain data: the CLI runs it on the
// chosen model (gptviz report's settings) and passes the Trace back in a
// [Run]. Lessons refer to it by Name.
type RunSpec struct {
	Name   string // lower-case letters, digits and -
	Prompt string
	Steps  int // decode steps
	// Temperature (0: greedy), TopK (0: off) and TopP (1: off) are the
	// sampling settings, applied in that order; Seed seeds the sampler.
	Temperature float64
	TopK        int
	TopP        float64
	Seed        uint64
	// Continuation, if set, is scored after the prompt under teacher
	// forcing (Trace.Continuation).
	Continuation string
}

// runSpecs are the registered runs by name.
var runSpecs = map[string]RunSpec{}

// registerRun adds s to the runs lessons may name. Called from init
// functions; a name registered twice is a programming error and panics at
// start-up (TestLessonsParse runs it).
func registerRun(s RunSpec) {
	if _, dup := runSpecs[s.Name]; dup || !validName(s.Name) {
		panic("lessons: run " + strconv.Quote(s.Name) + " registered twice or badly named")
	}
	runSpecs[s.Name] = s
}

// Run is a RunSpec after the CLI ran it: its Trace and the exact gptviz
// command that reproduces it (a report of the same run), shown by ::cmd.
type Run struct {
	Trace   *trace.Trace
	Command string
}

// Lesson is one embedded walkthrough, in English and Chinese.
type Lesson struct {
	ID     string   // e.g. "working-memory"
	Number int      // 1…
	Runs   []string // names of the RunSpecs it needs, in order; the first is the default run of its directives
	src    [2]*source
}

// Title returns the lesson's title in lang ("en" or "zh").
func (l *Lesson) Title(lang string) string { return l.src[langIndex(lang)].front.title }

// Name returns the lesson's base file name, e.g. "01-working-memory".
func (l *Lesson) Name() string { return fmt.Sprintf("%02d-%s", l.Number, l.ID) }

// Specs returns the RunSpecs the lesson needs, in order.
func (l *Lesson) Specs() []RunSpec {
	out := make([]RunSpec, len(l.Runs))
	for i, r := range l.Runs {
		out[i] = runSpecs[r]
	}
	return out
}

func langIndex(lang string) int {
	if i18n.ParseLang(lang) == i18n.Chinese {
		return 1
	}
	return 0
}

// Lessons returns every embedded lesson, by number. It returns the first
// error of a lesson file (a *SourceError naming file and line): a syntax
// error, an unknown directive, value or fact, a run that is not
// registered, an English and Chinese file that disagree on id, number or
// runs, or two lessons with the same number or id. The embedded files are
// checked by the tests, so a built gptviz has none.
func Lessons() ([]*Lesson, error) { return loadLessons() }

var loadLessons = sync.OnceValues(func() ([]*Lesson, error) { return parseLessons(walkFS, "walk") })

// parseLessons reads the lessons of dir in fsys: dir/en/*.md and
// dir/zh/*.md.
func parseLessons(fsys fs.FS, dir string) ([]*Lesson, error) {
	byName := map[string]*Lesson{}
	for li, lang := range []string{"en", "zh"} {
		names, err := fs.Glob(fsys, path.Join(dir, lang, "*.md"))
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			l, err := parseLessonFile(fsys, name, byName, li)
			if err != nil {
				return nil, err
			}
			byName[path.Base(name)] = l
		}
	}
	var out []*Lesson
	for name, l := range byName {
		for li, lang := range []string{"en", "zh"} {
			if l.src[li] == nil {
				return nil, &SourceError{"lessons/" + path.Join(dir, lang, name), 1, errors.New("missing: every lesson has an English and a Chinese file of the same name")}
			}
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *Lesson) int { return a.Number - b.Number })
	for i := 1; i < len(out); i++ {
		if out[i].Number == out[i-1].Number || out[i].ID == out[i-1].ID {
			return nil, &SourceError{out[i].src[0].file, 1, fmt.Errorf("lesson number %d or id %q is also used by %s", out[i].Number, out[i].ID, out[i-1].src[0].file)}
		}
	}
	return out, nil
}

// parseLessonFile parses one file and joins it to the lesson of the same
// name in the other language, if already read.
func parseLessonFile(fsys fs.FS, name string, byName map[string]*Lesson, li int) (*Lesson, error) {
	file := "lessons/" + name
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	src, err := parseSource(file, data)
	if err != nil {
		return nil, err
	}
	f := src.front
	if want := fmt.Sprintf("%02d-%s.md", f.number, f.id); path.Base(name) != want {
		return nil, &SourceError{file, 1, fmt.Errorf("file name: want %s for number %d and id %s", want, f.number, f.id)}
	}
	for _, r := range f.runs {
		if _, ok := runSpecs[r]; !ok {
			return nil, &SourceError{file, 1, fmt.Errorf("run %q is not registered (registerRun; known: %s)", r, strings.Join(sortedKeys(runSpecs), ", "))}
		}
	}
	l := byName[path.Base(name)]
	if l == nil {
		l = &Lesson{ID: f.id, Number: f.number, Runs: f.runs}
	} else if l.ID != f.id || l.Number != f.number || !slices.Equal(l.Runs, f.runs) {
		return nil, &SourceError{file, 1, fmt.Errorf("front matter differs from the English file's (id, number and runs must be equal)")}
	}
	l.src[li] = src
	return l, nil
}

// Find returns the lesson named key: its number ("3" or "03") or its id
// ("probability"). It returns an error listing the lessons for any other
// key.
func Find(key string) (*Lesson, error) {
	ls, err := Lessons()
	if err != nil {
		return nil, err
	}
	n, numErr := strconv.Atoi(key)
	var names []string
	for _, l := range ls {
		if l.ID == key || numErr == nil && l.Number == n {
			return l, nil
		}
		names = append(names, fmt.Sprintf("%d %s", l.Number, l.ID))
	}
	return nil, fmt.Errorf("no lesson %q (the lessons are %s)", key, strings.Join(names, ", "))
}

// Nav are the links of a page in the lessons site (relative addresses);
// empty ones are left out.
type Nav struct {
	Index                string
	Prev, Next           string
	PrevTitle, NextTitle string
}

// LessonOptions say how to render a lesson.
type LessonOptions struct {
	// Lang is "en" (also when empty) or "zh".
	Lang string
	// Runs hold the lesson's runs by RunSpec name; each it names must be
	// there.
	Runs map[string]*Run
	// Static lists static renderings to embed in every chart ("svg",
	// "png"), as ReportOptions.Static; nil embeds none.
	Static []string
	// ModelArgs are the shell words that choose the model the runs used
	// (e.g. "--model gpt2", quoted by the CLI; "" for the default model).
	// They are inserted into every try-it-yourself command line that
	// starts with "gptviz COMMAND", after COMMAND.
	ModelArgs string
	// Nav, if set, adds links to the index and the previous and next
	// lessons at the top and bottom of the page.
	Nav *Nav
}

// Env is what a directive sees: the lesson's language and runs. Directives
// read their arguments from Args and return cells, text or a fact.
//
// Findings: package lessons/findings (issue 10) will turn each run's Trace
// into facts with the numbers that decided them; Env will then offer them
// (e.g. a Findings(run) method) to values and facts. Until then values and
// facts compute from the Trace.
type Env struct {
	// Lang is "en" or "zh".
	Lang   string
	lesson *Lesson
	opt    LessonOptions
	ids    map[string]int // chart ids used so far
	cells  []output.Cell
	nq     int // questions so far
}

// T returns en or zh, whichever is the lesson's language.
func (e *Env) T(en, zh string) string {
	if e.Lang == "zh" {
		return zh
	}
	return en
}

// Run returns the run named by the argument run= (default: the lesson's
// first run), or an error when the lesson does not declare it or it was not
// given.
func (e *Env) Run(a *Args) (*Run, error) {
	def := ""
	if len(e.lesson.Runs) > 0 {
		def = e.lesson.Runs[0]
	}
	name := a.String("run", def)
	if name == "" {
		return nil, errors.New("the lesson declares no runs (front matter runs:)")
	}
	if !slices.Contains(e.lesson.Runs, name) {
		return nil, fmt.Errorf("run %q is not among the lesson's runs (%s)", name, strings.Join(e.lesson.Runs, ", "))
	}
	r := e.opt.Runs[name]
	if r == nil || r.Trace == nil {
		return nil, fmt.Errorf("run %q was not given", name)
	}
	return r, nil
}

// vl is the chart language option.
func (e *Env) vl() viz.Option { return viz.Lang(e.Lang) }

// Chart returns the cells of chart c (from a viz function that returned
// err) with the caption title: the chart, its static renderings if asked
// for, and a note for what it summarised. A chart id used before in the
// page gets a suffix. A chart without data is an error: a lesson shows
// only charts that apply to its runs.
func (e *Env) Chart(c *viz.Chart, err error, title string) ([]output.Cell, error) {
	if err != nil {
		return nil, err
	}
	id := c.ID
	if n := e.ids[c.ID]; n > 0 {
		id = fmt.Sprintf("%s-%d", c.ID, n+1)
	}
	e.ids[c.ID]++
	oc := &output.Chart{ID: id, Title: title, Option: c.Option, Height: c.Height}
	for _, f := range e.opt.Static {
		var buf strings.Builder
		if err := c.Static(&buf, f); err != nil {
			return nil, err
		}
		if f == "svg" {
			oc.SVG = []byte(buf.String())
		} else {
			oc.PNG = []byte(buf.String())
		}
	}
	cells := []output.Cell{output.ChartCell(oc)}
	for _, n := range c.Notes {
		cells = append(cells, output.NoteCell(n))
	}
	return cells, nil
}

// Render builds the lesson's notebook in opt.Lang from its runs. It
// returns an *OptionError for an unknown language or static format, and a
// *SourceError naming the lesson file and line for a directive that fails:
// a missing run, a bad argument, a value that does not apply to the run
// (a position past the prompt, a chart without data), a formula outside
// the supported TeX.
func (l *Lesson) Render(opt LessonOptions) (*output.Notebook, error) {
	if err := checkLangStatic(opt.Lang, opt.Static); err != nil {
		return nil, err
	}
	if err := checkLine("model args", opt.ModelArgs); err != nil {
		return nil, err
	}
	lang := pageLang(opt.Lang)
	for _, name := range l.Runs {
		r := opt.Runs[name]
		if r == nil || r.Trace == nil {
			continue // an error where a directive needs it
		}
		if err := r.Trace.Validate(); err != nil {
			return nil, fmt.Errorf("lesson %s: run %s: invalid trace: %w", l.ID, name, err)
		}
		if err := checkLine("commands", r.Command); err != nil {
			return nil, err
		}
	}
	src := l.src[langIndex(lang)]
	e := &Env{Lang: lang, lesson: l, opt: opt, ids: map[string]int{}}
	nb := &output.Notebook{Title: fmt.Sprintf("%d. %s", l.Number, src.front.title), Lang: lang,
		Meta: map[string]string{"lesson": l.Name()}}
	if len(l.Runs) > 0 {
		if r := opt.Runs[l.Runs[0]]; r != nil && r.Trace != nil {
			setRunMeta(nb.Meta, r.Trace)
		}
	}
	e.nav()
	if err := e.render(src, src.body); err != nil {
		return nil, err
	}
	e.nav()
	nb.Cells = e.cells
	return nb, nil
}

// nav adds the site links, if any.
func (e *Env) nav() {
	n := e.opt.Nav
	if n == nil {
		return
	}
	var parts []string
	if n.Prev != "" {
		parts = append(parts, "["+mdEscape("← "+n.PrevTitle)+"]("+n.Prev+")")
	}
	if n.Index != "" {
		parts = append(parts, "["+e.T("All lessons", "全部课程")+"]("+n.Index+")")
	}
	if n.Next != "" {
		parts = append(parts, "["+mdEscape(n.NextTitle+" →")+"]("+n.Next+")")
	}
	if len(parts) > 0 {
		e.cells = append(e.cells, output.MarkdownCell(strings.Join(parts, " · ")))
	}
}

// add appends cells, joining a markdown cell to a markdown cell before it.
func (e *Env) add(cells ...output.Cell) {
	for _, c := range cells {
		if n := len(e.cells); n > 0 && c.Kind == output.KindMarkdown && c.Summary == "" {
			last := &e.cells[n-1]
			if last.Kind == output.KindMarkdown && last.Summary == "" {
				last.Source += "\n\n" + c.Source
				continue
			}
		}
		e.cells = append(e.cells, c)
	}
}

// render renders nodes into e.cells.
func (e *Env) render(src *source, ns []node) error {
	for _, n := range ns {
		if err := e.renderNode(src, n); err != nil {
			var se *SourceError
			if errors.As(err, &se) {
				return err
			}
			return &SourceError{src.file, n.line, err}
		}
	}
	return nil
}

func (e *Env) renderNode(src *source, n node) error {
	switch n.kind {
	case nodeText:
		md, err := e.markdown(src, n)
		if err != nil {
			return err
		}
		if strings.TrimSpace(md) != "" {
			e.add(output.MarkdownCell(strings.TrimSpace(md)))
		}
	case nodeBlock:
		args := n.args.fresh()
		cells, err := blocks[n.name](e, args)
		if err != nil {
			return fmt.Errorf("::%s: %w", n.name, err)
		}
		if err := args.unused(); err != nil {
			return fmt.Errorf("::%s: %w", n.name, err)
		}
		e.add(cells...)
	case nodeTry:
		return e.try(src, n)
	case nodeQuestion:
		return e.question(src, n)
	case nodeIf:
		args := n.args.fresh()
		ok, err := facts[n.name](e, args)
		if err != nil {
			return fmt.Errorf("::if %s: %w", n.name, err)
		}
		if err := args.unused(); err != nil {
			return fmt.Errorf("::if %s: %w", n.name, err)
		}
		if ok {
			return e.render(src, n.body)
		}
		return e.render(src, n.alt)
	}
	return nil
}

// markdown expands the values of a text node, escaped for markdown, and
// checks its formulas.
func (e *Env) markdown(src *source, n node) (string, error) {
	lines := strings.Split(n.text, "\n")
	fence := ""
	for i, line := range lines {
		// Values inside code fences are code: not escaped.
		if f := fenceOf(line); f != "" && (fence == "" || strings.HasPrefix(strings.TrimSpace(line), fence)) {
			if fence == "" {
				fence = f
			} else {
				fence = ""
			}
		}
		fenced := fence != ""
		out, err := expandValues(line, fenced, func(name string, args *Args, inMath bool) (string, error) {
			v, err := e.value(name, args)
			if err != nil {
				return "", err
			}
			if inMath {
				if !mathSafe(v) {
					return "", fmt.Errorf("{{%s}} = %q cannot stand inside maths (only numbers may)", name, v)
				}
				return v, nil
			}
			return mdEscape(v), nil
		})
		if err != nil {
			return "", &SourceError{src.file, n.line + i, err}
		}
		lines[i] = out
	}
	md := strings.Join(lines, "\n")
	for _, f := range output.Formulas(md) {
		if _, err := output.MathML(f.TeX, f.Display); err != nil {
			return "", &SourceError{src.file, n.line + lineOf(md, f.TeX), fmt.Errorf("formula %q: %w", f.TeX, err)}
		}
	}
	return md, nil
}

// lineOf returns the 0-based line of md where s first occurs.
func lineOf(md, s string) int {
	i := strings.Index(md, s)
	if i < 0 {
		return 0
	}
	return strings.Count(md[:i], "\n")
}

// value evaluates {{name args}} to plain text.
func (e *Env) value(name string, args *Args) (string, error) {
	a := args.fresh()
	v, err := values[name](e, a)
	if err != nil {
		return "", fmt.Errorf("{{%s}}: %w", name, err)
	}
	if err := a.unused(); err != nil {
		return "", fmt.Errorf("{{%s}}: %w", name, err)
	}
	return v, nil
}

// mathSafe reports whether a value may stand inside a formula: a number,
// possibly with a sign, decimal point, exponent or separators.
func mathSafe(v string) bool {
	return v != "" && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= '0' && r <= '9' || strings.ContainsRune(".,+-−eE ×", r))
	}) < 0
}

// mdEscape returns plain text s as markdown that shows it verbatim: every
// ASCII punctuation character backslash-escaped (CommonMark allows a
// backslash before any of them, and Jupyter's maths then finds no $), line
// breaks and other control characters as spaces.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r < 0x80 && unicode.IsPunct(r) || r < 0x80 && unicode.IsSymbol(r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// try adds a try-it-yourself block: its commands as a shell code cell,
// with the lesson's model inserted into each gptviz command.
func (e *Env) try(src *source, n node) error {
	lines := strings.Split(n.text, "\n")
	for i, line := range lines {
		out, err := expandValues(line, true, func(name string, args *Args, _ bool) (string, error) {
			v, err := e.value(name, args)
			if strings.ContainsFunc(v, unicode.IsControl) {
				return "", fmt.Errorf("{{%s}}: a command line value holds a control character", name)
			}
			return v, err
		})
		if err != nil {
			return &SourceError{src.file, n.line + 1 + i, err}
		}
		lines[i] = e.withModel(out)
	}
	e.add(output.CodeCell("shell", strings.Join(lines, "\n")))
	return nil
}

// withModel inserts opt.ModelArgs after "gptviz COMMAND" at the start of
// line.
func (e *Env) withModel(line string) string {
	if e.opt.ModelArgs == "" || !strings.HasPrefix(line, "gptviz ") {
		return line
	}
	rest := line[len("gptviz "):]
	cmd, after, _ := strings.Cut(rest, " ")
	if cmd == "" || strings.HasPrefix(cmd, "-") {
		return line
	}
	return "gptviz " + cmd + " " + e.opt.ModelArgs + strings.TrimRight(" "+after, " ")
}

// question adds a numbered question and its folded answer.
func (e *Env) question(src *source, n node) error {
	e.nq++
	body, err := e.renderApart(src, n.body)
	if err != nil {
		return err
	}
	label := "**" + e.T("Question ", "问题 ") + strconv.Itoa(e.nq) + ".** "
	if len(body) > 0 && body[0].Kind == output.KindMarkdown {
		body[0].Source = label + body[0].Source
	} else {
		body = slices.Insert(body, 0, output.MarkdownCell(label))
	}
	answer, err := e.renderApart(src, n.alt) // only markdown: the parser checked
	if err != nil {
		return err
	}
	var md []string
	for _, c := range answer {
		md = append(md, c.Source)
	}
	e.cells = append(e.cells, body...)
	e.cells = append(e.cells, output.FoldedCell(e.T("Answer", "答案"), strings.Join(md, "\n\n")))
	return nil
}

// renderApart renders nodes into a list of their own.
func (e *Env) renderApart(src *source, ns []node) ([]output.Cell, error) {
	saved := e.cells
	e.cells = nil
	err := e.render(src, ns)
	out := e.cells
	e.cells = saved
	return out, err
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Index returns the index page of a lessons site: for each language in
// langs ("en", "zh"), the list of ls linked to LANG/NN-ID+ext.
func Index(ls []*Lesson, langs []string, ext string) *output.Notebook {
	nb := &output.Notebook{Title: "gptviz: lessons · 课程", Lang: langs[0], Meta: map[string]string{"generator": "gptviz"}}
	intro := map[string]string{
		"en": "## Lessons in English\n\nGPT's working memory, taught on live runs of a real model. Every number on these pages was computed from the runs.",
		"zh": "## 中文课程\n\n在真实模型的实时运行上讲解 GPT 的工作记忆。页面上的每个数字都来自这些运行。",
	}
	for _, lang := range langs {
		var b strings.Builder
		b.WriteString(intro[lang] + "\n\n")
		for _, l := range ls {
			fmt.Fprintf(&b, "- [%s](%s/%s%s)\n", mdEscape(fmt.Sprintf("%d. %s", l.Number, l.Title(lang))), lang, l.Name(), ext)
		}
		nb.Cells = append(nb.Cells, output.MarkdownCell(b.String()))
	}
	return nb
}
