package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

// gptviz runs the CLI in-process and returns stdout, stderr and the exit
// status main would use.
func gptviz(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		want string // in stderr (or stdout for help)
	}{
		{nil, 2, "no command given"},
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"generate", "--help"}, 0, "--temperature"},
		{[]string{"generate"}, 2, "exactly one PROMPT"},
		{[]string{"generate", "--no-such-flag", "x"}, 2, "no-such-flag"},
		{[]string{"generate", "--top-p", "2", "x"}, 2, "--top-p 2"},
		{[]string{"generate", "--top-k", "x", "y"}, 2, "Run 'gptviz generate --help'"},
		{[]string{"generate", "--top-p", "0", "x"}, 2, "--top-p 0"},
		{[]string{"generate", "--temperature", "-1", "x"}, 2, "--temperature -1"},
		{[]string{"generate", "--top-k", "-3", "x"}, 2, "--top-k -3"},
		{[]string{"generate", "--steps", "-3", "x"}, 2, "--steps -3"},
		{[]string{"generate", "--steps", "many", "x"}, 2, "--steps"},
		{[]string{"generate", "--overflow", "drop", "x"}, 2, `--overflow "drop": want block or slide`},
		{[]string{"report", "--overflow", "", "x"}, 2, `--overflow "": want block or slide`},
		{[]string{"generate", "--continuation", "bad\xff", "x"}, 2, "--continuation: byte 0xff at offset 3"},
		{[]string{"generate", "--model", "./no/such/folder", "x"}, 1, "no/such/folder"},
		{[]string{"tokens", "a", "b"}, 2, "exactly one TEXT"},
	} {
		stdout, stderr, code := gptviz(t, tc.args...)
		if code != tc.code {
			t.Errorf("gptviz %q: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr)
		}
		if !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("gptviz %q: output lacks %q:\n%s%s", tc.args, tc.want, stdout, stderr)
		}
	}
}

// TestGenerateGreedyReference: greedy generation on the reference model
// gives exactly the reference's argmax continuation (its token ids, read
// from the saved trace) after the reference's input_ids.
func TestGenerateGreedyReference(t *testing.T) {
	t.Parallel()
	dir := testref.Path(t, "gpt2-tiny-random")
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		InputIDs           []int `json:"input_ids"`
		GreedyContinuation []int `json:"greedy_continuation"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatalf("reference.json: %v", err)
	}
	if len(ref.GreedyContinuation) == 0 {
		t.Fatal("reference.json has no greedy_continuation")
	}
	// The reference's input_ids are this text.
	const prompt = "The quick brown fox jumps over the lazy dog. The quick brown fox"
	tracePath := filepath.Join(t.TempDir(), "run.json")
	stdout, stderr, code := gptviz(t, "generate", "--model", dir, "--temperature", "0",
		"--steps", strconv.Itoa(len(ref.GreedyContinuation)), "--trace", tracePath, prompt)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, prompt) {
		t.Errorf("output does not start with the prompt: %q", stdout)
	}
	tr, err := trace.ReadFile(tracePath)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, tok := range tr.Tokens {
		ids = append(ids, tok.ID)
	}
	if tr.PromptLen != len(ref.InputIDs) || !slices.Equal(ids[:tr.PromptLen], ref.InputIDs) {
		t.Fatalf("prompt ids %v, reference input_ids %v", ids[:tr.PromptLen], ref.InputIDs)
	}
	if got := ids[tr.PromptLen:]; !slices.Equal(got, ref.GreedyContinuation) {
		t.Errorf("greedy continuation\n got %v\nwant %v (reference.json)", got, ref.GreedyContinuation)
	}
}

// TestTokens: gptviz tokens prints one row per token (position, id, shown
// token) and the count with the context window; on the default model, and
// on GPT-2's vocabulary where ../shared/reference is present.
func TestTokens(t *testing.T) {
	t.Parallel()
	const text = "Hello world\n你"
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		ids    []int
		window int
	}{
		{"default", nil, m.Tokenizer.Encode(text), m.Config.NPositions},
	}
	if dir, ok := testref.Lookup(t, "gpt2-tiny-random"); ok {
		cases = append(cases, struct {
			name   string
			args   []string
			ids    []int
			window int
		}{"gpt2", []string{"--model", dir}, []int{15496, 995, 198, 19526, 254}, 64})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := gptviz(t, append(append([]string{"tokens"}, tc.args...), text)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) != len(tc.ids)+2 || !strings.HasPrefix(lines[0], "pos") {
				t.Fatalf("%d lines for %d tokens:\n%s", len(lines), len(tc.ids), stdout)
			}
			for i, id := range tc.ids {
				f := strings.Fields(lines[1+i])
				if len(f) < 3 || f[0] != strconv.Itoa(i) || f[1] != strconv.Itoa(id) {
					t.Errorf("row %d is %q, want position %d id %d", i, lines[1+i], i, id)
				}
			}
			if !strings.Contains(stdout, "↵") {
				t.Errorf("the newline is not shown as ↵:\n%s", stdout)
			}
			if want := fmt.Sprintf("%d tokens (context window %d)", len(tc.ids), tc.window); lines[len(lines)-1] != want {
				t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
			}
		})
	}
}

// TestHubFlagsNeedModel: --revision and --download choose a Hugging Face
// model's version, so without --model (the embedded model) they are a
// usage error rather than silently ignored (as a hostile-input pass found).
func TestHubFlagsNeedModel(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "r.html")
	for _, args := range [][]string{
		{"report", "--revision", "; rm -rf /", "-o", out, "x"},
		{"generate", "--revision", "main", "x"},
		{"lesson", "--download", "1"},
	} {
		_, stderr, code := gptviz(t, args...)
		if code != 2 || !strings.Contains(stderr, "needs --model NAME") {
			t.Errorf("gptviz %q: exit %d, %q; want 2 and 'needs --model NAME'", args, code, stderr)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused report was written: %v", err)
	}
}
