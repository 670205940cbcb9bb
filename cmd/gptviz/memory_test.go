package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestModelTooLargeForMemory: a config that passes the config limits but
// needs more memory than the machine has (n_positions 2^27 died with "fatal
// error: out of memory" and exit 2, the usage code) is refused before
// loading, by the estimate, with needed vs available memory and how to need
// less: a plain failure, exit 1.
func TestModelTooLargeForMemory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"config.json":       `{"model_type":"gpt2","vocab_size":50257,"n_positions":134217728,"n_embd":16,"n_head":1,"n_layer":1}`,
		"model.safetensors": "", "vocab.json": "", "merges.txt": "",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defer func(f func() (int64, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (int64, bool) { return 2 << 30, true }
	for _, cmd := range []string{"report", "generate"} {
		_, stderr, code := gptviz(t, cmd, "--model", dir, "--steps", "3", "The light")
		if code != 1 {
			t.Errorf("%s: exit %d, want 1 (stderr %q)", cmd, code, stderr)
		}
		for _, w := range []string{"needs about", "but only 2 GiB is available", "to need less, use a smaller model (the weights alone need 8.0 GiB)"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q lacks %q", cmd, stderr, w)
			}
		}
	}
}

// TestRunTooLargeForMemory: a run whose KV cache and activations dominate
// (a million steps) is refused with advice about the run, not the model.
func TestRunTooLargeForMemory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"config.json":       `{"model_type":"gpt2","vocab_size":1000,"n_positions":1000000,"n_embd":256,"n_head":4,"n_layer":64}`,
		"model.safetensors": "", "vocab.json": "", "merges.txt": "",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defer func(f func() (int64, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (int64, bool) { return 64 << 30, true }
	for cmd, advice := range map[string]string{"report": "lower --steps or --max-attention, or shorten the prompt", "generate": "lower --steps or shorten the prompt"} {
		_, stderr, code := gptviz(t, cmd, "--model", dir, "--steps", "1000000", "The light")
		if code != 1 || !strings.Contains(stderr, "but only 64 GiB is available; to need less, "+advice) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q", cmd, code, stderr, advice)
		}
	}
	// serve has no --steps: its advice names its own flags.
	_, stderr, code := gptviz(t, "serve", "--model", dir, "--max-steps", "1000000")
	if want := "to need less, lower --max-steps or --sessions"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("serve: exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
	}
}

// TestDefaultModelTooLargeForMemory (F6): the embedded default model was
// never checked, so 'report --steps 1073741824 Light' started generating
// while the same run with --model DIR was refused. It is now refused too.
func TestDefaultModelTooLargeForMemory(t *testing.T) {
	defer func(f func() (int64, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (int64, bool) { return 64 << 30, true }
	out := filepath.Join(t.TempDir(), "r.html")
	_, stderr, code := gptviz(t, "report", "--steps", "1073741824", "-o", out, "Light")
	if code != 1 || !strings.Contains(stderr, "the default model gptviz-default: needs about") || !strings.Contains(stderr, "but only 64 GiB is available") {
		t.Errorf("exit %d, stderr %q; want exit 1 and a memory error naming the default model", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written", out)
	}
}

// TestHugeStepsTooLargeForMemory (F7): --steps 2^52, 2^60 and MaxInt64
// overflowed the estimate and the runs were accepted; they are refused
// before loading, for a checkpoint folder and the default model alike.
func TestHugeStepsTooLargeForMemory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"config.json":       `{"model_type":"gpt2","vocab_size":300,"n_positions":16,"n_embd":8,"n_head":1,"n_layer":1}`,
		"model.safetensors": "", "vocab.json": "", "merges.txt": "",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defer func(f func() (int64, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (int64, bool) { return 1 << 40, true }
	for _, steps := range []string{"4503599627370496", "1152921504606846976", "9223372036854775807"} {
		for _, m := range [][]string{{"--model", dir}, nil} {
			args := append(append([]string{"report"}, m...), "--steps", steps, "-o", filepath.Join(dir, "r.html"), "Light")
			_, stderr, code := gptviz(t, args...)
			if code != 1 || !strings.Contains(stderr, "needs about") {
				t.Errorf("%v: exit %d, stderr %q; want exit 1 and a memory error", args, code, stderr)
			}
		}
	}
}
