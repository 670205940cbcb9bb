//go:build unix

package train

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
)

// TestExportNamedPipeHangs: Export read config.json, vocab.json,
// merges.txt, loss.csv and train_state.json with os.ReadFile, so a named
// pipe at any of them blocked "gptviz train --export" forever (issue 9
// item 7), and /dev/zero there read until memory ran out. Each is refused
// now, at once, naming the file.
func TestExportNamedPipeHangs(t *testing.T) {
	t.Parallel()
	good := exportSource(t)
	for _, name := range []string{arch.ConfigFile, arch.VocabFile, arch.MergesFile, CurveFile, StateFile, arch.WeightsFile} {
		t.Run(name, func(t *testing.T) {
			src := t.TempDir()
			entries, err := os.ReadDir(good)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Type().IsRegular() {
					b, err := os.ReadFile(filepath.Join(good, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(src, e.Name()), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			path := filepath.Join(src, name)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- Export(src, t.TempDir(), safetensors.F16) }()
			select {
			case err := <-done:
				var ie *inputfile.Error
				if !errors.Is(err, inputfile.ErrNotRegular) || !errors.As(err, &ie) || filepath.Base(ie.Path) != name {
					t.Errorf("Export with %s a named pipe: err = %v, want inputfile.ErrNotRegular naming it", name, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Export blocks on %s as a named pipe", name)
			}
		})
	}
}
