package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/arch"
)

// stoppedAt runs tinyOptions(10) with ro into a new folder and stops it
// after step stop; it returns the folder.
func stoppedAt(t *testing.T, stop int, ro RunOptions) string {
	t.Helper()
	ro.OutDir = t.TempDir()
	tr, err := New(tinyOptions(10), ckptData())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ro.Progress = func(r StepResult) {
		if r.Step == stop {
			cancel()
		}
	}
	if _, err := Run(ctx, tr, ro); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v", err)
	}
	return ro.OutDir
}

// TestResumeRecordsRunOptions is the regression test for F2, F3 and F4 of
// the resume review (split seed, --eval-every and --snapshots forgotten on
// resume), and the record half of F1 (the corpus): train_state.json
// records the run's EvalEvery, Snapshots and Corpus, and Resume returns
// them, so that the resumed run checkpoints and snapshots as planned and
// can check its text.
func TestResumeRecordsRunOptions(t *testing.T) {
	t.Parallel()
	c := &Corpus{Name: "text.txt", SHA256: strings.Repeat("ab", 32), SplitSeed: 7}
	dir := stoppedAt(t, 3, RunOptions{EvalEvery: 3, Snapshots: []int{8, 0, 8, 5}, Corpus: c})
	st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Step != 3 || st.EvalEvery != 3 || !slices.Equal(st.Snapshots, []int{0, 5, 8}) || st.Corpus == nil || *st.Corpus != *c {
		t.Fatalf("recorded step %d, eval_every %d, snapshots %v, corpus %+v", st.Step, st.EvalEvery, st.Snapshots, st.Corpus)
	}
	res, ro, err := Resume(dir, ckptData(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ro.EvalEvery != 3 || !slices.Equal(ro.Snapshots, []int{0, 5, 8}) || ro.Corpus == nil || *ro.Corpus != *c {
		t.Fatalf("Resume returned eval_every %d, snapshots %v, corpus %+v", ro.EvalEvery, ro.Snapshots, ro.Corpus)
	}
	// The resumed run honours the plan: checkpoints at 6 and 9 (and 10),
	// the snapshots of steps 5 and 8.
	var saved []int
	ro.hook = func(stage string) error {
		if stage == "commit" {
			saved = append(saved, res.Step)
		}
		return nil
	}
	if _, err := Run(context.Background(), res, ro); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"step-000005", "step-000008"} {
		if _, err := os.Stat(filepath.Join(dir, "snapshots", s)); err != nil {
			t.Errorf("planned snapshot %s not written after resume: %v", s, err)
		}
	}
	if !slices.Equal(saved, []int{6, 9, 10}) {
		t.Errorf("resumed run saved checkpoints at steps %v, want every 3 steps: [6 9 10]", saved)
	}
	if st, err = ReadState(dir); err != nil || st.EvalEvery != 3 || st.Corpus == nil {
		t.Fatalf("final state: %+v, %v", st, err)
	}
}

// TestResumeRefusesStepsBeforeCheckpoint is the regression test for F5
// (`--resume --steps N` with N below the checkpoint's step accepted, and
// train_state.json then recording step 5 of 3): Resume refuses it with a
// *StepsError and leaves the checkpoint as it was; N equal to the step is
// accepted (nothing left to train).
func TestResumeRefusesStepsBeforeCheckpoint(t *testing.T) {
	t.Parallel()
	dir := stoppedAt(t, 5, RunOptions{EvalEvery: 5})
	before, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Resume(dir, ckptData(), 3)
	var se *StepsError
	if !errors.As(err, &se) || se.Steps != 3 || se.Step != 5 {
		t.Fatalf("Resume with 3 steps at step 5: %v, want a *StepsError{3, 5}", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, StateFile)); string(after) != string(before) {
		t.Error("the refused resume changed train_state.json")
	}
	if res, _, err := Resume(dir, ckptData(), 5); err != nil || res.Step != 5 || res.Opts.Steps != 5 {
		t.Errorf("Resume with 5 steps at step 5: %v", err)
	}
}

// TestResumeOlderState: the train_state.json of an older gptviz (no
// eval_every, snapshots or corpus) still reads; Resume returns zero
// values for them (EvalEvery 0 is Steps/20, no snapshots, no corpus) and
// the caller decides what to do without a corpus record. A malformed
// record, or phases that disagree with the step and options, is refused
// naming the file.
func TestResumeOlderState(t *testing.T) {
	t.Parallel()
	dir := stoppedAt(t, 5, RunOptions{EvalEvery: 5, Snapshots: []int{7}, Corpus: &Corpus{Name: "x", SHA256: strings.Repeat("0", 64)}})
	path := filepath.Join(dir, StateFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, dir string, m map[string]any) {
		b, _ := json.Marshal(m)
		if err := os.WriteFile(filepath.Join(dir, StateFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		rehash(t, dir)
	}
	old := maps.Clone(m)
	delete(old, "eval_every")
	delete(old, "snapshots")
	delete(old, "corpus")
	d := t.TempDir()
	copyTree(t, dir, d)
	write(t, d, old)
	_, ro, err := Resume(d, ckptData(), 0)
	if err != nil {
		t.Fatalf("older state refused: %v", err)
	}
	if ro.EvalEvery != 0 || ro.Snapshots != nil || ro.Corpus != nil {
		t.Errorf("older state: eval_every %d, snapshots %v, corpus %v; want zero", ro.EvalEvery, ro.Snapshots, ro.Corpus)
	}
	o := tinyOptions(10)
	phase := func(from int, dropout float64) map[string]any {
		return map[string]any{"from_step": from, "dropout": dropout, "repeat_frac": o.RepeatFrac, "random_repeat_frac": o.RandomRepeatFrac}
	}
	for _, tc := range []struct {
		key  string
		v    any
		want string
	}{
		{"eval_every", -1, "eval_every -1"},
		{"snapshots", []int{5, 3}, "snapshots: step 3"},
		{"snapshots", []int{11}, "snapshots: step 11"},
		{"corpus", map[string]any{"name": "x", "sha256": "zz"}, "corpus:"},
		{"corpus", map[string]any{"name": "", "sha256": strings.Repeat("0", 64)}, "corpus:"},
		// Phases (ResumeWith) must agree with the step and the options.
		{"phases", []any{phase(0, o.Dropout)}, "first phase from step 0"},
		{"phases", []any{phase(1, 0.5), phase(3, o.Dropout)}, "first phase from step 0"},
		{"phases", []any{phase(0, 0.5), phase(3, 0.4), phase(3, o.Dropout)}, "from_step 3"},
		{"phases", []any{phase(0, 0.5), phase(6, o.Dropout)}, "from_step 6"},
		{"phases", []any{phase(0, 0.5), phase(3, 0.4)}, "not the options'"},
	} {
		bad := maps.Clone(m)
		bad[tc.key] = tc.v
		d := t.TempDir()
		copyTree(t, dir, d)
		write(t, d, bad)
		_, _, err := Resume(d, ckptData(), 0)
		var ce *CheckpointError
		if !errors.As(err, &ce) || filepath.Base(ce.File) != StateFile || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want a *CheckpointError naming %s with %q", tc.key, tc.v, err, StateFile, tc.want)
		}
	}
}

// TestDivergedRunKeepsCheckpoint: a run whose weights stop being finite
// (here a learning rate of 1e308, as a tampered train_state.json once
// gave) stops with a *DivergedError and leaves the folder's last good
// checkpoint as it was, whether the broken weights are found by the next
// step's loss or by the check before a checkpoint is written; a
// checkpoint whose weights are already broken is refused on resume.
func TestDivergedRunKeepsCheckpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		evalEvery int
		step      int  // the step the error names
		byWeights bool // found by the weights' check, not by a loss
	}{
		{"next step's loss", 3, 5, false},
		{"before the checkpoint", 1, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := stoppedAt(t, 3, RunOptions{EvalEvery: 3})
			before, err := os.ReadFile(filepath.Join(dir, arch.WeightsFile))
			if err != nil {
				t.Fatal(err)
			}
			res, ro, err := Resume(dir, ckptData(), 10)
			if err != nil {
				t.Fatal(err)
			}
			res.Opts.LR, ro.EvalEvery = 1e308, tc.evalEvery
			_, err = Run(context.Background(), res, ro)
			var d *DivergedError
			if !errors.As(err, &d) || d.Step != tc.step || d.Saved != 3 || (d.LR == 0) != tc.byWeights {
				t.Fatalf("Run: %v (%+v), want a DivergedError at step %d keeping step 3", err, d, tc.step)
			}
			after, err := os.ReadFile(filepath.Join(dir, arch.WeightsFile))
			if err != nil || !bytes.Equal(before, after) {
				t.Fatalf("the step-3 weights changed (%v)", err)
			}
			if st, err := ReadState(dir); err != nil || st.Step != 3 {
				t.Fatalf("the folder's checkpoint: %+v, %v; want step 3", st, err)
			}
		})
	}
}

// TestResumeRefusesNonFiniteWeights: a checkpoint whose weights hold a NaN
// (hashes in the manifest updated to match) is refused on resume rather
// than trained on.
func TestResumeRefusesNonFiniteWeights(t *testing.T) {
	t.Parallel()
	dir := stoppedAt(t, 3, RunOptions{EvalEvery: 3})
	res, ro, err := Resume(dir, ckptData(), 10)
	if err != nil {
		t.Fatal(err)
	}
	res.Params[len(res.Params)/2] = float32(math.NaN())
	if err := saveCheckpoint(dir, res.Step, nil, func(stage string) error { return res.writeCheckpoint(stage, ro.ElapsedS, ro.Curve, ro) }); err != nil {
		t.Fatal(err)
	}
	_, _, err = Resume(dir, ckptData(), 10)
	var d *DivergedError
	if !errors.As(err, &d) || !strings.Contains(err.Error(), arch.WeightsFile) {
		t.Fatalf("Resume of NaN weights: %v, want a DivergedError naming %s", err, arch.WeightsFile)
	}
}
