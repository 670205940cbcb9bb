package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/train"
)

// TestTrainTiny runs `gptviz train` on a tiny config over the built-in
// corpus (seconds), checks that the validation loss falls, that the
// checkpoint loads in the engine with its tokenizer, and that --resume with
// a higher --steps continues the run.
func TestTrainTiny(t *testing.T) {
	dir := t.TempDir()
	args := []string{"train", "--out", dir, "--steps", "40", "--vocab-size", "300", "--n-layer", "1", "--n-embd", "32",
		"--n-head", "2", "--n-positions", "32", "--batch", "8", "--lr", "1e-2", "--eval-every", "20", "--snapshots", "0,50%"}
	stdout, stderr, code := gptviz(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "done: step 40") {
		t.Errorf("stdout lacks the summary:\n%s", stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, train.CurveFile))
	if err != nil {
		t.Fatal(err)
	}
	curve, err := train.ParseCurveCSV(b)
	if err != nil {
		t.Fatal(err)
	}
	first, last := curve[0], curve[len(curve)-1]
	if !(last.ValLoss < first.ValLoss-0.5) {
		t.Errorf("validation loss %.3f → %.3f: did not fall", first.ValLoss, last.ValLoss)
	}
	m, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Tokenizer == nil || m.Config.VocabSize != 300 || m.Tokenizer.VocabSize() != 300 {
		t.Errorf("loaded model: vocab_size %d, tokenizer %v", m.Config.VocabSize, m.Tokenizer != nil)
	}
	for _, s := range []string{"step-000000", "step-000020"} {
		if _, err := model.Load(filepath.Join(dir, "snapshots", s)); err != nil {
			t.Errorf("snapshot %s: %v", s, err)
		}
	}
	stdout, stderr, code = gptviz(t, "train", "--out", dir, "--resume", "--steps", "50")
	if code != 0 || !strings.Contains(stdout, "resuming") || !strings.Contains(stdout, "done: step 50") {
		t.Errorf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestTrainUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train"}, "--out is required"},
		{[]string{"train", "--out", "x", "--vocab-size", "100"}, "--vocab-size 100"},
		{[]string{"train", "--out", "x", "--steps", "-1"}, "--steps -1"},
		{[]string{"train", "--out", "x", "--snapshots", "5%,abc"}, `"abc"`},
		{[]string{"train", "--out", "x", "--n-embd", "30", "--n-head", "4", "--steps", "1"}, "not a multiple"},
		{[]string{"train", "--out", "x", "extra"}, "unexpected argument"},
	} {
		_, stderr, code := gptviz(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("gptviz %q: exit %d, want 2 with %q; stderr:\n%s", tc.args, code, tc.want, stderr)
		}
	}
	stdout, _, code := gptviz(t, "train", "--help")
	if code != 0 || !strings.Contains(stdout, "--vocab-size") {
		t.Errorf("train --help: exit %d", code)
	}
}
