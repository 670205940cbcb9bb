package trace_test

import (
	"go/build"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/gptviz/gptviz/"

// imports lists the non-test imports of the module package rel ("model/trace").
func imports(t *testing.T, rel string) []string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	pkg, err := build.ImportDir(filepath.Join(root, filepath.FromSlash(rel)), 0)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return pkg.Imports
}

func isStd(path string) bool { return !strings.Contains(strings.Split(path, "/")[0], ".") }

// TestContractImports pins the package boundaries of ARCHITECTURE.md: the
// Trace contract (model/arch, model/trace) is plain data that imports only
// the standard library (and trace only arch and the standard-library-only
// internal/inputfile besides), and the packages that
// draw or narrate a Trace depend on the contract, never on the engine; the
// findings layer (lessons/findings) reads the contract and nothing else of
// the module but internal/numfmt.
func TestContractImports(t *testing.T) {
	t.Parallel()
	plain := map[string][]string{ // package → the module packages it may import
		"model/arch":         nil,
		"internal/inputfile": nil, // trace reads files through it
		"model/trace":        {"model/arch", "internal/inputfile"},
	}
	for pkg, allowed := range plain {
		for _, imp := range imports(t, pkg) {
			rel, inModule := strings.CutPrefix(imp, module)
			switch {
			case inModule && !slices.Contains(allowed, rel):
				t.Errorf("%s is plain data but imports %s", pkg, imp)
			case !inModule && !isStd(imp):
				t.Errorf("%s is plain data but imports %s, outside the standard library", pkg, imp)
			}
		}
	}
	// The findings layer reads only the Trace contract: no engine, no
	// charts, no text.
	readers := map[string][]string{
		"lessons/findings": {"model/trace", "model/arch", "internal/numfmt"},
	}
	for pkg, allowed := range readers {
		for _, imp := range imports(t, pkg) {
			rel, inModule := strings.CutPrefix(imp, module)
			switch {
			case inModule && !slices.Contains(allowed, rel):
				t.Errorf("%s reads only the Trace contract but imports %s", pkg, imp)
			case !inModule && !isStd(imp):
				t.Errorf("%s reads only the Trace contract but imports %s, outside the standard library", pkg, imp)
			}
		}
	}
	for _, pkg := range []string{"viz", "viz/viztest", "lessons", "lessons/findings", "output"} {
		for _, imp := range imports(t, pkg) {
			rel, inModule := strings.CutPrefix(imp, module)
			_, contract := plain[rel]
			if inModule && (rel == "model" || strings.HasPrefix(rel, "model/")) && !contract {
				t.Errorf("%s imports the engine package %s; it may read only the Trace contract (model/arch, model/trace)", pkg, imp)
			}
		}
	}
}
