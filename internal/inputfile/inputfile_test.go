package inputfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "vocab.json")
	if err := os.WriteFile(file, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		path  string
		limit int64
		kind  error  // nil: success
		words string // in the message
	}{
		{"fits", file, 10, nil, ""},
		{"through a symlink", link, 100, nil, ""},
		{"over the limit", file, 9, ErrTooLarge, "10 bytes, more than the limit of 9 bytes"},
		{"folder", dir, 100, ErrNotRegular, "is not a regular file (a folder)"},
		{"symlink loop", loop, 100, ErrSymlinkLoop, "loop is a symbolic link loop"},
		{"missing", filepath.Join(dir, "nothing"), 100, fs.ErrNotExist, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadFile(tc.path, tc.limit)
			if tc.kind == nil {
				if err != nil || string(b) != "0123456789" {
					t.Fatalf("got %q, %v", b, err)
				}
				return
			}
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("error %v, want %v saying %q", err, tc.kind, tc.words)
			}
		})
	}
}

// TestReadFileDevZero: /dev/zero never ends; it is refused as a device
// before a byte is read.
func TestReadFileDevZero(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero on this system")
	}
	_, err := ReadFile("/dev/zero", 1<<20)
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a device") {
		t.Fatalf("error %v, want ErrNotRegular naming a device", err)
	}
	if _, _, err := Open("/dev/zero", -1); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("Open: error %v, want ErrNotRegular", err)
	}
}

func TestReadFS(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"config.json": {Data: []byte(`{}`)},
		"pipe":        {Mode: fs.ModeNamedPipe},
	}
	if b, err := ReadFS(fsys, "config.json", 2); err != nil || string(b) != "{}" {
		t.Fatalf("got %q, %v", b, err)
	}
	if _, err := ReadFS(fsys, "config.json", 1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: error %v, want ErrTooLarge", err)
	}
	if _, err := ReadFS(fsys, "pipe", 1); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a named pipe") {
		t.Errorf("pipe: error %v, want ErrNotRegular naming a named pipe", err)
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 bytes", 1023: "1023 bytes", 1024: "1 KiB", 1536: "1.5 KiB", 64 << 20: "64 MiB", 1 << 30: "1 GiB", 3 << 39: "1.5 TiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
