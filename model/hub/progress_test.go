package hub

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestHumanBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.00 kB"},
		{1536, "1.54 kB"},
		{12_345_678, "12.3 MB"},
		{548_105_171, "548 MB"},
		{999_600_000, "1.00 GB"},
		{6_431_878_936, "6.43 GB"},
	}
	for _, tt := range tests {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestLineProgressIsThrottled(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newProgressSink(&out, func() time.Time { return now })
	if s.term {
		t.Fatal("a bytes.Buffer taken for a terminal")
	}
	p := s.start("model.safetensors", 548_105_171, 0)
	for i := 1; i <= 100; i++ { // 100 updates, 0.1 s apart: 10 s
		now = now.Add(100 * time.Millisecond)
		p.set(int64(i) * 123_456)
	}
	p.finish()
	want := "downloading model.safetensors: 0 B / 548 MB\n" +
		"downloading model.safetensors: 6.17 MB / 548 MB\n" +
		"downloading model.safetensors: 12.3 MB / 548 MB\n" +
		"downloaded model.safetensors: 12.3 MB\n"
	if out.String() != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", out.String(), want)
	}

	out.Reset()
	p = s.start("merges.txt", 456_318, 0) // small: only the end is reported
	p.set(456_318)
	p.finish()
	if out.String() != "downloaded merges.txt: 456 kB\n" {
		t.Errorf("small file progress: %q", out.String())
	}

	out.Reset()
	s.start("model.safetensors", 548_105_171, 100_000_000)
	if out.String() != "resuming model.safetensors at 100 MB / 548 MB\n" {
		t.Errorf("resume progress: %q", out.String())
	}
}

func TestBarProgress(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	s := newProgressSink(&out, nil)
	s.term = true // as if out were a terminal
	p := s.start("model.safetensors", 1_000_000, 0)
	p.set(500_000)
	p.set(1_000_000)
	p.finish()
	if got := out.String(); !strings.Contains(got, "model.safetensors") || !strings.Contains(got, "100%") {
		t.Errorf("progress bar output lacks the file name or 100%%: %q", got)
	}
}

// TestSilentProgress: without a writer (PullOptions.Progress nil), and for
// a nil sink, progress is the no-op kind and every call is safe; with a
// writer, the same calls do write, so the check can tell them apart.
func TestSilentProgress(t *testing.T) {
	t.Parallel()
	var nilSink *progressSink
	for name, s := range map[string]*progressSink{"nil writer": newProgressSink(nil, nil), "nil sink": nilSink} {
		p := s.start("x", 10, 0)
		if _, ok := p.(nopProgress); !ok {
			t.Errorf("%s: start gave %T, want nopProgress", name, p)
		}
		p.total(10)
		p.set(10)
		p.finish()
		p.stop()
		s.note("nothing %d", 1)
	}
	var out bytes.Buffer
	s := newProgressSink(&out, nil)
	p := s.start("x", 10, 0)
	if _, ok := p.(nopProgress); ok {
		t.Error("a sink with a writer gave nopProgress")
	}
	p.set(10)
	p.finish()
	s.note("note %d", 1)
	if got := out.String(); !strings.Contains(got, "downloaded x: 10 B") || !strings.Contains(got, "note 1") {
		t.Errorf("a sink with a writer wrote %q, want the finished line and the note", got)
	}
}
