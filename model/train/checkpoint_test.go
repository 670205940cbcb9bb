package train

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
)

// ckptData is the data of the checkpoint tests.
func ckptData() Data { return Data{Train: patternData(3000, 16), Val: patternData(300, 16)} }

// fakeTokenizer writes stand-in tokenizer files, so that checkpoints have
// every stage a CLI run has.
func fakeTokenizer(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, arch.VocabFile), []byte(`{"a": 0}`), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, arch.MergesFile), []byte("#version: 0.2\n"), 0o644)
}

// trainerState is what a checkpoint must restore bit for bit.
type trainerState struct {
	step          int
	params, m, v  []float32
	adamT         int
	curveLastStep int
}

func stateOf(t *Trainer) trainerState {
	return trainerState{step: t.Step, params: slices.Clone(t.Params), m: slices.Clone(t.opt.m), v: slices.Clone(t.opt.v), adamT: t.opt.t}
}

func (a trainerState) equal(b trainerState) bool {
	return a.step == b.step && a.adamT == b.adamT && slices.Equal(a.params, b.params) && slices.Equal(a.m, b.m) && slices.Equal(a.v, b.v)
}

// copyTree copies the folder src (files and folders, hidden ones too) to
// dst, as a kill at this moment would leave it on disk.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// temporaries lists what a finished save must not leave in dir: hidden
// files and folders (staging, commit, atomicfile's ".NAME.tmp-*").
func temporaries(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// runWithStages trains the 10-step run of these tests (checkpoints at steps
// 5 and 10) into dir, calling atStage for every stage of the step-10
// checkpoint (and returning its error there), and returns the reference
// states at steps 5 and 10 with the run's error.
func runWithStages(t *testing.T, dir string, atStage func(stage string) error) (map[int]trainerState, error) {
	tr, err := New(tinyOptions(10), ckptData())
	if err != nil {
		t.Fatal(err)
	}
	ref := map[int]trainerState{}
	armed := false
	_, err = Run(context.Background(), tr, RunOptions{OutDir: dir, EvalEvery: 5, WriteTokenizer: fakeTokenizer,
		Snapshots: []int{10},
		Progress: func(r StepResult) {
			if r.Step == 5 || r.Step == 10 {
				ref[r.Step] = stateOf(tr)
			}
			armed = r.Step == 10
		},
		hook: func(stage string) error {
			if armed {
				return atStage(stage)
			}
			return nil
		}})
	return ref, err
}

// checkResumes resumes from dir and requires the state of step want (or,
// when want is -1, of step 5 or 10) bit for bit, a consistent curve, no
// temporary files, and that finishing the run gives the uninterrupted
// result.
func checkResumes(t *testing.T, dir string, ref map[int]trainerState, want int, final trainerState) int {
	t.Helper()
	res, ro, err := Resume(dir, ckptData(), 0)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	got := stateOf(res)
	if want >= 0 && got.step != want {
		t.Fatalf("resumed at step %d, want %d", got.step, want)
	}
	if r, ok := ref[got.step]; !ok || !got.equal(r) {
		t.Fatalf("resumed at step %d with a state that differs from the run's state at that step", got.step)
	}
	if n := len(ro.Curve); n == 0 || ro.Curve[n-1].Step != got.step {
		t.Errorf("resumed curve has %d rows, not ending at step %d", n, got.step)
	}
	if tmp := temporaries(dir); len(tmp) > 0 {
		t.Errorf("temporary files left after resuming: %v", tmp)
	}
	ro.EvalEvery, ro.WriteTokenizer = 5, fakeTokenizer
	if _, err := Run(context.Background(), res, ro); err != nil {
		t.Fatalf("finishing the resumed run: %v", err)
	}
	if !stateOf(res).equal(final) {
		t.Errorf("resumed from step %d: the finished run differs from the uninterrupted one", got.step)
	}
	return got.step
}

// TestCheckpointKilledBetweenFiles is the regression test for checkpoints
// that were not atomic as a set: a SIGKILL between writing the weights and
// the optimizer/state left weights of step 10 with optimizer and state of
// step 5, and --resume silently replayed steps on top of newer weights. The
// folder is copied at every stage of the step-10 checkpoint, as a kill
// there would leave it; each copy must resume bit for bit from step 5
// (killed before the commit) or step 10 (after it), with no temporary file
// left, and finish as the uninterrupted run does.
func TestCheckpointKilledBetweenFiles(t *testing.T) {
	t.Parallel()
	dir, kills := t.TempDir(), t.TempDir()
	var stages []string
	ref, err := runWithStages(t, dir, func(stage string) error {
		stages = append(stages, stage)
		copyTree(t, dir, filepath.Join(kills, strings.ReplaceAll(stage, " ", "_")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tmp := temporaries(dir); len(tmp) > 0 {
		t.Errorf("temporary files left after a completed run: %v", tmp)
	}
	commit := slices.Index(stages, "commit")
	if commit < 0 || len(stages) < 10 {
		t.Fatalf("stages %v: want the files, the manifest, the commit and the installs", stages)
	}
	for i, stage := range stages {
		want := 5
		if i >= commit {
			want = 10
		}
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			kill := filepath.Join(kills, strings.ReplaceAll(stage, " ", "_"))
			checkResumes(t, kill, ref, want, ref[10])
		})
	}
}

// TestCheckpointDiskFullBetweenFiles: a write error (a full disk) at any
// stage of the step-10 checkpoint makes Run fail with that error; before
// the commit it leaves no temporary files and the step-5 checkpoint; after
// it, resuming finishes the install. Either way the run resumes bit for
// bit.
func TestCheckpointDiskFullBetweenFiles(t *testing.T) {
	t.Parallel()
	var stages []string
	ref, err := runWithStages(t, t.TempDir(), func(stage string) error { stages = append(stages, stage); return nil })
	if err != nil {
		t.Fatal(err)
	}
	errFull := errors.New("no space left on device")
	commit := slices.Index(stages, "commit")
	for i, stage := range stages {
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, err := runWithStages(t, dir, func(s string) error {
				if s == stage {
					return errFull
				}
				return nil
			})
			if !errors.Is(err, errFull) {
				t.Fatalf("run error %v, want the disk's error", err)
			}
			if tmp := temporaries(dir); i < commit && len(tmp) > 0 {
				t.Errorf("temporary files left by a failed save: %v", tmp)
			}
			want := 5
			if i >= commit {
				want = 10
			}
			checkResumes(t, dir, ref, want, ref[10])
		})
	}
}

// stepFiveAndTen returns two checkpoint folders of the same run: one
// stopped at step 5, one finished at step 10.
func stepFiveAndTen(t *testing.T) (five, ten string) {
	five, ten = t.TempDir(), t.TempDir()
	tr, _ := New(tinyOptions(10), ckptData())
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Run(ctx, tr, RunOptions{OutDir: five, EvalEvery: 5, Progress: func(r StepResult) {
		if r.Step == 5 {
			cancel()
		}
	}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v", err)
	}
	tr, _ = New(tinyOptions(10), ckptData())
	if _, err := Run(context.Background(), tr, RunOptions{OutDir: ten, EvalEvery: 5}); err != nil {
		t.Fatal(err)
	}
	return five, ten
}

// rehash rewrites the manifest of dir for its current files, keeping the
// step: the hashes then match and only the checks of the parts' agreement
// stand between a crafted checkpoint and training.
func rehash(t *testing.T, dir string) {
	t.Helper()
	m, err := readManifest(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range m.Files {
		if m.Files[i], err = hashFile(filepath.Join(dir, f.Name)); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func editFile(name string, edit func([]byte) []byte) func(t *testing.T, dir, ten string) {
	return func(t *testing.T, dir, _ string) {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, edit(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fromStepTen(name string) func(t *testing.T, dir, ten string) {
	return func(t *testing.T, dir, ten string) {
		b, err := os.ReadFile(filepath.Join(ten, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
}

// TestResumeRefusesMixedOrDamagedCheckpoint: a checkpoint whose files come
// from different steps, or are damaged, is refused with a *CheckpointError
// naming the file, whether the manifest notices (hash) or, for a crafted
// folder whose manifest was rewritten, the checks of the parts' agreement.
func TestResumeRefusesMixedOrDamagedCheckpoint(t *testing.T) {
	t.Parallel()
	five, ten := stepFiveAndTen(t)
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, dir, ten string)
		rehash bool
		file   string // base name of the file the error must name
		want   string // in the message
	}{
		{"weights of step 10, rest of step 5 (killed between files)", fromStepTen(arch.WeightsFile), false, arch.WeightsFile, "mixed or damaged"},
		{"optimizer of step 10", fromStepTen(OptimizerFile), false, OptimizerFile, "mixed or damaged"},
		{"state of step 10", fromStepTen(StateFile), false, StateFile, "mixed or damaged"},
		{"damaged optimizer", editFile(OptimizerFile, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), false, OptimizerFile, "mixed or damaged"},
		{"truncated weights", editFile(arch.WeightsFile, func(b []byte) []byte { return b[:len(b)/2] }), false, arch.WeightsFile, "mixed or damaged"},
		{"missing optimizer", func(t *testing.T, dir, _ string) { os.Remove(filepath.Join(dir, OptimizerFile)) }, false, OptimizerFile, "unreadable"},
		{"no manifest (older gptviz)", func(t *testing.T, dir, _ string) { os.Remove(filepath.Join(dir, ManifestFile)) }, false, ManifestFile, "older gptviz"},
		{"garbage manifest", editFile(ManifestFile, func([]byte) []byte { return []byte("{") }), false, ManifestFile, "unexpected EOF"},
		{"manifest naming a path", editFile(ManifestFile, func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"loss.csv"`, `"../loss.csv"`, 1))
		}), false, ManifestFile, "not a plain file name"},
		// Crafted: the manifest matches, the parts disagree.
		{"optimizer metadata of step 10", fromStepTen(OptimizerFile), true, OptimizerFile, "metadata step"},
		{"config.json of step 10", fromStepTen(arch.ConfigFile), true, arch.ConfigFile, "gptviz_trained_steps"},
		{"state of step 10, manifest rewritten", fromStepTen(StateFile), true, StateFile, "step 10"},
		{"state with wrong tokens", editFile(StateFile, func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"tokens_seen": 1280`, `"tokens_seen": 1281`, 1))
		}), true, StateFile, "tokens_seen 1281"},
		{"state with NaN-free but negative lr", editFile(StateFile, func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"lr": 0.01`, `"lr": -1`, 1))
		}), true, StateFile, "learning rate"},
		{"state asking for 1e6 sequences per step", editFile(StateFile, func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"batch_size": 8`, `"batch_size": 1000000`, 1))
		}), true, StateFile, "GB"},
		{"weights stored in F16", func(t *testing.T, dir, _ string) {
			ts, meta, err := safetensors.ReadAll(filepath.Join(dir, arch.WeightsFile))
			if err != nil {
				t.Fatal(err)
			}
			for i := range ts {
				ts[i].DType = safetensors.F16
			}
			safetensors.Write(filepath.Join(dir, arch.WeightsFile), ts, meta)
		}, true, arch.WeightsFile, "F16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			copyTree(t, five, dir)
			tc.mutate(t, dir, ten)
			if tc.rehash {
				rehash(t, dir)
			}
			_, _, err := Resume(dir, ckptData(), 0)
			var ce *CheckpointError
			if !errors.As(err, &ce) || filepath.Base(ce.File) != tc.file || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a CheckpointError naming %s with %q", err, tc.file, tc.want)
			}
		})
	}
	if _, _, err := Resume(t.TempDir(), ckptData(), 0); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("empty folder: error %v, want ErrNoCheckpoint", err)
	}
	if _, _, err := Resume(five, ckptData(), 0); err != nil {
		t.Errorf("the untouched step-5 checkpoint: %v", err)
	}
}

// TestResumeRefusesDamagedLossCSV is the regression test for a damaged
// loss.csv being accepted on --resume, the earlier history silently
// disappearing: it is refused naming the file and, where the manifest was
// rewritten to match, the line.
func TestResumeRefusesDamagedLossCSV(t *testing.T) {
	t.Parallel()
	five, _ := stepFiveAndTen(t)
	good, err := os.ReadFile(filepath.Join(five, CurveFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(good), "\n")
	for _, tc := range []struct {
		name, data string
		rehash     bool
		want       string
	}{
		{"truncated", strings.Join(lines[:3], ""), false, "mixed or damaged"},
		{"emptied", "", false, "mixed or damaged"},
		{"garbage line 3", lines[0] + lines[1] + "x,y\n" + strings.Join(lines[3:], ""), true, "line 3: 2 fields"},
		{"garbage number", lines[0] + lines[1] + strings.Replace(lines[2], ",", ",z", 2), true, "line 3: tokens"},
		{"history cut to the last row", lines[0] + lines[len(lines)-2], true, "does not start at step 0"},
		{"history after step 3 missing", strings.Join(lines[:5], ""), true, "ends at step 3"},
		{"header only", lines[0], true, "does not start at step 0"},
		{"empty", "", true, "line 1: header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			copyTree(t, five, dir)
			os.WriteFile(filepath.Join(dir, CurveFile), []byte(tc.data), 0o644)
			if tc.rehash {
				rehash(t, dir)
			}
			_, _, err := Resume(dir, ckptData(), 0)
			var ce *CheckpointError
			if !errors.As(err, &ce) || filepath.Base(ce.File) != CurveFile || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a CheckpointError naming %s with %q", err, CurveFile, tc.want)
			}
		})
	}
}

// TestSnapshotReplacedWhole: writing a snapshot of a step that already has
// one (a run resumed from before it) replaces the folder as a unit, and an
// interrupted replacement (old folder moved aside, new one not yet in
// place) is put back by the next save.
func TestSnapshotReplacedWhole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(content string) func(string) error {
		return func(tmp string) error {
			os.MkdirAll(tmp, 0o755)
			return os.WriteFile(filepath.Join(tmp, "f"), []byte(content), 0o644)
		}
	}
	if err := saveSnapshot(dir, "step-000003", write("one")); err != nil {
		t.Fatal(err)
	}
	if err := saveSnapshot(dir, "step-000003", write("two")); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, snapshotsDir, "step-000003")
	if b, _ := os.ReadFile(filepath.Join(snap, "f")); string(b) != "two" {
		t.Errorf("snapshot holds %q, want the new %q", b, "two")
	}
	boom := errors.New("boom")
	if err := saveSnapshot(dir, "step-000004", func(tmp string) error { write("x")(tmp); return boom }); !errors.Is(err, boom) {
		t.Errorf("error %v, want boom", err)
	}
	// A kill between moving the old snapshot aside and renaming the new one in.
	os.Rename(snap, filepath.Join(dir, snapshotsDir, ".step-000003.old"))
	os.MkdirAll(filepath.Join(dir, snapshotsDir, ".step-000005.tmp"), 0o755)
	recoverSnapshots(filepath.Join(dir, snapshotsDir))
	if b, _ := os.ReadFile(filepath.Join(snap, "f")); string(b) != "two" {
		t.Errorf("after recovery the snapshot holds %q, want %q", b, "two")
	}
	if tmp := temporaries(dir); len(tmp) > 0 {
		t.Errorf("temporary folders left: %v", tmp)
	}
}

// TestParseCurveCSV: the loss-curve reader accepts CurveCSV's output and
// the shipped default model's loss.csv, and refuses garbage naming the
// line.
func TestParseCurveCSV(t *testing.T) {
	t.Parallel()
	shipped, err := os.ReadFile("../defaultmodel/gptviz-default/loss.csv")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.ReadFile("../defaultmodel/gptviz-default/" + StateFile)
	if err != nil {
		t.Fatal(err)
	}
	var rec State
	if err := json.Unmarshal(st, &rec); err != nil {
		t.Fatal(err)
	}
	// One row per step 0..Step (step 0: the initial evaluation).
	if pts, err := ParseCurveCSV(shipped); err != nil || len(pts) != rec.Step+1 || pts[len(pts)-1].Step != rec.Step {
		t.Errorf("the default model's loss.csv: %d rows, error %v; want one per step 0..%d", len(pts), err, rec.Step)
	}
	h := curveHeader + "\n"
	for _, tc := range []struct {
		name, data string
		line       int // 0: accepted
	}{
		{"header only", h, 0},
		{"no final newline", h + "0,0,,,,6,6,0.0", 0},
		{"infinite loss", h + "0,0,,+Inf,+Inf,,,0.0\n", 0},
		{"empty", "", 1},
		{"other header", "step,tokens\n0,0,,,,,,0\n", 1},
		{"blank line", h + "0,0,,,,,,0\n\n1,1,,,,,,0\n", 3},
		{"two final newlines", h + "0,0,,,,,,0\n\n", 3},
		{"CRLF", strings.ReplaceAll(h+"0,0,,,,,,0\n", "\n", "\r\n"), 1},
		{"seven fields", h + "0,0,,,,,0\n", 2},
		{"step not a number", h + "x,0,,,,,,0\n", 2},
		{"step with sign", h + "+1,0,,,,,,0\n", 2},
		{"negative tokens", h + "0,-5,,,,,,0\n", 2},
		{"lr NaN", h + "0,0,NaN,,,,,0\n", 2},
		{"lr garbage (was read as NaN)", h + "0,0,abc,,,,,0\n", 2},
		{"negative lr", h + "0,0,-1,,,,,0\n", 2},
		{"loss garbage", h + "0,0,,5x,,,,0\n", 2},
		{"elapsed missing", h + "0,0,,,,,,\n", 2},
		{"elapsed infinite", h + "0,0,,,,,,+Inf\n", 2},
		{"steps going back", h + "0,0,,,,,,0\n2,2,,,,,,0\n1,1,,,,,,0\n", 4},
		{"step repeated", h + "0,0,,,,,,0\n0,0,,,,,,0\n", 3},
		{"step overflowing", h + "99999999999999999999,0,,,,,,0\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCurveCSV([]byte(tc.data))
			var ce *CurveError
			switch {
			case tc.line == 0 && err != nil:
				t.Errorf("refused: %v", err)
			case tc.line != 0 && (!errors.As(err, &ce) || ce.Line != tc.line):
				t.Errorf("error %v, want a CurveError at line %d", err, tc.line)
			}
		})
	}
}
