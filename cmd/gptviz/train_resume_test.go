package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/train"
)

// tinyModel are the flags of the resume tests' runs: a model that trains a
// step in milliseconds.
var tinyModel = []string{"--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--n-positions", "16",
	"--batch", "2", "--vocab-size", "260", "--lr", "1e-2"}

// tinyCorpus writes a corpus of 120 short paragraphs, different for each
// seed, into a new folder and returns its path.
func tinyCorpus(t *testing.T, seed uint64) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	words := []string{"light", "ray", "prism", "colour", "glass", "red", "violet", "the", "of", "is", "refracted", "more", "less"}
	var b strings.Builder
	for p := 0; p < 120; p++ {
		fmt.Fprintf(&b, "Paragraph %d:", p)
		for w := 0; w < 12; w++ {
			b.WriteString(" " + words[r.IntN(len(words))])
		}
		b.WriteString(".\n\n")
	}
	path := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// trainRun runs `gptviz train` with args and tinyModel into dir; stop > 0
// stops it after that step, as Ctrl-C would (a checkpoint is saved). It
// returns stdout.
func trainRun(t *testing.T, dir string, stop int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if stop > 0 {
		ctx = context.WithValue(ctx, stepHookKey{}, func(step int) {
			if step == stop {
				cancel()
			}
		})
	}
	var out, errb bytes.Buffer
	err := run(ctx, append(append([]string{"train", "--out", dir}, tinyModel...), args...), &out, &errb)
	if stop > 0 && !errors.Is(err, context.Canceled) || stop == 0 && err != nil {
		t.Fatalf("train %q (stop at %d): %v\n%s", args, stop, err, errb.String())
	}
	return out.String()
}

// readRunState returns the train_state.json of dir.
func readRunState(t *testing.T, dir string) *train.State {
	t.Helper()
	st, err := train.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// corpusLine is stdout's line on the corpus read: name, and token counts.
var corpusLine = regexp.MustCompile(`corpus (.*): (\d+) training tokens, (\d+) validation tokens`)

// TestTrainResumeF1Corpus is the regression test for F1: `train --resume`
// without --corpus fell back to the built-in Opticks (keeping the run's
// tokenizer, exit 0), and a different --corpus was accepted silently. Now
// the recorded corpus is read again and checked by SHA-256: gone or edited
// is refused naming the file (exit 1); a --corpus with other text is a
// usage error naming --corpus and the recorded file; the same text at
// another path is accepted.
func TestTrainResumeF1Corpus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, corpus string) []string // changes the world, returns the extra resume flags
		code   int
		want   []string // in stderr (exit ≠ 0) or stdout (exit 0); CORPUS is the recorded file
	}{
		{"no --corpus: the recorded one", func(*testing.T, string) []string { return nil }, 0, []string{"corpus CORPUS:", "done: step 6"}},
		{"same text elsewhere", func(t *testing.T, c string) []string {
			b, _ := os.ReadFile(c)
			moved := filepath.Join(t.TempDir(), "moved.txt")
			os.WriteFile(moved, b, 0o644)
			return []string{"--corpus", moved}
		}, 0, []string{"moved.txt:", "done: step 6"}},
		{"edited", func(t *testing.T, c string) []string {
			os.WriteFile(c, []byte("Another text.\n\nEntirely.\n"), 0o644)
			return nil
		}, 1, []string{"corpus CORPUS changed", "SHA-256"}},
		{"gone", func(t *testing.T, c string) []string { os.Remove(c); return nil }, 1, []string{"corpus CORPUS (recorded in train_state.json) cannot be read"}},
		{"other --corpus", func(t *testing.T, c string) []string {
			return []string{"--corpus", tinyCorpus(t, 99)}
		}, 2, []string{"--corpus", "is not the run's corpus CORPUS"}},
		{"--corpus opticks", func(t *testing.T, c string) []string {
			return []string{"--corpus", "opticks"}
		}, 2, []string{"--corpus opticks is not the run's corpus CORPUS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, corpus := t.TempDir(), tinyCorpus(t, 1)
			trainRun(t, dir, 0, "--steps", "4", "--corpus", corpus)
			before, _ := os.ReadFile(filepath.Join(dir, train.StateFile))
			extra := tc.change(t, corpus)
			stdout, stderr, code := gptviz(t, append([]string{"train", "--out", dir, "--resume", "--steps", "6"}, extra...)...)
			got := stdout
			if tc.code != 0 {
				got = stderr
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "CORPUS", corpus); code != tc.code || !strings.Contains(got, w) {
					t.Errorf("exit %d, want %d with %q:\n%s%s", code, tc.code, w, stdout, stderr)
				}
			}
			if after, _ := os.ReadFile(filepath.Join(dir, train.StateFile)); tc.code != 0 && !bytes.Equal(before, after) {
				t.Error("a refused resume changed train_state.json")
			}
		})
	}
}

// TestTrainResumeF2SplitSeed is the regression test for F2: --split-seed
// was not saved, so a resume re-split the corpus with the default seed
// (validation paragraphs leaked into training). The seed is recorded and
// reused (the same validation text: the same token counts); another
// explicit --split-seed is refused, the same one accepted.
func TestTrainResumeF2SplitSeed(t *testing.T) {
	t.Parallel()
	dir, corpus := t.TempDir(), tinyCorpus(t, 2)
	first := corpusLine.FindStringSubmatch(trainRun(t, dir, 0, "--steps", "4", "--corpus", corpus, "--split-seed", "3"))
	if st := readRunState(t, dir); st.Corpus == nil || st.Corpus.SplitSeed != 3 {
		t.Fatalf("recorded corpus %+v, want split seed 3", st.Corpus)
	}
	// The default seed splits this corpus differently (else the test
	// could not fail).
	other := corpusLine.FindStringSubmatch(trainRun(t, t.TempDir(), 0, "--steps", "1", "--corpus", corpus))
	if other[3] == first[3] {
		t.Fatalf("split seeds 1 and 3 give the same %s validation tokens", first[3])
	}
	_, stderr, code := gptviz(t, "train", "--out", dir, "--resume", "--steps", "5", "--split-seed", "1")
	if code != 2 || !strings.Contains(stderr, "--split-seed 1 differs from the checkpoint's 3") {
		t.Errorf("--split-seed 1 at resume: exit %d, want 2; stderr:\n%s", code, stderr)
	}
	for _, extra := range [][]string{nil, {"--split-seed", "3"}} {
		stdout, stderr, code := gptviz(t, append([]string{"train", "--out", dir, "--resume", "--steps", "5"}, extra...)...)
		got := corpusLine.FindStringSubmatch(stdout)
		if code != 0 || got == nil || got[2] != first[2] || got[3] != first[3] {
			t.Errorf("resume %q: exit %d, corpus %q, want the split of %q\n%s", extra, code, got, first, stderr)
		}
	}
}

// TestTrainResumeF3EvalEvery is the regression test for F3: --eval-every
// was not saved, so after a resume evaluations and checkpoints fell back
// to --steps/20. The resumed run evaluates every 2 steps as asked; an
// explicit --eval-every at resume replaces it.
func TestTrainResumeF3EvalEvery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trainRun(t, dir, 4, "--steps", "10", "--eval-every", "2", "--corpus", tinyCorpus(t, 3))
	evaluated := func() []int {
		b, err := os.ReadFile(filepath.Join(dir, train.CurveFile))
		if err != nil {
			t.Fatal(err)
		}
		curve, err := train.ParseCurveCSV(b)
		if err != nil {
			t.Fatal(err)
		}
		var steps []int
		for _, p := range curve {
			if !math.IsNaN(p.ValLoss) {
				steps = append(steps, p.Step)
			}
		}
		return steps
	}
	trainRun(t, dir, 6, "--resume")
	if got := evaluated(); !slices.Equal(got, []int{0, 2, 4, 6}) {
		t.Errorf("evaluated at steps %v after a resume, want every 2 steps: [0 2 4 6]", got)
	}
	trainRun(t, dir, 0, "--resume", "--eval-every", "3")
	if got := evaluated(); !slices.Equal(got, []int{0, 2, 4, 6, 9, 10}) {
		t.Errorf("evaluated at steps %v after a resume with --eval-every 3, want [0 2 4 6 9 10]", got)
	}
	if st := readRunState(t, dir); st.EvalEvery != 3 {
		t.Errorf("recorded eval_every %d, want 3", st.EvalEvery)
	}
}

// TestTrainResumeF4Snapshots is the regression test for F4: --snapshots
// was not saved, so the snapshots planned after the stop were never
// written. The resolved plan is recorded and honoured; an explicit
// --snapshots at resume replaces the steps to come, and a step it can no
// longer write is refused, as is a lowered --steps before a planned one.
func TestTrainResumeF4Snapshots(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trainRun(t, dir, 3, "--steps", "10", "--eval-every", "5", "--snapshots", "2,50%,8", "--corpus", tinyCorpus(t, 4))
	if st := readRunState(t, dir); !slices.Equal(st.Snapshots, []int{2, 5, 8}) {
		t.Fatalf("recorded snapshots %v, want [2 5 8]", st.Snapshots)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--steps", "7"}, "--steps 7 is before the run's planned snapshot at step 8"},
		{[]string{"--snapshots", "1,9"}, "--snapshots: step 1 is not after the checkpoint's step 3"},
	} {
		_, stderr, code := gptviz(t, append([]string{"train", "--out", dir, "--resume"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("resume %q: exit %d, want 2 with %q; stderr:\n%s", tc.args, code, tc.want, stderr)
		}
	}
	trainRun(t, dir, 6, "--resume")
	snaps := func() []string {
		ents, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	if got := snaps(); !slices.Equal(got, []string{"step-000002", "step-000005"}) {
		t.Errorf("snapshots after resuming to step 6: %v, want steps 2 and 5", got)
	}
	trainRun(t, dir, 0, "--resume", "--snapshots", "2,90%")
	if got := snaps(); !slices.Equal(got, []string{"step-000002", "step-000005", "step-000009"}) {
		t.Errorf("snapshots after replacing the plan with 2,90%%: %v, want steps 2, 5 and 9", got)
	}
}

// TestTrainResumeF5StepsBeforeCheckpoint is the regression test for F5:
// `--resume --steps N` with N below the checkpoint's step was accepted
// ("resuming at step 4 of 2", exit 0) and wrote a train_state.json that a
// later --resume refused. It is a usage error before anything is touched.
func TestTrainResumeF5StepsBeforeCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trainRun(t, dir, 0, "--steps", "4", "--corpus", tinyCorpus(t, 5))
	files := func() map[string]string {
		m := map[string]string{}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			m[e.Name()] = string(b)
		}
		return m
	}
	before := files()
	_, stderr, code := gptviz(t, "train", "--out", dir, "--resume", "--steps", "2")
	if code != 2 || !strings.Contains(stderr, "--steps 2 is before the checkpoint's step 4") {
		t.Errorf("--steps 2 at step 4: exit %d, want 2; stderr:\n%s", code, stderr)
	}
	if after := files(); !maps.Equal(before, after) {
		t.Error("the refused resume changed the run folder")
	}
	if stdout, stderr, code := gptviz(t, "train", "--out", dir, "--resume", "--steps", "4"); code != 0 || !strings.Contains(stdout, "done: step 4") {
		t.Errorf("--steps 4 at step 4: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestTrainResumeConflictingFlags is the regression test for --resume
// ignoring explicitly given architecture and optimisation flags that
// contradict the run: each is a usage error naming the flag, the given and
// the recorded value; flags equal to the recorded values are accepted.
func TestTrainResumeConflictingFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trainRun(t, dir, 0, "--steps", "3", "--corpus", tinyCorpus(t, 6), "--seed", "5", "--dropout", "0.1", "--warmup", "0")
	for _, tc := range []struct {
		flag, value, recorded string
	}{
		{"--n-layer", "2", "1"}, {"--n-embd", "32", "16"}, {"--n-head", "4", "2"}, {"--n-positions", "32", "16"},
		{"--vocab-size", "300", "260"}, {"--batch", "3", "2"}, {"--lr", "0.003", "0.01"}, {"--seed", "1", "5"},
		{"--weight-decay", "0", "0.1"}, {"--grad-clip", "0.5", "1"},
		{"--warmup", "2", "0"}, {"--warmup", "-1", "0"}, {"--mask-random-prefix", "true", "false"},
	} {
		_, stderr, code := gptviz(t, "train", "--out", dir, "--resume", "--steps", "4", tc.flag+"="+tc.value)
		want := fmt.Sprintf("%s %s differs from the checkpoint's %s", tc.flag, tc.value, tc.recorded)
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("resume with %s %s: exit %d, want 2 with %q; stderr:\n%s", tc.flag, tc.value, code, want, stderr)
		}
	}
	if st := readRunState(t, dir); st.Step != 3 {
		t.Fatalf("refused resumes moved the run to step %d", st.Step)
	}
	same := append(slices.Clone(tinyModel), "--seed", "5", "--dropout", "0.1", "--warmup", "0", "--weight-decay", "0.1")
	stdout, stderr, code := gptviz(t, append([]string{"train", "--out", dir, "--resume", "--steps", "4"}, same...)...)
	if code != 0 || !strings.Contains(stdout, "done: step 4") {
		t.Errorf("resume with the recorded values: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestTrainResumeChangesRegularisation: --dropout, --repeat-frac and
// --random-repeat-frac may change on --resume, for the steps to come; the
// run says so, trains with the new values and train_state.json records
// both phases. An out-of-range value is still a usage error naming the
// flag.
func TestTrainResumeChangesRegularisation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trainRun(t, dir, 0, "--steps", "3", "--corpus", tinyCorpus(t, 8), "--dropout", "0.2", "--repeat-frac", "0.3")
	if _, stderr, code := gptviz(t, "train", "--out", dir, "--resume", "--steps", "5", "--dropout", "1"); code != 2 || !strings.Contains(stderr, "--dropout") {
		t.Errorf("--dropout 1: exit %d, want 2 naming --dropout; stderr:\n%s", code, stderr)
	}
	stdout, stderr, code := gptviz(t, "train", "--out", dir, "--resume", "--steps", "5", "--dropout", "0.1", "--random-repeat-frac", "0.25")
	if code != 0 || !strings.Contains(stdout, "from step 3: dropout 0.1, repeat-frac 0.3, random-repeat-frac 0.25 (were 0.2, 0.3, 0)") {
		t.Fatalf("resume with new dropout: exit %d\n%s%s", code, stdout, stderr)
	}
	st := readRunState(t, dir)
	want := []train.Phase{{From: 0, Dropout: 0.2, RepeatFrac: 0.3}, {From: 3, Dropout: 0.1, RepeatFrac: 0.3, RandomRepeatFrac: 0.25}}
	if st.Step != 5 || st.Options.Dropout != 0.1 || !slices.Equal(st.Phases, want) {
		t.Errorf("state: step %d, dropout %g, phases %+v; want 5, 0.1, %+v", st.Step, st.Options.Dropout, st.Phases, want)
	}
}

// TestTrainResumeOlderCheckpoint: a checkpoint of an older gptviz, whose
// train_state.json records no corpus, split seed, --eval-every or
// snapshots, is refused without --corpus and --split-seed (usage error
// saying so), and resumed with them, the record then being written.
func TestTrainResumeOlderCheckpoint(t *testing.T) {
	t.Parallel()
	dir, corpus := t.TempDir(), tinyCorpus(t, 7)
	trainRun(t, dir, 0, "--steps", "3", "--corpus", corpus, "--split-seed", "2")
	statePath := filepath.Join(dir, train.StateFile)
	b, _ := os.ReadFile(statePath)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "corpus")
	delete(m, "eval_every")
	delete(m, "snapshots")
	b, _ = json.Marshal(m)
	os.WriteFile(statePath, b, 0o644)
	// Rewrite the manifest's entry, as an older gptviz wrote it.
	mb, _ := os.ReadFile(filepath.Join(dir, train.ManifestFile))
	var man train.Manifest
	if err := json.Unmarshal(mb, &man); err != nil {
		t.Fatal(err)
	}
	for i, f := range man.Files {
		if f.Name == train.StateFile {
			h := sha256.Sum256(b)
			man.Files[i].Bytes, man.Files[i].SHA256 = int64(len(b)), hex.EncodeToString(h[:])
		}
	}
	mb, _ = json.Marshal(man)
	os.WriteFile(filepath.Join(dir, train.ManifestFile), mb, 0o644)

	for _, extra := range [][]string{nil, {"--corpus", corpus}, {"--split-seed", "2"}} {
		_, stderr, code := gptviz(t, append([]string{"train", "--out", dir, "--resume", "--steps", "4"}, extra...)...)
		if code != 2 || !strings.Contains(stderr, "older gptviz") || !strings.Contains(stderr, "--corpus and --split-seed") {
			t.Errorf("older checkpoint, resume %q: exit %d, want 2; stderr:\n%s", extra, code, stderr)
		}
	}
	stdout, stderr, code := gptviz(t, "train", "--out", dir, "--resume", "--steps", "4", "--corpus", corpus, "--split-seed", "2")
	if code != 0 || !strings.Contains(stdout, "done: step 4") {
		t.Fatalf("older checkpoint with --corpus and --split-seed: exit %d\n%s%s", code, stdout, stderr)
	}
	if st := readRunState(t, dir); st.Corpus == nil || st.Corpus.Name != corpus || st.Corpus.SplitSeed != 2 {
		t.Errorf("corpus recorded after resuming an older checkpoint: %+v", st.Corpus)
	}
}

// TestTrainLockedFolder: while another process trains into a folder (here
// the test holds its lock), 'gptviz train' refuses it, fresh or --resume,
// and changes nothing; two resumes at once once left a folder that no
// later --resume could read.
func TestTrainLockedFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corpus := tinyCorpus(t, 7)
	trainRun(t, dir, 0, "--steps", "2", "--corpus", corpus)
	before, err := os.ReadFile(filepath.Join(dir, train.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	release, err := train.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	freshRelease, err := train.Lock(fresh)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"train", "--out", dir, "--resume", "--steps", "4"},
		{"train", "--out", fresh, "--corpus", corpus, "--steps", "2"},
	} {
		if _, stderr, code := gptviz(t, args...); code != 1 || !strings.Contains(stderr, "in use by another training process") {
			t.Errorf("gptviz %q on a locked folder: exit %d, want 1 naming the lock; stderr:\n%s", args, code, stderr)
		}
	}
	if after, err := os.ReadFile(filepath.Join(dir, train.ManifestFile)); err != nil || string(after) != string(before) {
		t.Errorf("the refused resume changed the checkpoint (%v)", err)
	}
	release()
	freshRelease()
	if stdout, stderr, code := gptviz(t, "train", "--out", dir, "--resume", "--steps", "4"); code != 0 || !strings.Contains(stdout, "done: step 4") {
		t.Errorf("resume after the lock was released: exit %d\n%s%s", code, stdout, stderr)
	}
	// A folder that holds only the lock file of a run that failed before
	// its first checkpoint counts as empty.
	if stdout, stderr, code := gptviz(t, "train", "--out", fresh, "--corpus", corpus, "--steps", "2"); code != 0 {
		t.Errorf("fresh run in a folder holding only %s: exit %d\n%s%s", train.LockFile, code, stdout, stderr)
	}
}

// TestTrainMaskRandomPrefixRecorded: --mask-random-prefix is an option of
// the run: train_state.json records it, and --resume keeps it.
func TestTrainMaskRandomPrefixRecorded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trainRun(t, dir, 0, "--steps", "2", "--corpus", tinyCorpus(t, 8), "--random-repeat-frac", "0.5", "--mask-random-prefix")
	if st := readRunState(t, dir); !st.Options.MaskRandomPrefix || st.Options.RandomRepeatFrac != 0.5 {
		t.Fatalf("recorded options %+v, want mask_random_prefix and random_repeat_frac 0.5", st.Options)
	}
	if stdout, stderr, code := gptviz(t, "train", "--out", dir, "--resume", "--steps", "3"); code != 0 || !strings.Contains(stdout, "done: step 3") {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if st := readRunState(t, dir); !st.Options.MaskRandomPrefix {
		t.Error("the resumed run dropped mask_random_prefix")
	}
}
