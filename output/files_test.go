package output

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
	if err := WriteFileAtomic(context.Background(), path, writeString("first")); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "first", 0o644)

	// Replacing keeps the old mode.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(context.Background(), path, writeString("second")); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "second", 0o600)

	// A failing writer leaves the old file and no temporary file.
	errBoom := errors.New("boom")
	err := WriteFileAtomic(context.Background(), path, func(w io.Writer) error {
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
		_ = WriteFileAtomic(context.Background(), path, func(w io.Writer) error { io.WriteString(w, "x"); panic("writer bug") })
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
	if err := WriteFileAtomic(context.Background(), link, writeString("third")); err != nil {
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
			err := WriteFileAtomic(context.Background(), tc.path, writeString("x"))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("err = %v, want one naming %s with %q", err, tc.path, tc.want)
			}
		})
	}
	if runtime.GOOS != "windows" && os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if err := WriteFileAtomic(context.Background(), filepath.Join(ro, "f"), writeString("x")); err == nil {
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
	paths, err := WriteFigures(context.Background(), dir, nb)
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
	if _, err := WriteFigures(context.Background(), dir, &Notebook{Lang: "xx"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid notebook: err = %v", err)
	}
	// dir is a file: an error naming it.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := WriteFigures(context.Background(), file, nb); err == nil {
		t.Error("WriteFigures into a file succeeded")
	}
}

// TestWriteCancelled: Ctrl-C was ignored while render or report wrote (a
// big trace kept writing and exited 0). A cancelled context stops
// WriteFileAtomic at the next chunk, whether the writer writes in small
// pieces or in one huge Write, and leaves neither the new file nor a
// temporary one; an existing file stays as it was.
func TestWriteCancelled(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("x"), 3*writeChunk)
	for _, tc := range []struct {
		name  string
		write func(w io.Writer, cancel func()) error
	}{
		{"small writes", func(w io.Writer, cancel func()) error {
			for i := range 1000 {
				if i == 10 {
					cancel()
				}
				if _, err := w.Write([]byte("line\n")); err != nil {
					return err
				}
			}
			return nil
		}},
		{"one huge write", func(w io.Writer, cancel func()) error {
			if _, err := w.Write(big); err != nil {
				return err
			}
			cancel()
			_, err := w.Write(big)
			return err
		}},
		{"cancelled after the last write", func(w io.Writer, cancel func()) error {
			_, err := w.Write([]byte("complete"))
			cancel()
			return err
		}},
		{"writer ignores its errors", func(w io.Writer, cancel func()) error {
			cancel()
			w.Write([]byte("more"))
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, existing := range []bool{false, true} {
				dir := t.TempDir()
				path := filepath.Join(dir, "report.html")
				if existing {
					os.WriteFile(path, []byte("old"), 0o644)
				}
				ctx, cancel := context.WithCancel(context.Background())
				err := WriteFileAtomic(ctx, path, func(w io.Writer) error { return tc.write(w, cancel) })
				cancel()
				if !errors.Is(err, context.Canceled) {
					t.Errorf("existing %v: err = %v, want context.Canceled", existing, err)
				}
				if m := tempFiles(t, dir); len(m) != 0 {
					t.Errorf("existing %v: temporary files left: %v", existing, m)
				}
				b, err := os.ReadFile(path)
				switch {
				case existing && string(b) != "old":
					t.Errorf("the old file became %d bytes (%v)", len(b), err)
				case !existing && !errors.Is(err, fs.ErrNotExist):
					t.Errorf("a file was left: %d bytes (%v)", len(b), err)
				}
			}
		})
	}
	// One huge Write is cut into chunks: a cancel that lands while the
	// first chunk is written stops it there.
	ctx, cancel := context.WithCancel(context.Background())
	var written int
	cw := &ctxWriter{ctx: ctx, w: writerFunc(func(p []byte) (int, error) {
		written += len(p)
		cancel()
		return len(p), nil
	})}
	if n, err := cw.Write(big); !errors.Is(err, context.Canceled) || n != writeChunk || written != writeChunk {
		t.Errorf("huge write cancelled in its first chunk: n = %d, written %d, err %v; want %d and context.Canceled", n, written, err, writeChunk)
	}
	// Cancelled between figures: the report's figures stop, complete ones
	// stay, none is partial.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	dir := filepath.Join(t.TempDir(), "figs")
	if paths, err := WriteFigures(ctx, dir, sampleNotebook(t)); !errors.Is(err, context.Canceled) || len(paths) != 0 {
		t.Errorf("WriteFigures after cancel: %v, %v", paths, err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestFigurePaths: FigurePaths names exactly the files WriteFigures writes.
func TestFigurePaths(t *testing.T) {
	t.Parallel()
	nb := sampleNotebook(t)
	dir := t.TempDir()
	paths, err := WriteFigures(context.Background(), dir, nb)
	if err != nil {
		t.Fatal(err)
	}
	if got := FigurePaths(dir, nb); !slices.Equal(got, paths) || len(got) == 0 {
		t.Errorf("FigurePaths = %v, WriteFigures wrote %v", got, paths)
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
