package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteBytesReplacesAndKeepsMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := WriteBytes(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644 (not CreateTemp's 0600)", fi.Mode().Perm())
	}
	os.Chmod(path, 0o600)
	if err := WriteBytes(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("content %q", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the old file's 0600", fi.Mode().Perm())
	}
	boom := errors.New("boom")
	if err := Write(path, func(w io.Writer) error { w.Write([]byte("partial")); return boom }); !errors.Is(err, boom) {
		t.Errorf("error %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("a failed write changed the file to %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the folder, want 1 (no temporary files left)", len(ents))
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCommit: a streamed partial file becomes the file, synced and closed;
// a failed rename leaves the partial file for the caller and the old file
// alone.
func TestCommit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "blob")
	f, err := os.Create(filepath.Join(dir, "blob.incomplete"))
	mustDo(t, err)
	f.WriteString("contents")
	mustDo(t, Options{}.Commit(f, path))
	if b, _ := os.ReadFile(path); string(b) != "contents" {
		t.Errorf("content %q", b)
	}
	if _, err := f.Write([]byte("more")); err == nil {
		t.Error("Commit left the file open")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries in the folder, want 1", len(ents))
	}

	// Renaming a file over a non-empty folder fails.
	busy := filepath.Join(dir, "busy")
	mustDo(t, os.MkdirAll(filepath.Join(busy, "x"), 0o755))
	partial := filepath.Join(dir, "busy.incomplete")
	f, err = os.Create(partial)
	mustDo(t, err)
	f.WriteString("partial")
	if err := (Options{}).Commit(f, busy); err == nil || !strings.Contains(err.Error(), busy) {
		t.Errorf("error %v, want one naming %s", err, busy)
	}
	if b, err := os.ReadFile(partial); err != nil || string(b) != "partial" {
		t.Errorf("partial file after a failed commit: %q, %v", b, err)
	}
}

// TestSymlink: a link replaces a file or another link atomically and
// leaves no temporary entries.
func TestSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	mustDo(t, os.WriteFile(path, []byte("a copy"), 0o644))
	for _, target := range []string{"../blobs/one", "../blobs/two"} {
		if err := Symlink(target, path); err != nil {
			var le *os.LinkError
			if !errors.As(err, &le) || le.Op != "symlink" {
				t.Fatal(err)
			}
			// No symbolic links here: the caller can tell, and the file
			// is untouched.
			if b, _ := os.ReadFile(path); string(b) != "a copy" {
				t.Errorf("a failed Symlink changed the file to %q", b)
			}
			break
		}
		if got, err := os.Readlink(path); err != nil || got != target {
			t.Errorf("link -> %q, %v; want %q", got, err, target)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries in the folder, want 1 (no temporary links left)", len(ents))
	}
	if err := Symlink("x", filepath.Join(dir, "missing", "link")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("link into a missing folder: error %v", err)
	}
}
