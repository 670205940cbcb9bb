package lessons

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz/viztest"
)

const front = "---\nid: t\nnumber: 1\ntitle: T\nruns: light\n---\n"

// kinds lists the kinds of a node tree, nested in brackets.
func kinds(ns []node) string {
	var b strings.Builder
	for _, n := range ns {
		b.WriteString([]string{"text", "block", "try", "question", "if"}[n.kind])
		if n.name != "" {
			b.WriteString(":" + n.name)
		}
		if len(n.body) > 0 || len(n.alt) > 0 {
			b.WriteString("[" + kinds(n.body) + "|" + kinds(n.alt) + "]")
		}
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String())
}

func TestParseSource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, want string }{
		{"text only", "Hello $x$ {{model}}.\n", "text"},
		{"chart", "a\n::chart kv-bytes\nb\n", "text block:chart text"},
		{"try", "::try\ngptviz tokens x\n::end\n", "try"},
		{"question", "::question\nQ?\n::answer\nA.\n::end\n", "question[text|text]"},
		{"if else", "::if evicted\nyes\n::else\nno\n::end\n", "if:evicted[text|text]"},
		{"if in question", "::question\n::if greedy run=light\nQ\n::end\n::answer\nA\n::end\n", "question[if:greedy[text|]|text]"},
		{"directives inside a fence are text", "```\n::chart nope\n```\n", "text"},
		{"quoted argument", "::chart kv-bytes title=\"a \\\"b\\\" c\"\n", "block:chart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := parseSource("x.md", []byte(front+tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(src.body); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if src.front.id != "t" || src.front.number != 1 || src.front.title != "T" || len(src.front.runs) != 1 {
				t.Errorf("front matter %+v", src.front)
			}
		})
	}
}

func TestParseSourceErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		line      int
		want      string
	}{
		{"no front matter", "hello\n", 1, "front-matter block"},
		{"unclosed front matter", "---\nid: t\n", 1, "not closed"},
		{"unknown key", "---\nid: t\nnumber: 1\ntitle: T\ncolour: red\n---\n", 5, `unknown key "colour"`},
		{"bad number", "---\nid: t\nnumber: x\ntitle: T\n---\n", 3, `number "x"`},
		{"missing title", "---\nid: t\nnumber: 1\n---\n", 4, "title is missing"},
		{"unknown directive", front + "text\n::nope a\n", 8, "unknown directive ::nope"},
		{"unknown value", front + "a {{nope}} b\n", 7, "unknown value {{nope}}"},
		{"unclosed value", front + "a {{model b\n", 7, "not closed with }}"},
		{"unknown fact", front + "::if nope\nx\n::end\n", 7, `unknown fact "nope"`},
		{"if without fact", front + "::if\nx\n::end\n", 7, "needs a fact"},
		{"unclosed if", front + "::if evicted\nx\n", 7, "::if is not closed"},
		{"stray end", front + "x\n::end\n", 8, "::end without a block"},
		{"question without answer", front + "::question\nQ\n::end\n", 9, "::end where ::question (opened on line 7) wants ::answer"},
		{"chart in answer", front + "::question\nQ\n::answer\n::chart kv-bytes\n::end\n", 10, "only text and ::if"},
		{"unclosed try", front + "::try\ngptviz x\n", 7, "::try is not closed"},
		{"directive in try", front + "::try\n::chart x\n::end\n", 8, "inside ::try"},
		{"empty try", front + "::try\n::end\n", 8, "empty"},
		{"unclosed quote", front + "::chart kv-bytes title=\"x\n", 7, "unclosed quote"},
		{"duplicate argument", front + "::chart kv-bytes run=a run=b\n", 7, "given twice"},
		{"unclosed fence", front + "```\ncode\n", 7, "not closed"},
		{"invalid utf-8", front + "\xff\n", 1, "UTF-8"},
		{"end with argument", front + "::if evicted\nx\n::end now\n", 9, "takes no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSource("lessons/walk/en/x.md", []byte(tc.src))
			var se *SourceError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SourceError", err)
			}
			if se.File != "lessons/walk/en/x.md" || se.Line != tc.line || !strings.Contains(se.Error(), tc.want) {
				t.Errorf("err = %q (line %d), want line %d and %q", se.Error(), se.Line, tc.line, tc.want)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	a, err := parseArgs(`kv-bytes run=light title="A \"quoted\" title" "two words"`)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Pos) != 2 || a.Pos[0] != "kv-bytes" || a.Pos[1] != "two words" || a.Named["run"] != "light" || a.Named["title"] != `A "quoted" title` {
		t.Errorf("got %+v", a)
	}
	a = a.fresh()
	a.Positional()
	a.String("run", "")
	if err := a.unused(); err == nil || !strings.Contains(err.Error(), "title=") {
		t.Errorf("unused = %v, want title= named", err)
	}
	if _, err := a.Int("run", 0); err == nil {
		t.Error("Int of a word did not fail")
	}
}

func TestMdEscape(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"</script><img src=x onerror=alert(1)>", "*a* _b_ `c` [d](e) $x$ \\ & # 1. - | ~~", "line\nbreak", "汉字 🙂"} {
		md := mdEscape(s)
		html, err := renderOne(md)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<script", "<img", "<em>", "<code>", "<a ", "<math", "<ol", "<del"} {
			if strings.Contains(html, bad) {
				t.Errorf("mdEscape(%q) renders %q", s, html)
			}
		}
	}
}

// renderOne renders markdown the way a page does.
func renderOne(md string) (string, error) {
	var b strings.Builder
	err := output.WriteHTML(&b, &output.Notebook{Cells: []output.Cell{output.MarkdownCell(md)}})
	s := b.String()
	if i := strings.Index(s, `<div class="cell cell-markdown">`); i >= 0 {
		s = s[i:]
		s = s[:strings.Index(s, "</div>")]
	}
	return s, err
}

func FuzzParseSource(f *testing.F) {
	for _, s := range []string{
		front + "a {{model}} $x$\n::chart kv-bytes\n::question\nQ\n::answer\nA\n::end\n",
		front + "::if evicted\n::try\ngptviz x\n::end\n::else\nno\n::end\n",
		"---\n---\n", front + "```\n::x\n```\n{{a b=\"c\"}}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := parseSource("f.md", []byte(s))
		if err != nil {
			var se *SourceError
			if !errors.As(err, &se) || se.File != "f.md" || se.Line < 1 {
				t.Fatalf("error %v is not a *SourceError with a line", err)
			}
			return
		}
		if !utf8.ValidString(s) {
			t.Fatal("invalid UTF-8 parsed")
		}
		// Whatever parses renders or fails with a *SourceError, on a run
		// that exists.
		l := &Lesson{ID: "f", Number: 1, Runs: src.front.runs}
		l.src = [2]*source{src, src}
		runs := map[string]*Run{}
		for _, r := range src.front.runs {
			runs[r] = &Run{Trace: fuzzTrace, Command: "gptviz report x"}
		}
		if _, err := l.Render(LessonOptions{Runs: runs}); err != nil {
			var se *SourceError
			if !errors.As(err, &se) {
				t.Fatalf("render error %v is not a *SourceError", err)
			}
		}
	})
}

var fuzzTrace = viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 16, Prompt: 5, Steps: 3, Seed: 1})

// testLessons parses lesson files given as name → source.
func testLessons(t *testing.T, files map[string]string) ([]*Lesson, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, s := range files {
		fsys["w/"+name] = &fstest.MapFile{Data: []byte(s)}
	}
	return parseLessons(fsys, "w")
}

// handRuns gives every registered run a copy of the hand-made trace tr
// whose prompt is the run's own, its bytes shared out among the prompt
// tokens (one byte each, the rest in the last), as a tokenizer would lay
// them end to end.
func handRuns(tr *trace.Trace) map[string]*Run {
	runs := map[string]*Run{}
	for name, spec := range runSpecs {
		c := *tr
		c.Tokens = slices.Clone(tr.Tokens)
		c.Prompt = spec.Prompt
		b := []byte(spec.Prompt)
		for i := range c.PromptLen {
			var text []byte
			switch {
			case i == c.PromptLen-1:
				text = b
			case len(b) > 0:
				text, b = b[:1], b[1:]
			}
			c.Tokens[i].Text = string(text)
			c.Tokens[i].Display = fmt.Sprintf("%q", text)
		}
		if spec.Continuation != "" {
			c.Continuation = handContinuation(&c, spec.Continuation)
		}
		handMeasures(&c, spec.Measure()) // lessons 4, 6, 7 (wext_test.go)
		runs[name] = &Run{Trace: &c, Command: "gptviz report --seed 7 'The prompt'"}
	}
	return runs
}

// handContinuation scores text as one token per byte, with probabilities
// 1/2, 1/3, 1/4, ….
func handContinuation(tr *trace.Trace, text string) *trace.Continuation {
	c := &trace.Continuation{Text: text}
	for i, b := range []byte(text) {
		p := 1 / float64(i+2)
		id := int(b) % tr.Model.Config.VocabSize
		c.Tokens = append(c.Tokens, trace.Token{ID: id, Text: string(b), Display: string(b)})
		c.Scores = append(c.Scores, trace.Score{Position: tr.PromptLen + i, ID: id, Prob: p, Surprisal: -math.Log2(p), Context: min(tr.PromptLen+i, tr.Model.Config.NPositions-1)})
		c.Log2Prob += math.Log2(p)
	}
	c.BitsPerToken = -c.Log2Prob / float64(len(c.Tokens))
	return c
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 16, Prompt: 5, Steps: 3, Seed: 1})
	for _, tc := range []struct {
		name, body string
		runs       map[string]*Run
		line       int
		want       string
	}{
		{"unknown chart", "x\n::chart nope\n", nil, 8, `unknown chart "nope"`},
		{"unknown argument", "::chart kv-bytes colour=red\n", nil, 7, "unknown argument colour="},
		{"extra positional", "{{model extra}}\n", nil, 7, `unexpected argument "extra"`},
		{"bad layer", "::chart attention layer=9\n", nil, 7, "layer=9 head=0: the model has layers 0..1"},
		{"bad integer", "::chart attention layer=x\n", nil, 7, "want an integer"},
		{"undeclared run", "{{model run=sample}}\n", nil, 7, `run "sample" is not among the lesson's runs`},
		{"missing run", "a\nb {{model}}\n", map[string]*Run{}, 8, `run "light" was not given`},
		{"bad formula", "a\n$\\nope$\n", nil, 8, `formula "\\nope"`},
		{"word in maths", "$x = {{model}}$\n", nil, 7, "cannot stand inside maths"},
		{"unknown table", "::table nope\n", nil, 7, `unknown table "nope"`},
		{"cmd of undeclared run", "::cmd other\n", nil, 7, `run "other" is not among`},
		{"no data", "::chart next-token run=light\n", map[string]*Run{"light": {Trace: viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, DHead: 2, NPositions: 8, Prompt: 3, Steps: 0}), Command: "x"}}, 7, "no data"},
		{"if fact error", "::if evicted run=zzz\nx\n::end\n", nil, 7, `run "zzz"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls, err := testLessons(t, map[string]string{"en/01-t.md": front + tc.body, "zh/01-t.md": front + tc.body})
			if err != nil {
				t.Fatal(err)
			}
			runs := tc.runs
			if runs == nil {
				runs = handRuns(tr)
			}
			_, err = ls[0].Render(LessonOptions{Runs: runs})
			var se *SourceError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SourceError", err)
			}
			if se.File != "lessons/w/en/01-t.md" || se.Line != tc.line || !strings.Contains(se.Error(), tc.want) {
				t.Errorf("err = %q (line %d), want line %d and %q", se.Error(), se.Line, tc.line, tc.want)
			}
		})
	}
}

func TestParseLessonsErrors(t *testing.T) {
	t.Parallel()
	other := strings.Replace(front, "runs: light", "runs: sample", 1)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing chinese", map[string]string{"en/01-t.md": front}, "zh/01-t.md:1: missing"},
		{"file name", map[string]string{"en/02-t.md": front, "zh/02-t.md": front}, "want 01-t.md"},
		{"unknown run", map[string]string{"en/01-t.md": strings.Replace(front, "light", "nope", 1)}, `run "nope" is not registered`},
		{"runs differ", map[string]string{"en/01-t.md": front, "zh/01-t.md": other}, "differs from the English"},
		{"same number", map[string]string{"en/01-t.md": front, "zh/01-t.md": front,
			"en/01-u.md": strings.Replace(front, "id: t", "id: u", 1), "zh/01-u.md": strings.Replace(front, "id: t", "id: u", 1)}, "also used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := testLessons(t, tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTryInsertsModel(t *testing.T) {
	t.Parallel()
	body := "::try\ngptviz report --steps 4 \"x\"\n# a comment\ngptviz tokens\n::end\n"
	ls, err := testLessons(t, map[string]string{"en/01-t.md": front + body, "zh/01-t.md": front + body})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := ls[0].Render(LessonOptions{Runs: handRuns(fuzzTrace), ModelArgs: "--model gpt2"})
	if err != nil {
		t.Fatal(err)
	}
	want := "gptviz report --model gpt2 --steps 4 \"x\"\n# a comment\ngptviz tokens --model gpt2"
	if got := nb.Cells[0].Source; got != want {
		t.Errorf("try cell\n%s\nwant\n%s", got, want)
	}
}

func TestQuestionsFoldAnswers(t *testing.T) {
	t.Parallel()
	body := "Intro.\n::question\nWhy {{n-layer}}?\n::answer\nBecause.\n::if evicted\nEvicted.\n::else\nKept.\n::end\n::end\n"
	ls, err := testLessons(t, map[string]string{"en/01-t.md": front + body, "zh/01-t.md": front + body})
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "zh"} {
		nb, err := ls[0].Render(LessonOptions{Lang: lang, Runs: handRuns(fuzzTrace)})
		if err != nil {
			t.Fatal(err)
		}
		if len(nb.Cells) != 3 || nb.Cells[2].Summary == "" {
			t.Fatalf("cells %+v", nb.Cells)
		}
		if q := nb.Cells[1].Source; !strings.HasSuffix(q, " 1.** Why 2?") {
			t.Errorf("question %q", q)
		}
		evicted := len(fuzzTrace.Evictions) > 0
		if a := nb.Cells[2].Source; a != "Because.\n\nKept." && !evicted || evicted && a != "Because.\n\nEvicted." {
			t.Errorf("answer %q (evicted %v)", a, evicted)
		}
	}
}
