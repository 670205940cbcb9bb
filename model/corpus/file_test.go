package corpus

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/inputfile"
)

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var many strings.Builder
	for i := range 20 {
		many.WriteString(strings.Repeat("word ", i+1) + "\n\n")
	}
	tr, va, err := ReadFile(write("good.txt", many.String()), 1)
	if err != nil || tr == "" || va == "" {
		t.Fatalf("good corpus: %q / %q, %v", tr, va, err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"not UTF-8", write("latin1.txt", "caf\xe9\n\nmore"), "invalid byte 0xe9 at offset 3"},
		{"no paragraphs", write("blank.txt", "\n\n  \n"), "no paragraphs"},
		{"folder", dir, "not a regular file (a folder)"},
		{"missing", filepath.Join(dir, "none.txt"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := ReadFile(tc.path, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestReadFileDevZero: train --corpus /dev/zero read 1–1.4 GB/s until the
// machine ran out of memory; it is refused before reading.
func TestReadFileDevZero(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero on this system")
	}
	if _, _, err := ReadFile("/dev/zero", 1); !errors.Is(err, inputfile.ErrNotRegular) {
		t.Fatalf("error %v, want ErrNotRegular", err)
	}
}
