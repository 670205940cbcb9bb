package output

import (
	"path/filepath"
	"testing"

	"github.com/gptviz/gptviz/internal/golden"
)

// checkGolden compares got with testdata/name.golden (see package golden:
// -update rewrites it; a mismatch writes testdata/name.golden.got).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}
