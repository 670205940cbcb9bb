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
	// On --resume, percentages are of the run's total (here 50 steps).
	stdout, stderr, code = gptviz(t, "train", "--out", dir, "--resume", "--steps", "50", "--snapshots", "90%")
	if code != 0 || !strings.Contains(stdout, "resuming") || !strings.Contains(stdout, "done: step 50") {
		t.Errorf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := model.Load(filepath.Join(dir, "snapshots", "step-000045")); err != nil {
		t.Errorf("snapshot at 90%% of the resumed run's 50 steps: %v", err)
	}
	if _, err := model.Load(dir); err != nil {
		t.Errorf("the resumed checkpoint is not a loadable model folder: %v", err)
	}

	// A damaged or mixed checkpoint is refused on --resume, naming the
	// file, before anything is trained.
	opt := filepath.Join(dir, train.OptimizerFile)
	b, err = os.ReadFile(opt)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	os.WriteFile(opt, b, 0o644)
	_, stderr, code = gptviz(t, "train", "--out", dir, "--resume", "--steps", "60")
	if code != 1 || !strings.Contains(stderr, opt) || !strings.Contains(stderr, "mixed or damaged") {
		t.Errorf("resume of a damaged checkpoint: exit %d, want 1 naming %s; stderr:\n%s", code, opt, stderr)
	}
}

// TestTrainSnapshotsUsage is the regression test for --snapshots values
// that exited 0 and never wrote a snapshot ('NaN%', a step after the last):
// each is a usage error naming the flag and the problem.
func TestTrainSnapshotsUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		snapshots string
		want      string
	}{
		{"NaN%", `"NaN%" is not a percentage in [0, 100]`},
		{"Inf%", `"Inf%" is not a percentage in [0, 100]`},
		{"101%", `"101%" is not a percentage in [0, 100]`},
		{"-1%", `"-1%" is not a percentage in [0, 100]`},
		{"99", "step 99 is after the run's last step 5"},
		{"0,6", "step 6 is after the run's last step 5"},
		{"-1", `"-1" is not a step number`},
		{"1,,2", `"" is not a step number`},
		{"abc", `"abc" is not a step number`},
	} {
		t.Run(tc.snapshots, func(t *testing.T) {
			_, stderr, code := gptviz(t, "train", "--out", t.TempDir(), "--steps", "5", "--snapshots", tc.snapshots)
			if code != 2 || !strings.Contains(stderr, "--snapshots") || !strings.Contains(stderr, tc.want) {
				t.Errorf("--snapshots %q: exit %d, want 2 with %q; stderr:\n%s", tc.snapshots, code, tc.want, stderr)
			}
		})
	}
}

// TestTrainFlagRangesStated is the regression test for `--lr 0` saying
// "[0, 10]" although 0 is refused: every float flag's error states its real
// valid range, open ends in parentheses.
func TestTrainFlagRangesStated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag, value, want string
	}{
		{"--lr", "0", "--lr 0: must be a number in (0, 10]"},
		{"--lr", "10.5", "--lr 10.5: must be a number in (0, 10]"},
		{"--lr", "NaN", "--lr NaN: must be a number in (0, 10]"},
		{"--weight-decay", "-1", "--weight-decay -1: must be a number in [0, 10]"},
		{"--grad-clip", "-1", "--grad-clip -1: must be a number in [0, 3.4028234663852886e+38]"},
		{"--dropout", "1", "--dropout 1: must be a number in [0, 1)"},
		{"--repeat-frac", "1.5", "--repeat-frac 1.5: must be a number in [0, 1]"},
		{"--random-repeat-frac", "-0.1", "--random-repeat-frac -0.1: must be a number in [0, 1]"},
		{"--steps", "0", "--steps 0: must be in 1..1073741824"},
		{"--warmup", "-2", "--warmup -2: must be in -1..1073741824"},
	} {
		t.Run(tc.flag+"="+tc.value, func(t *testing.T) {
			_, stderr, code := gptviz(t, "train", "--out", t.TempDir(), tc.flag, tc.value)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("%s %s: exit %d, want 2 with %q; stderr:\n%s", tc.flag, tc.value, code, tc.want, stderr)
			}
		})
	}
	// The ends themselves, where closed, are accepted by the range check.
	for _, r := range []floatRange{{"--lr", 10, 0, 10, true, false}, {"--dropout", 0, 0, 1, false, true}, {"--weight-decay", 0, 0, 10, false, false}} {
		if err := r.check(); err != nil {
			t.Errorf("%s %v refused: %v", r.flag, r.v, err)
		}
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
		{[]string{"train", "--out", "x", "--mask-random-prefix"}, "--mask-random-prefix: needs --random-repeat-frac"},
		{[]string{"train", "--out", "EMPTYDIR", "--resume"}, "no training run"},
		{[]string{"train", "--out", "NOMANIFEST", "--resume"}, "older gptviz"},
		{[]string{"train", "--out", "EMPTYDIR", "--corpus", "BADCORPUS"}, "not UTF-8 text"},
	} {
		for i, a := range tc.args {
			switch a {
			case "NONEMPTY":
				d := t.TempDir()
				os.WriteFile(filepath.Join(d, "config.json"), []byte("KEEP"), 0o644)
				tc.args[i] = d
			case "NOMANIFEST": // a run written before checkpoints had a manifest
				d := t.TempDir()
				os.WriteFile(filepath.Join(d, train.StateFile), []byte("{}"), 0o644)
				tc.args[i] = d
			case "EMPTYDIR":
				tc.args[i] = t.TempDir()
			case "BADCORPUS":
				tc.args[i] = filepath.Join(t.TempDir(), "bin.txt")
				os.WriteFile(tc.args[i], []byte("text\xff\xfe\n\nmore"), 0o644)
			}
		}
		want := 2 // usage errors; a bad corpus file or checkpoint is a failure (1)
		if tc.want == "not UTF-8 text" || tc.want == "older gptviz" {
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
