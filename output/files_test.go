package output

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// tempFiles lists the leftover temporary files in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")

	// New file: content and mode 0644.
	if err := WriteFileAtomic(path, writeString("first")); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "first", 0o644)

	// Replacing keeps the old mode.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, writeString("second")); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "second", 0o600)

	// A failing writer leaves the old file and no temporary file.
	errBoom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("partial ", 100000)) // more than the buffer: reaches the temp file
		return errBoom
	})
	if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want one wrapping %v and naming %s", err, errBoom, path)
	}
	checkFile(t, path, "second", 0o600)
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// A panicking writer also leaves no temporary file.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic was swallowed")
			}
		}()
		_ = WriteFileAtomic(path, func(w io.Writer) error { io.WriteString(w, "x"); panic("writer bug") })
	}()
	checkFile(t, path, "second", 0o600)
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left after a panic: %v", left)
	}

	// Through a symlink: the target is replaced, the link kept.
	link := filepath.Join(dir, "latest.html")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(link, writeString("third")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("symlink replaced by a file (%v)", err)
	}
	checkFile(t, path, "third", 0o600)
}

func TestWriteFileAtomicErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing folder", filepath.Join(dir, "no", "such", "f.html"), "no such file"},
		{"path is a folder", dir, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteFileAtomic(tc.path, writeString("x"))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("err = %v, want one naming %s with %q", err, tc.path, tc.want)
			}
		})
	}
	if runtime.GOOS != "windows" && os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if err := WriteFileAtomic(filepath.Join(ro, "f"), writeString("x")); err == nil {
			t.Error("wrote into a read-only folder")
		}
	}
}

func checkFile(t *testing.T, path, want string, mode fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s holds %.40q, want %q", path, b, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != mode {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), mode)
	}
}

func TestWriteFigures(t *testing.T) {
	t.Parallel()
	nb := sampleNotebook(t)
	dir := filepath.Join(t.TempDir(), "figs")
	paths, err := WriteFigures(dir, nb)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"attn-grid-png.svg", "attn-grid-png.png", "static-svg.svg"}
	if len(paths) != len(want) {
		t.Fatalf("paths = %v, want %v", paths, want)
	}
	for i, p := range paths {
		if p != filepath.Join(dir, want[i]) {
			t.Errorf("path %d = %s, want %s", i, p, filepath.Join(dir, want[i]))
		}
	}
	png, _ := os.ReadFile(filepath.Join(dir, "attn-grid-png.png"))
	if !bytes.Equal(png, nb.Cells[11].Chart.PNG) {
		t.Error("PNG file differs from Chart.PNG")
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "static-svg.svg"))
	if string(svg) != testSVG {
		t.Error("SVG file differs from Chart.SVG")
	}
	if _, err := WriteFigures(dir, &Notebook{Lang: "xx"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid notebook: err = %v", err)
	}
	// dir is a file: an error naming it.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := WriteFigures(file, nb); err == nil {
		t.Error("WriteFigures into a file succeeded")
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]any{"b": "</script>", "a": []int{1}}); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"a\": [\n    1\n  ],\n  \"b\": \"\\u003c/script\\u003e\"\n}\n"
	if b.String() != want {
		t.Errorf("WriteJSON = %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := WriteJSON(&b, func() {}); err == nil || b.Len() != 0 {
		t.Errorf("unencodable value: err = %v, wrote %d bytes", err, b.Len())
	}
}
