package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
)

// TestExportRefusesHugeCurve: Export read loss.csv whole whatever its size;
// a file over MaxCurveBytes is refused before it is read, naming the
// limit. (The file is sparse: it takes no disk space.)
func TestExportRefusesHugeCurve(t *testing.T) {
	t.Parallel()
	src := exportSource(t)
	f, err := os.Create(filepath.Join(src, CurveFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxCurveBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = Export(src, t.TempDir(), safetensors.F16)
	if !errors.Is(err, inputfile.ErrTooLarge) || !strings.Contains(err.Error(), CurveFile) || !strings.Contains(err.Error(), "256 MiB") {
		t.Errorf("err = %v, want inputfile.ErrTooLarge naming %s and the 256 MiB limit", err, CurveFile)
	}
}

// exportSource trains a tiny model for 2 steps into a fresh folder, with a
// vocab.json and merges.txt beside it, and returns the folder.
func exportSource(t *testing.T) string {
	t.Helper()
	tr, err := New(tinyOptions(2), Data{Train: patternData(3000, 16), Val: patternData(100, 16)})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if _, err := Run(context.Background(), tr, RunOptions{OutDir: src}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{arch.VocabFile, arch.MergesFile} {
		if err := os.WriteFile(filepath.Join(src, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}
