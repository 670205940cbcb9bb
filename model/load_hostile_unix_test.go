//go:build unix

package model

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/safetensors"
)

// TestLoadFIFOAndDevZero: a named pipe or /dev/zero in place of a checkpoint
// file used to block Load forever (a FIFO with no writer) or read until
// memory ran out (/dev/zero). Each is refused at once, naming the file.
func TestLoadFIFOAndDevZero(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt", "model.safetensors.index.json"} {
		for _, kind := range []string{"fifo", "/dev/zero"} {
			t.Run(file+" "+kind, func(t *testing.T) {
				t.Parallel()
				dir := writeCheckpoint(t, tinyConfig, tinyTensors("", safetensors.F32))
				os.WriteFile(filepath.Join(dir, "vocab.json"), []byte("{}"), 0o644)
				os.WriteFile(filepath.Join(dir, "merges.txt"), nil, 0o644)
				path := filepath.Join(dir, file)
				if file == "model.safetensors.index.json" {
					os.Remove(filepath.Join(dir, "model.safetensors")) // the index is read only without it
				}
				os.Remove(path)
				var err error
				if kind == "fifo" {
					err = syscall.Mkfifo(path, 0o644)
				} else {
					err = os.Symlink("/dev/zero", path)
				}
				if err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() {
					m, err := Load(dir)
					if m != nil {
						m.Close()
					}
					done <- err
				}()
				select {
				case err := <-done:
					if !errors.Is(err, inputfile.ErrNotRegular) || !strings.Contains(err.Error(), path+" is not a regular file") {
						t.Fatalf("error %v\nwant %s refused as not a regular file", err, path)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("Load blocked")
				}
			})
		}
	}
}

// TestLoadVocabSymlinkLoop: a vocab.json that is a symlink loop was
// reported as missing; the error now says it is a loop.
func TestLoadVocabSymlinkLoop(t *testing.T) {
	t.Parallel()
	dir := writeCheckpoint(t, tinyConfig, tinyTensors("", safetensors.F32))
	os.WriteFile(filepath.Join(dir, "merges.txt"), nil, 0o644)
	vocab := filepath.Join(dir, "vocab.json")
	if err := os.Symlink(vocab, vocab); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if !errors.Is(err, inputfile.ErrSymlinkLoop) || !strings.Contains(err.Error(), vocab+" is a symbolic link loop") || strings.Contains(err.Error(), "missing") {
		t.Fatalf("error %v\nwant vocab.json named as a symbolic link loop", err)
	}
}
