package lessons

import (
	"testing"

	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/output"
)

// TestTextFormulas: every formula in the lessons' texts, English and
// Chinese, is in the TeX subset the pages render (output.MathML), so no
// page falls back to showing a formula's source.
func TestTextFormulas(t *testing.T) {
	n := 0
	for name, table := range map[string]i18n.Table{"texts": texts, "compareTexts": compareTexts, "pgTexts": pgTexts} {
		for key, tx := range table {
			for _, s := range tx {
				for _, f := range output.Formulas(s) {
					n++
					if _, err := output.MathML(f.TeX, f.Display); err != nil {
						t.Errorf("%s[%q]: %v", name, key, err)
					}
				}
			}
		}
	}
	if n == 0 {
		t.Error("no formula found: the check is stale")
	}
}
