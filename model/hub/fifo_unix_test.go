//go:build unix

package hub

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fifoCases are TestResolveLocalFolderBadFile's cases that need named pipes.
var fifoCases = []struct {
	name  string
	setup func(t *testing.T, dir string)
	want  string
}{
	{"weights are a FIFO", func(t *testing.T, dir string) {
		mustDo(t, syscall.Mkfifo(filepath.Join(dir, "model.safetensors"), 0o644))
	}, "model.safetensors is not a regular file (a named pipe)"},
}

// TestResolveRefIsNamedPipeHangs: Resolve read refs/<revision> and the
// weights index with os.ReadFile, so a named pipe there blocked every model
// load forever, and a huge file was read whole. They are refused now,
// naming the file.
func TestResolveRefIsNamedPipeHangs(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, root, snap string)
		want   string
	}{
		{"refs/main is a FIFO", func(t *testing.T, root, snap string) {
			ref := filepath.Join(root, "refs", "main")
			mustDo(t, os.Remove(ref))
			mustDo(t, syscall.Mkfifo(ref, 0o644))
		}, "is not a regular file (a named pipe)"},
		{"refs/main is huge", func(t *testing.T, root, snap string) {
			mustDo(t, os.WriteFile(filepath.Join(root, "refs", "main"), make([]byte, 2<<10), 0o644))
		}, "more than the 1024 expected"},
		{"the index is a FIFO", func(t *testing.T, root, snap string) {
			mustDo(t, os.Remove(filepath.Join(snap, "model.safetensors")))
			mustDo(t, syscall.Mkfifo(filepath.Join(root, "blobs", "index"), 0o644))
			mustDo(t, os.Symlink("../../blobs/index", filepath.Join(snap, "model.safetensors.index.json")))
		}, "model.safetensors.index.json is not a regular file (a named pipe)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			snap := buildHFCache(t, cache, "gpt2", commitA, "main", weightFiles(gpt2Files()))
			tt.damage(t, filepath.Join(cache, "models--gpt2"), snap)
			done := make(chan error, 1)
			go func() {
				_, err := Resolve("gpt2", ResolveOptions{CacheDir: cache})
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want ErrNotCached saying %q", err, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Resolve blocks")
			}
		})
	}
}
