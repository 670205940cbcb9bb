package trace_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
)

// splice returns data with its first occurrence of old replaced by new,
// failing the test when old is absent.
func splice(t *testing.T, data []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%q is not in the trace", old)
	}
	return bytes.Replace(data, []byte(old), []byte(new), 1)
}

// inputError reads data and returns its *InputError, failing the test
// unless there is one.
func inputError(t *testing.T, data []byte) *trace.InputError {
	t.Helper()
	_, err := trace.Read(bytes.NewReader(data), "t.json")
	var ie *trace.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want an *InputError", err)
	}
	if !strings.Contains(err.Error(), "t.json") || !strings.Contains(err.Error(), "at byte "+strconv.FormatInt(ie.Offset, 10)) {
		t.Errorf("error %q does not name the file and the offset", err)
	}
	return ie
}

// TestF10ValuesCountedBeforeDecoding: a 240 MB trace whose first attention
// row held 120 M zeros was decoded (11 GB, 117 s) before anything counted
// its values. The pre-pass refuses it while reading the row, at the value
// that passes the limit, before decoding anything.
func TestF10ValuesCountedBeforeDecoding(t *testing.T) {
	good := recordedTrace(t)
	tr, err := trace.Read(bytes.NewReader(good), "good.json")
	if err != nil {
		t.Fatal(err)
	}
	n := tr.Values()
	defer trace.SetLimits(trace.MaxBytes, n+100)()
	row := `"probs":[[[`
	zeros := strings.Repeat("0,", int(n)+200)
	bad := splice(t, good, row, row+zeros)
	// The row is then too long and its trace invalid: the pre-pass must
	// refuse it for its size first, as it would a 1 GB one.
	_, err = trace.Read(bytes.NewReader(bad), "zeros.json")
	var tl *trace.TooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("error %v, want a *TooLargeError", err)
	}
	start := int64(bytes.Index(bad, []byte(row)) + len(row))
	if tl.Offset < start || tl.Offset >= start+int64(len(zeros)) || tl.Values != n+101 ||
		!strings.Contains(err.Error(), "at byte "+strconv.FormatInt(tl.Offset, 10)) {
		t.Errorf("error %v (%+v), want the limit passed inside the row at bytes %d..%d", err, *tl, start, start+int64(len(zeros)))
	}
	// A type error after the row does not mask the count either.
	bad = splice(t, bad, `"max_causal_leak":`, `"max_causal_leak":"x","zzz":`)
	if _, err := trace.Read(bytes.NewReader(bad), "zeros.json"); !errors.As(err, &tl) {
		t.Errorf("with a later type error: %v, want a *TooLargeError", err)
	}
}

// TestF10PrepassCountsAsValues: the pre-pass counts recorded values as
// Trace.Values does, on a recorded trace holding every kind of them, so
// that it refuses exactly the traces the limit is meant for.
func TestF10PrepassCountsAsValues(t *testing.T) {
	t.Parallel()
	good := recordedTrace(t)
	tr, err := trace.Read(bytes.NewReader(good), "good.json")
	if err != nil {
		t.Fatal(err)
	}
	last := tr.Steps[len(tr.Steps)-1]
	if len(tr.Scores) == 0 || len(tr.Cache) == 0 || last.Next == nil || last.Next.Logits == nil || last.LogitLens == nil || last.ResidualNorm == nil || last.Attention == nil {
		t.Fatal("the recorded trace lacks some kind of recorded value; the comparison would prove little")
	}
	got, err := trace.ScanValues(good)
	if err != nil || got != tr.Values() {
		t.Errorf("pre-pass counted %d values (%v), Trace.Values %d", got, err, tr.Values())
	}
}

// TestF10LongString: a trace whose prompt was one 300 MB string rendered
// (3.8 GB, a 900 MB page). Strings over MaxStringBytes are refused before
// decoding, measured decoded (an escape is the bytes it stands for).
func TestF10LongString(t *testing.T) {
	good := recordedTrace(t)
	const limit = 100
	defer trace.SetStringLimit(limit)()
	for _, tc := range []struct {
		name, command string
		ok            bool
	}{
		{"at the limit", strings.Repeat("a", limit), true},
		{"over the limit", strings.Repeat("a", limit+1), false},
		{"escapes at the limit", strings.Repeat(`\u00e9`, limit/2), true},
		{"escapes over the limit", strings.Repeat(`\u00e9`, limit/2) + "a", false},
		{"multi-byte over the limit", strings.Repeat("é", limit/2) + "a", false},
	} {
		data := splice(t, good, `"seed":`, `"command":"`+tc.command+`","seed":`)
		_, err := trace.Read(bytes.NewReader(data), "t.json")
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		ie := inputError(t, data)
		at := int64(bytes.Index(data, []byte(`"command":"`)) + len(`"command":`))
		if ie.Path != "settings.command" || ie.Offset != at || !strings.Contains(ie.Problem, "longer than the limit of 100 bytes") {
			t.Errorf("%s: %v, want settings.command refused at byte %d", tc.name, ie, at)
		}
	}
}

// TestF10Nesting: nothing nests deeper than the Trace's shape: an array
// where a number belongs is refused at once, however deep it goes, and so
// is one more level in an attention row. Overlong number literals too.
func TestF10Nesting(t *testing.T) {
	t.Parallel()
	good := recordedTrace(t)
	deep := strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20)
	for _, tc := range []struct {
		name, old, new, path, problem string
	}{
		{"deep array", `"prompt_len":`, `"prompt_len":` + deep + `,"x":`, "prompt_len", "an array where a number belongs"},
		{"attention row", `"probs":[[[`, `"probs":[[[[`, "steps[0].attention[0].probs[0][0][0]", "an array where a number belongs"},
		{"object for a string", `"prompt":`, `"prompt":{"a":1},"x":`, "prompt", "an object where a string belongs"},
		{"long number", `"seed":`, `"seed":` + strings.Repeat("1", 65) + `,"x":`, "settings.seed", "a number of 65 characters"},
	} {
		ie := inputError(t, splice(t, good, tc.old, tc.new))
		if ie.Path != tc.path || !strings.Contains(ie.Problem, tc.problem) {
			t.Errorf("%s: %v, want %s: %s", tc.name, ie, tc.path, tc.problem)
		}
	}
}

// TestF11KeysExactAndOnce: keys matched case-insensitively and the last
// duplicate won, so {"prompt": "Light is", "PROMPT": "EVIL"} rendered and
// reran "EVIL" while Python read "Light is". Every key must be spelled
// exactly as a JSON name of its Trace type and appear once per object.
func TestF11KeysExactAndOnce(t *testing.T) {
	t.Parallel()
	good := recordedTrace(t)
	for _, tc := range []struct {
		name, old, new, key, path, problem string
	}{
		{"PROMPT", `"prompt":`, `"prompt":"Light is","PROMPT":`, `"PROMPT"`, "", `unknown field "PROMPT"`},
		{"prompt twice", `"prompt":`, `"prompt":"Light is","prompt":`, `"prompt"`, "", `field "prompt" given twice`},
		{"SETTINGS", `"settings":`, `"SETTINGS":`, `"SETTINGS"`, "", `unknown field "SETTINGS"`},
		{"Temperature", `"temperature":`, `"Temperature":`, `"Temperature"`, "settings", `unknown field "Temperature"`},
		{"nested duplicate", `"n_head":`, `"n_head":4,"n_head":`, `"n_head"`, "model.config", `field "n_head" given twice`},
		{"duplicate in a step", `"index":0,`, `"index":0,"index":0,`, `"index"`, "steps[0]", `field "index" given twice`},
	} {
		data := splice(t, good, tc.old, tc.new)
		ie := inputError(t, data)
		// The offset is that of the offending key (the last, for a duplicate).
		at := int64(bytes.Index(good, []byte(tc.old)) + strings.LastIndex(tc.new, tc.key))
		if ie.Path != tc.path || !strings.Contains(ie.Problem, tc.problem) || ie.Offset != at {
			t.Errorf("%s: %+v, want %q at byte %d: %s", tc.name, *ie, tc.path, at, tc.problem)
		}
	}
}

// TestF12InvalidText: raw bytes \xff\xfe in the prompt, or an escaped lone
// surrogate, were silently replaced with U+FFFD, so a rerun did not
// reproduce the recorded prompt. They are refused, with where they are.
// gptviz never writes either (encoding/json writes the bytes of a partial
// UTF-8 token as U+FFFD), so the rule holds for every string.
func TestF12InvalidText(t *testing.T) {
	t.Parallel()
	good := recordedTrace(t)
	if _, err := trace.Read(bytes.NewReader(good), "good.json"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, bad, path, problem string
	}{
		{"raw bytes in the prompt", `"prompt":"`, "\xff\xfe", "prompt", "byte 0xff is not valid UTF-8"},
		{"truncated sequence in the prompt", `"prompt":"`, "\xe2\x82", "prompt", "byte 0xe2 is not valid UTF-8"},
		{"lone high surrogate in the prompt", `"prompt":"`, `\ud800`, "prompt", `lone UTF-16 surrogate \ud800`},
		{"high surrogate then a letter", `"prompt":"`, `\ud800\u0041`, "prompt", `lone UTF-16 surrogate \ud800`},
		{"lone low surrogate in the model name", `"name":"`, `\udc00`, "model.name", `lone UTF-16 surrogate \udc00`},
		{"raw bytes in a token", `"text":"`, "\xc0\xaf", "tokens[0].text", "byte 0xc0 is not valid UTF-8"},
	} {
		data := splice(t, good, tc.old, tc.old+tc.bad)
		ie := inputError(t, data)
		at := int64(bytes.Index(good, []byte(tc.old)) + len(tc.old))
		if ie.Path != tc.path || ie.Offset != at || !strings.Contains(ie.Problem, tc.problem) {
			t.Errorf("%s: %+v, want %s refused at byte %d: %s", tc.name, *ie, tc.path, at, tc.problem)
		}
	}
	// A surrogate pair is text, and is read as it is.
	data := splice(t, good, `"seed":`, `"command":"\ud83d\ude00","seed":`)
	got, err := trace.Read(bytes.NewReader(data), "pair.json")
	if err != nil || !strings.HasPrefix(got.Settings.Command, "😀") {
		t.Errorf("a surrogate pair: %v, command %q", err, got.Settings.Command)
	}
}

// TestConsistencySettingsAgreeWithRun: settings.steps 10^12 with 3
// recorded steps passed validation and the rerun line showed it. The
// recorder decodes exactly the steps asked for (it does not stop at
// <|endoftext|>), so they must agree; sampling settings must be ones the
// sampler takes.
func TestConsistencySettingsAgreeWithRun(t *testing.T) {
	t.Parallel()
	good := recordedTrace(t)
	if _, err := trace.Read(bytes.NewReader(good), "good.json"); err != nil {
		t.Fatal(err)
	}
	settings := `"steps":3,"temperature":0,"top_k":0,"top_p":1,`
	for _, tc := range []struct{ name, old, new, want string }{
		{"steps", `"steps":3,`, `"steps":1000000000000,`, "settings: steps 1000000000000: the trace records 3 decode steps"},
		{"fewer steps", `"steps":3,`, `"steps":2,`, "settings: steps 2: the trace records 3 decode steps"},
		{"temperature", `"temperature":0,`, `"temperature":-1,`, "settings: temperature -1: must be a finite number ≥ 0"},
		{"top_k", `"top_k":0,`, `"top_k":-1,`, "settings: top_k -1: must be ≥ 0"},
		{"top_p 0", `"top_p":1,`, `"top_p":0,`, "settings: top_p 0: must be in (0, 1]"},
		{"top_p 2", `"top_p":1,`, `"top_p":2,`, "settings: top_p 2: must be in (0, 1]"},
	} {
		data := splice(t, good, settings, strings.Replace(settings, tc.old, tc.new, 1))
		_, err := trace.Read(bytes.NewReader(data), "t.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
