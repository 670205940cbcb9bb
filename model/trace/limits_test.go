package trace_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/trace"
)

// TestReadTraceOverLimit: a trace file over the size limit used to be read
// (3.2 GB of memory for a 1 GiB limit) and then reported as "at byte 0:
// unexpected EOF". ReadFile refuses it from its size before reading; Read,
// which has no size to go by, stops at the limit and says so.
func TestReadTraceOverLimit(t *testing.T) {
	good := recordedTrace(t)
	defer trace.SetLimits(int64(len(good)-1), 1<<40)()
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := trace.ReadFile(path)
	if !errors.Is(err, inputfile.ErrTooLarge) || !strings.Contains(err.Error(), "more than the limit") || strings.Contains(err.Error(), "EOF") {
		t.Errorf("ReadFile: error %v, want the file refused as too large", err)
	}
	_, err = trace.Read(bytes.NewReader(good), "big.json")
	if err == nil || !strings.Contains(err.Error(), "larger than the limit of "+strconv.Itoa(len(good)-1)+" bytes") {
		t.Errorf("Read: error %v, want the limit named", err)
	}
}

// TestReadTraceErrorOffsets: syntax errors are reported at the byte where
// they are, not at byte 0, and a truncated trace says where it ends.
func TestReadTraceErrorOffsets(t *testing.T) {
	good := recordedTrace(t)
	at := bytes.Index(good, []byte(`"steps":`)) + len(`"steps":`)
	bad := append(append(append([]byte(nil), good[:at]...), '!'), good[at:]...)
	_, err := trace.Read(bytes.NewReader(bad), "bad.json")
	if err == nil || !strings.Contains(err.Error(), "at byte "+strconv.Itoa(at+1)+": invalid character '!'") {
		t.Errorf("syntax error: %v, want it at byte %d", err, at+1)
	}
	// Cut anywhere, also inside a number ("0." at the end read as an
	// invalid character before): the error says truncated, at the end.
	for _, cut := range []int{len(good) / 2, bytes.Index(good, []byte(".")) + 1, len(good) - 2} {
		_, err = trace.Read(bytes.NewReader(good[:cut]), "cut.json")
		if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "at byte "+strconv.Itoa(cut)) {
			t.Errorf("truncated at %d (%q): %v, want it ending at byte %d", cut, good[max(0, cut-8):cut], err, cut)
		}
	}
	tr, err := trace.Read(bytes.NewReader(good), "good.json")
	if err != nil {
		t.Fatal(err)
	}
	wrongType := bytes.Replace(good, []byte(`"prompt_len":`+strconv.Itoa(tr.PromptLen)), []byte(`"prompt_len":"x"`), 1)
	at = bytes.Index(wrongType, []byte(`"x"`)) + len(`"x"`)
	_, err = trace.Read(bytes.NewReader(wrongType), "type.json")
	if err == nil || !strings.Contains(err.Error(), "at byte "+strconv.Itoa(at)) {
		t.Errorf("type error: %v, want it at byte %d", err, at)
	}
}

// TestReadTraceTooManyValuesToRender: a trace under the byte limit whose
// report would be too large to render (a 1 GB trace took 95 s and 11.3 GB
// to render) is refused with the limit, where it was passed and what to
// record less. Reading stops there, so Values counts one over the limit.
func TestReadTraceTooManyValuesToRender(t *testing.T) {
	good := recordedTrace(t)
	tr, err := trace.Read(bytes.NewReader(good), "good.json")
	if err != nil {
		t.Fatal(err)
	}
	n := tr.Values()
	if n < 100 {
		t.Fatalf("a recorded trace holds %d values, want many", n)
	}
	defer trace.SetLimits(trace.MaxBytes, n-1)()
	_, err = trace.Read(bytes.NewReader(good), "many.json")
	var tl *trace.TooLargeError
	if !errors.As(err, &tl) || tl.Values != n || tl.Limit != n-1 || tl.Offset <= 0 || tl.Offset >= int64(len(good)) ||
		!strings.Contains(err.Error(), "fewer steps") || !strings.Contains(err.Error(), "at byte "+strconv.FormatInt(tl.Offset, 10)) {
		t.Fatalf("error %v, want a *TooLargeError of %d values at a byte of the input saying how to record fewer", err, n)
	}
	// At the limit, it is read.
	defer trace.SetLimits(trace.MaxBytes, n)()
	if _, err := trace.Read(bytes.NewReader(good), "many.json"); err != nil {
		t.Errorf("a trace of exactly the limit: %v", err)
	}
}
