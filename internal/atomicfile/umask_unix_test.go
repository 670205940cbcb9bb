//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// withUmask runs f with the process umask set to mask. The umask is
// process-wide, so callers must not be parallel tests.
func withUmask(t *testing.T, mask int, f func()) {
	t.Helper()
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

// TestNewFileModeFollowsUmask: a new file gets Perm less the umask, as
// os.WriteFile gives it, never the temporary file's 0600.
func TestNewFileModeFollowsUmask(t *testing.T) {
	for _, tt := range []struct {
		name string
		mask int
		perm fs.FileMode
		want fs.FileMode
	}{
		{"default under 022", 0o022, 0, 0o644},
		{"default under 077", 0o077, 0, 0o600},
		{"0666 under 022", 0o022, 0o666, 0o644},
		{"0666 under 002 (a group-shared cache)", 0o002, 0o666, 0o664},
		{"0666 under 077", 0o077, 0o666, 0o600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write := filepath.Join(dir, "write")
			commit := filepath.Join(dir, "commit")
			o := Options{Perm: tt.perm}
			withUmask(t, tt.mask, func() {
				mustDo(t, o.WriteBytes(write, []byte("x")))
				f, err := os.CreateTemp(dir, "partial") // 0600, as a download's partial file may be
				mustDo(t, err)
				f.WriteString("x")
				mustDo(t, o.Commit(f, commit))
			})
			for _, p := range []string{write, commit} {
				if got := modeOf(t, p); got != tt.want {
					t.Errorf("%s: mode %v, want %v", filepath.Base(p), got, tt.want)
				}
			}
		})
	}
}

// TestResetPerm: with ResetPerm a file written 0600 by an older program
// becomes readable again; without it its bits are kept.
func TestResetPerm(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		reset bool
		want  fs.FileMode
	}{{false, 0o600}, {true, 0o644}} {
		path := filepath.Join(dir, "ref")
		mustDo(t, os.WriteFile(path, []byte("old"), 0o600))
		mustDo(t, os.Chmod(path, 0o600))
		withUmask(t, 0o022, func() {
			mustDo(t, Options{Perm: 0o666, ResetPerm: tt.reset}.WriteBytes(path, []byte("new")))
		})
		if got := modeOf(t, path); got != tt.want {
			t.Errorf("ResetPerm %v: mode %v, want %v", tt.reset, got, tt.want)
		}
	}
}

func modeOf(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	mustDo(t, err)
	return fi.Mode().Perm()
}
