package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gptviz/gptviz/internal/testref"
)

// jupyterNBConvert returns the jupyter command when jupyter nbconvert and a
// python3 kernel (Debian: jupyter-nbconvert, python3-ipykernel) are
// installed. Without them the test is skipped, except under CI (CI=true),
// where it fails: .ci/run installs them.
func jupyterNBConvert(t *testing.T) string {
	t.Helper()
	missing := func(why string) string {
		if testref.CI() {
			t.Fatalf("jupyter: %s under CI=true (apt-get install jupyter-nbconvert python3-ipykernel)", why)
		}
		t.Skipf("jupyter: %s; install jupyter-nbconvert and python3-ipykernel to run this test", why)
		return ""
	}
	jupyter, err := exec.LookPath("jupyter")
	if err != nil {
		return missing("no jupyter command")
	}
	if err := exec.Command(jupyter, "nbconvert", "--version").Run(); err != nil {
		return missing("jupyter nbconvert does not run: " + err.Error())
	}
	// Jupyter finds kernels under kernels/NAME/kernel.json in its data
	// folders (Debian's python3-ipykernel: /usr/share/jupyter/kernels).
	out, err := exec.Command(jupyter, "--paths", "--json").Output()
	var paths struct{ Data []string }
	if err != nil || json.Unmarshal(out, &paths) != nil {
		return missing("jupyter --paths does not run")
	}
	for _, d := range paths.Data {
		if _, err := os.Stat(filepath.Join(d, "kernels", "python3", "kernel.json")); err == nil {
			return jupyter
		}
	}
	return missing("no python3 kernel (ipykernel) in " + strings.Join(paths.Data, ", "))
}

// normalCells decodes a notebook's cells with every multi-line string
// (nbformat stores them as a string or a list of lines, and Jupyter may
// rewrite one as the other) joined into one string.
func normalCells(t *testing.T, path string) []any {
	t.Helper()
	var doc struct {
		Cells []any `json:"cells"`
	}
	if err := json.Unmarshal(must(os.ReadFile(path)), &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var join func(v any) any
	join = func(v any) any {
		switch x := v.(type) {
		case []any:
			s := make([]string, 0, len(x))
			for _, e := range x {
				str, ok := e.(string)
				if !ok {
					for i := range x {
						x[i] = join(x[i])
					}
					return x
				}
				s = append(s, str)
			}
			return strings.Join(s, "")
		case map[string]any:
			for k := range x {
				x[k] = join(x[k])
			}
		}
		return v
	}
	for i := range doc.Cells {
		doc.Cells[i] = join(doc.Cells[i])
	}
	return doc.Cells
}

// TestIPYNBRunAllKeepsOutputs: a report notebook's first code cell held
// shell text with no kernel to run it, so "Run All" in Jupyter (tried with
// jupyter nbconvert --execute) stopped with a SyntaxError and could wipe
// the embedded outputs. The real client now runs the whole notebook without
// error and every cell, with its charts and tables, comes back unchanged.
func TestIPYNBRunAllKeepsOutputs(t *testing.T) {
	t.Parallel()
	jupyter := jupyterNBConvert(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "report.ipynb")
	if _, stderr, code := gptviz(t, "report", "--steps", "3", "--format", "ipynb", "-o", in, adversarialPrompt+" $x^2$ \\alpha"); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "notebook", "--execute", "--output", "executed.ipynb", in)
	cmd.Env = append(os.Environ(), "JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"), "PYDEVD_DISABLE_FILE_VALIDATION=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jupyter nbconvert --execute: %v\n%s", err, out)
	}
	before, after := normalCells(t, in), normalCells(t, filepath.Join(dir, "executed.ipynb"))
	images := 0
	for _, c := range before {
		if a, ok := c.(map[string]any)["attachments"].(map[string]any); ok {
			images += len(a)
		}
	}
	if images < 5 {
		t.Errorf("the report notebook holds %d chart images; want the charts as attachments", images)
	}
	if len(before) != len(after) {
		t.Fatalf("%d cells before Run All, %d after", len(before), len(after))
	}
	for i := range before {
		if !reflect.DeepEqual(before[i], after[i]) {
			b, _ := json.Marshal(before[i])
			a, _ := json.Marshal(after[i])
			t.Errorf("cell %d changed by Run All:\nbefore %.300s\nafter  %.300s", i, b, a)
		}
	}
}
