//go:build unix

package hub

import (
	"path/filepath"
	"syscall"
	"testing"
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
