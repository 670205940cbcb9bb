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
	t.Parallel()
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
	t.Parallel()
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
		// Regressions from the break-it tester: no panic, no giant
		// allocation, no NaN model, no silent overwrite.
		{[]string{"train", "--out", "x", "--n-layer", "100000", "--n-embd", "100000"}, "--n-layer 100000"},
		{[]string{"train", "--out", "x", "--n-layer", "4", "--n-embd", "8192", "--n-head", "4"}, "needs about"},
		{[]string{"train", "--out", "x", "--steps", "0"}, "--steps 0"},
		{[]string{"train", "--out", "x", "--lr", "NaN"}, "--lr NaN"},
		{[]string{"train", "--out", "x", "--dropout", "1"}, "--dropout 1"},
		{[]string{"train", "--out", "x", "--weight-decay", "-1"}, "--weight-decay -1"},
		{[]string{"train", "--out", "x", "--grad-clip", "-1"}, "--grad-clip -1"},
		{[]string{"train", "--out", "x", "--warmup", "-2"}, "--warmup -2"},
		{[]string{"train", "--out", "x", "--eval-every", "-1"}, "--eval-every -1"},
		{[]string{"train", "--out", "x", "--vocab-size", "999999999"}, "--vocab-size 999999999"},
		{[]string{"train", "--out", "NONEMPTY"}, "is not empty"},
		{[]string{"train", "--out", "EMPTYDIR", "--resume"}, "no training run"},
		{[]string{"train", "--out", "EMPTYDIR", "--corpus", "BADCORPUS"}, "not UTF-8 text"},
	} {
		for i, a := range tc.args {
			switch a {
			case "NONEMPTY":
				d := t.TempDir()
				os.WriteFile(filepath.Join(d, "config.json"), []byte("KEEP"), 0o644)
				tc.args[i] = d
			case "EMPTYDIR":
				tc.args[i] = t.TempDir()
			case "BADCORPUS":
				tc.args[i] = filepath.Join(t.TempDir(), "bin.txt")
				os.WriteFile(tc.args[i], []byte("text\xff\xfe\n\nmore"), 0o644)
			}
		}
		want := 2 // usage errors; a bad corpus file is a failure (1)
		if tc.want == "not UTF-8 text" {
			want = 1
		}
		_, stderr, code := gptviz(t, tc.args...)
		if code != want || !strings.Contains(stderr, tc.want) {
			t.Errorf("gptviz %q: exit %d, want %d with %q; stderr:\n%s", tc.args, code, want, tc.want, stderr)
		}
	}
	stdout, _, code := gptviz(t, "train", "--help")
	if code != 0 || !strings.Contains(stdout, "--vocab-size") {
		t.Errorf("train --help: exit %d", code)
	}
}
