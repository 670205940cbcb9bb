package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

// rerun holds the validated settings that a command line reproduces: the
// run (model, prompt, sampling) and, for a report, how it is shown. It is the
// one place that turns settings back into gptviz's flags; reports, traces
// and notebooks get its command lines as data.
type rerun struct {
	model, revision string // --model ("" is the embedded default), --revision
	prompt          string
	steps           int
	sampling        model.SamplingParams
	seed            uint64
	maxAttention    int    // --max-attention; 0 leaves it out (the default)
	reproducible    bool   // --reproducible (report, generate)
	overflow        string // --overflow (model.Overflow); "" leaves it out
	continuation    string // --continuation; "" leaves it out
	// What each step's KV-cache writes record (report, generate): kvRows
	// in model.TraceOptions.KVRows' words, 0 leaving --kv-rows out (the
	// default) and a negative value writing --kv-rows 0; kvFocus nil
	// leaves --kv-focus out.
	kvRows  int
	kvFocus []int
	// lensPositions is --lens-positions; 0 leaves it out (the default).
	lensPositions int

	// How the report is shown; the zero values leave the flags out.
	lang, format         string // --lang other than en, --format other than html
	layers, heads, focus []int
}

// rerunOfTrace returns the settings that reproduce a saved trace's run,
// after checking them (a crafted trace may hold anything): the steps and
// sampling settings must be valid (a *model.ParamError in the trace's own
// field names otherwise). The trace's own command line is ignored.
func rerunOfTrace(tr *trace.Trace) (rerun, error) {
	s := tr.Settings
	p := model.SamplingParams{Temperature: s.Temperature, TopK: s.TopK, TopP: s.TopP}
	if s.Steps < 0 {
		return rerun{}, &model.ParamError{Param: "steps", Value: s.Steps, Problem: "must be ≥ 0"}
	}
	if err := p.Validate(); err != nil {
		return rerun{}, err
	}
	r := rerun{model: tr.Model.Name, prompt: tr.Prompt, steps: s.Steps, sampling: p, seed: s.Seed, overflow: tr.OverflowOf(),
		reproducible: timingsOmitted(tr)}
	if err := model.Overflow(r.overflow).Validate(); err != nil {
		return rerun{}, err
	}
	if tr.Continuation != nil {
		r.continuation = tr.Continuation.Text
	}
	if r.model == defaultmodel.Name || r.model == "default" {
		r.model = ""
	}
	return r, nil
}

// args returns the arguments of gptviz subcommand sub ("report",
// "generate" or "tokens") that reproduce r, without the program name.
// Sampling settings are always written out, so that the line does not
// depend on the defaults of a later version.
func (r rerun) args(sub string) []string {
	a := []string{sub}
	if r.model != "" {
		a = append(a, "--model", r.model)
	}
	if r.revision != "" {
		a = append(a, "--revision", r.revision)
	}
	if sub != "tokens" {
		a = append(a,
			"--steps", strconv.Itoa(r.steps),
			"--temperature", strconv.FormatFloat(r.sampling.Temperature, 'g', -1, 64),
			"--top-k", strconv.Itoa(r.sampling.TopK),
			"--top-p", strconv.FormatFloat(r.sampling.TopP, 'g', -1, 64),
			"--seed", strconv.FormatUint(r.seed, 10))
		if r.reproducible {
			a = append(a, "--reproducible")
		}
		if r.overflow != "" {
			a = append(a, "--overflow", r.overflow)
		}
		if r.continuation != "" {
			a = append(a, "--continuation="+r.continuation) // one word, even when it starts with -
		}
		a = append(a, r.kvArgs()...)
	}
	if sub == "report" {
		if r.maxAttention > 0 {
			a = append(a, "--max-attention", strconv.Itoa(r.maxAttention))
		}
		if r.lang != "" && r.lang != "en" {
			a = append(a, "--lang", r.lang)
		}
		if r.format != "" && r.format != "html" {
			a = append(a, "--format", r.format)
		}
		for _, f := range []struct {
			name string
			v    []int
		}{{"--layers", r.layers}, {"--heads", r.heads}, {"--focus", r.focus}} {
			if len(f.v) > 0 {
				a = append(a, f.name, joinInts(f.v))
			}
		}
	}
	if strings.HasPrefix(r.prompt, "-") {
		a = append(a, "--") // a prompt such as "-1" is not a flag
	}
	return append(a, r.prompt)
}

// command returns the one-line shell command of subcommand sub that
// reproduces r: "gptviz " and r.args(sub), each argument shell-quoted.
func (r rerun) command(sub string) string {
	return shellLine(r.args(sub))
}

// compareArgs returns the arguments of gptviz compare that reproduce a
// comparison of r's model, prompt and steps with the given sampling specs
// and seeds, and r's language and format (left out when en and html),
// without the program name. Every spec and the seeds are written out, so
// the line does not depend on compare's defaults; r's sampling and seed are
// not used.
func (r rerun) compareArgs(specs []string, seeds []uint64) []string {
	a := []string{"compare"}
	if r.model != "" {
		a = append(a, "--model", r.model)
	}
	if r.revision != "" {
		a = append(a, "--revision", r.revision)
	}
	a = append(a, "--steps", strconv.Itoa(r.steps), "--seeds", joinSeeds(seeds))
	for _, s := range specs {
		a = append(a, "--sample", s)
	}
	if r.lang != "" && r.lang != "en" {
		a = append(a, "--lang", r.lang)
	}
	if r.format != "" && r.format != "html" {
		a = append(a, "--format", r.format)
	}
	if strings.HasPrefix(r.prompt, "-") {
		a = append(a, "--")
	}
	return append(a, r.prompt)
}

func joinSeeds(seeds []uint64) string {
	s := make([]string, len(seeds))
	for i, x := range seeds {
		s[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(s, ",")
}

// shellLine joins "gptviz" and args into one shell command line, each
// argument shell-quoted.
func shellLine(args []string) string {
	parts := []string{"gptviz"}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// commands returns the command lines a report of r shows.
func (r rerun) commands(reconstructed bool) lessons.Commands {
	return lessons.Commands{Rerun: r.command("report"), Reconstructed: reconstructed, Tokens: r.command("tokens")}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// shellQuote quotes s as one word of a shell command, always on one line:
//
//   - as is when s is not empty and holds only characters that no shell
//     treats specially (ASCII letters and digits, and - _ . / : , + @ %);
//   - in single quotes when every character is printable (a quote inside is
//     closed, escaped and reopened);
//   - otherwise in ANSI-C quotes $'…' (bash, zsh, ksh, busybox sh;
//     POSIX.1-2024), where \n, \t and \r stand for themselves and every other
//     byte of a control character, an invisible format character (such as
//     a bidirectional override), a line or paragraph separator or invalid
//     UTF-8 is written \xHH, so the line shows exactly what runs and
//     nothing in s can start a new command or disguise one.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:,+@%", r))
	}) < 0 {
		return s
	}
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && size == 1, !unicode.IsPrint(r):
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}

// flagFor maps the parameter and option names of the libraries
// (model.ParamError, lessons.OptionError) to the flags that set them: the
// one table where library words become the CLI's.
var flagFor = map[string]string{
	"steps":        "--steps",
	"temperature":  "--temperature",
	"top_k":        "--top-k",
	"top_p":        "--top-p",
	"lang":         "--lang",
	"layers":       "--layers",
	"heads":        "--heads",
	"focus":        "--focus",
	"overflow":     "--overflow",
	"continuation": "--continuation",
	"kv_focus":     "--kv-focus",
}

// flagError returns err as a usage error in the CLI's words when it is a
// library's error about a setting that a flag sets (see flagFor), and err
// unchanged otherwise.
func flagError(err error) error {
	var pe *model.ParamError
	if errors.As(err, &pe) {
		if f, ok := flagFor[pe.Param]; ok {
			return usagef("%s %v: %s", f, pe.Value, pe.Problem)
		}
	}
	var oe *lessons.OptionError
	if errors.As(err, &oe) {
		if f, ok := flagFor[oe.Option]; ok {
			return usagef("%s %s: %s", f, oe.Value, oe.Problem)
		}
	}
	return err
}
