package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, a...))
}
func (r *recorder) Fatalf(format string, a ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, a...))
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden")
	if err := os.WriteFile(path, []byte("want\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	r := &recorder{TB: t}
	Check(r, path, []byte("other\n"))
	if len(r.failed) != 1 || !exists(path+".got") {
		t.Fatalf("mismatch: failures %q, .got written %v; want 1 failure and a .got file", r.failed, exists(path+".got"))
	}
	if b, _ := os.ReadFile(path + ".got"); string(b) != "other\n" {
		t.Errorf(".got holds %q, want the output", b)
	}

	r = &recorder{TB: t}
	Check(r, path, []byte("want\n"))
	if len(r.failed) != 0 || exists(path+".got") {
		t.Errorf("match: failures %q, stale .got kept %v; want none", r.failed, exists(path+".got"))
	}

	r = &recorder{TB: t}
	Check(r, filepath.Join(dir, "missing.golden"), []byte("x"))
	if len(r.failed) != 1 {
		t.Errorf("missing golden file: failures %q, want 1", r.failed)
	}

	r = &recorder{TB: t}
	CheckFunc(r, path, []byte("WANT\n"), func(want, got []byte) (bool, error) { return len(want) == len(got), nil })
	if len(r.failed) != 0 {
		t.Errorf("CheckFunc with a tolerant comparison: failures %q", r.failed)
	}
}

func TestUpdate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.golden")
	*Update = true
	defer func() { *Update = false }()
	r := &recorder{TB: t}
	Check(r, path, []byte("fresh"))
	if b, err := os.ReadFile(path); err != nil || string(b) != "fresh" || len(r.failed) != 0 {
		t.Errorf("-update: file %q, %v, failures %q; want it written", b, err, r.failed)
	}
}
