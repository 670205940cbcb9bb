// Package i18ntest checks an i18n.Table from a package's tests.
package i18ntest

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gptviz/gptviz/internal/i18n"
)

// Check fails t for every problem table.Check finds and for every key the
// package's source uses that the table lacks: use matches a use of a key in
// the files matching the globs (relative to the test's package folder), its
// first group being the key, such as `\.t\("([a-z.]+)"`.
func Check(t testing.TB, table i18n.Table, use *regexp.Regexp, globs ...string) {
	t.Helper()
	if err := table.Check(); err != nil {
		t.Error(err)
	}
	n := 0
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range use.FindAllSubmatch(src, -1) {
				n++
				if _, ok := table[string(m[1])]; !ok {
					t.Errorf("%s uses the missing text %q", f, m[1])
				}
			}
		}
	}
	if n == 0 {
		t.Errorf("no use of a text matches %s in %q: the pattern is stale", use, globs)
	}
}
