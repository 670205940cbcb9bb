package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
)

// patternData is a stream with structure a tiny model can learn quickly:
// short random "words" repeated in a fixed order, with noise.
func patternData(n, vocab int) []int {
	words := [][]int{{1, 2, 3}, {4, 5}, {6, 7, 8, 9}, {3, 2, 1}, {10, 11}}
	r := randomData(n, vocab, 5)
	var s []int
	for i := 0; len(s) < n; i++ {
		s = append(s, words[i%len(words)]...)
		if r[i]%4 == 0 {
			s = append(s, r[i])
		}
	}
	return s[:n]
}

func tinyOptions(steps int) Options {
	c := arch.Config{VocabSize: 16, NPositions: 32, NEmbd: 32, NLayer: 2, NHead: 2}
	o := DefaultOptions(c, steps)
	o.BatchSize, o.LR = 8, 1e-2
	return o
}

// TestRunLossDecreases trains a tiny model for 60 steps (well under a
// second) and requires the validation loss to fall far below its start.
func TestRunLossDecreases(t *testing.T) {
	t.Parallel()
	o := tinyOptions(60)
	tr, err := New(o, Data{Train: patternData(4000, 16), Val: patternData(600, 16)[100:]})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	curve, err := Run(context.Background(), tr, RunOptions{OutDir: dir, EvalEvery: 20, Snapshots: []int{0, 30}})
	if err != nil {
		t.Fatal(err)
	}
	first, last := curve[0], curve[len(curve)-1]
	if first.Step != 0 || last.Step != 60 || len(curve) != 61 {
		t.Fatalf("curve from step %d to %d with %d rows, want 0…60, 61 rows", first.Step, last.Step, len(curve))
	}
	if !(last.ValLoss < first.ValLoss-1) || !(last.TrainEval < first.TrainEval-1) {
		t.Errorf("loss did not fall: validation %.3f → %.3f, train %.3f → %.3f", first.ValLoss, last.ValLoss, first.TrainEval, last.TrainEval)
	}
	for _, f := range []string{arch.ConfigFile, arch.WeightsFile, OptimizerFile, StateFile, CurveFile,
		"snapshots/step-000000/" + arch.WeightsFile, "snapshots/step-000030/" + arch.ConfigFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("checkpoint file: %v", err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, CurveFile))
	back, err := ParseCurveCSV(b)
	if err != nil || len(back) != len(curve) || math.Abs(back[60].ValLoss-last.ValLoss) > 1e-5 {
		t.Errorf("loss.csv round trip: %d rows, err %v", len(back), err)
	}
}

// TestDeterministic checks that the same seed gives bit-identical weights
// whether the shards run on one goroutine or two, and that another seed
// gives different weights.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	train := func(seed uint64, procs int) []float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		o := tinyOptions(10)
		o.Seed, o.Dropout = seed, 0.1
		tr, err := New(o, Data{Train: patternData(3000, 16)})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			tr.TrainStep()
		}
		return tr.Params
	}
	a, b, c := train(1, 1), train(1, 2), train(2, 2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("param %d: %v with 1 goroutine, %v with 2", i, a[i], b[i])
		}
	}
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("seeds 1 and 2 gave the same weights")
	}
}

// TestResume stops a run with a cancelled context, resumes it from the
// checkpoint and checks that the result equals an uninterrupted run.
func TestResume(t *testing.T) {
	t.Parallel()
	data := Data{Train: patternData(3000, 16), Val: patternData(300, 16)}
	o := tinyOptions(20)
	full, _ := New(o, data)
	if _, err := Run(context.Background(), full, RunOptions{OutDir: t.TempDir(), EvalEvery: 5}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	part, _ := New(o, data)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, part, RunOptions{OutDir: dir, EvalEvery: 5, Progress: func(r StepResult) {
		if r.Step == 7 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: error %v, want context.Canceled", err)
	}
	res, _, err := Resume(dir, data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Step != 7 {
		t.Fatalf("resumed at step %d, want 7", res.Step)
	}
	if _, err := Run(context.Background(), res, RunOptions{OutDir: dir, EvalEvery: 5}); err != nil {
		t.Fatal(err)
	}
	for i := range full.Params {
		if full.Params[i] != res.Params[i] {
			t.Fatalf("param %d: %v uninterrupted, %v resumed", i, full.Params[i], res.Params[i])
		}
	}
}

// TestReloadRoundTrip trains briefly, saves, loads the checkpoint with the
// engine (model.Load) and compares the engine's logits with the trainer's
// forward pass, for F32 and F16 storage.
func TestReloadRoundTrip(t *testing.T) {
	t.Parallel()
	o := tinyOptions(15)
	o.Config.NPositions, o.SeqLen = 32, 32
	tr, err := New(o, Data{Train: patternData(3000, 16)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 15; i++ {
		tr.TrainStep()
	}
	ids := patternData(32, 16)
	want := tr.Logits(ids)
	for _, c := range []struct {
		dtype safetensors.DType
		tol   float64
	}{{safetensors.F32, 1e-4}, {safetensors.F16, 5e-2}} {
		dir := t.TempDir()
		if err := tr.SaveWeights(dir, c.dtype); err != nil {
			t.Fatal(err)
		}
		m, err := model.Load(dir)
		if err != nil {
			t.Fatalf("%s: model.Load: %v", c.dtype, err)
		}
		if m.Config.NLayer != 2 || m.Config.NEmbd != 32 || m.Config.VocabSize != 16 {
			t.Errorf("%s: loaded config %+v", c.dtype, m.Config)
		}
		got, err := m.Logits(ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d logits, want %d", c.dtype, len(got), len(want))
		}
		var worst float64
		for i := range got {
			worst = max(worst, math.Abs(float64(got[i]-want[i])))
		}
		t.Logf("%s: largest |engine − trainer| logit difference %.3g", c.dtype, worst)
		if worst > c.tol {
			t.Errorf("%s: engine and trainer logits differ by up to %.3g (tolerance %g)", c.dtype, worst, c.tol)
		}
	}
}

// TestExport exports an F32 checkpoint to F16 and checks that the engine
// loads it with the same config, torch_dtype float16 and nearly the same
// logits, and that the optimizer state stays behind.
func TestExport(t *testing.T) {
	t.Parallel()
	o := tinyOptions(5)
	tr, err := New(o, Data{Train: patternData(3000, 16), Val: patternData(100, 16)})
	if err != nil {
		t.Fatal(err)
	}
	src, dst := t.TempDir(), t.TempDir()
	if _, err := Run(context.Background(), tr, RunOptions{OutDir: src}); err != nil {
		t.Fatal(err)
	}
	if err := Export(src, dst, safetensors.F16); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dst, arch.ConfigFile))
	if !strings.Contains(string(b), `"torch_dtype": "float16"`) {
		t.Errorf("exported config.json lacks torch_dtype float16:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dst, OptimizerFile)); !os.IsNotExist(err) {
		t.Errorf("optimizer state was exported (stat error %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dst, CurveFile)); err != nil {
		t.Errorf("loss curve not exported: %v", err)
	}
	m, err := model.Load(dst)
	if err != nil {
		t.Fatal(err)
	}
	ids := patternData(20, 16)
	got, err := m.Logits(ids)
	if err != nil {
		t.Fatal(err)
	}
	want := tr.Logits(ids)
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 5e-2 {
			t.Fatalf("logit %d: %v after F16 export, %v before", i, got[i], want[i])
		}
	}
}

// TestInitialWeights checks that InitialWeights reproduces the weights a
// Trainer starts from.
func TestInitialWeights(t *testing.T) {
	t.Parallel()
	o := tinyOptions(5)
	o.Seed = 42
	tr, err := New(o, Data{Train: patternData(100, 16)})
	if err != nil {
		t.Fatal(err)
	}
	w, c, err := InitialWeights(o)
	if err != nil {
		t.Fatal(err)
	}
	want := tr.Weights()
	if c.NInner != 4*c.NEmbd || len(w.Blocks) != 2 || !slices.Equal(w.WTE, want.WTE) || !slices.Equal(w.Blocks[1].MLPProjW, want.Blocks[1].MLPProjW) {
		t.Error("InitialWeights differs from the trainer's initial weights")
	}
}

// TestRepeatBatch checks the repeated-passage windows: with RepeatFrac 1
// every window is A A B… for some 8 ≤ |A| ≤ T/2, and targets are the inputs
// shifted by one.
func TestRepeatBatch(t *testing.T) {
	t.Parallel()
	o := tinyOptions(5)
	o.RepeatFrac = 1
	stream := randomData(500, 16, 9)
	tr, err := New(o, Data{Train: stream})
	if err != nil {
		t.Fatal(err)
	}
	T := o.Config.NPositions
	tok, tgt := tr.batch(3)
	for b := 0; b < o.BatchSize; b++ {
		w := tok[b*T : (b+1)*T]
		found := false
		for h := 8; h <= T/2 && !found; h++ {
			found = slices.Equal(w[:h], w[h:2*h])
		}
		if !found {
			t.Errorf("window %d does not start with a repeated passage: %v", b, w)
		}
		if !slices.Equal(tok[b*T+1:(b+1)*T], tgt[b*T:(b+1)*T-1]) {
			t.Errorf("window %d: targets are not the inputs shifted by one", b)
		}
	}
}

// TestRandomRepeatBatch checks the random-repeat windows: with
// RandomRepeatFrac 1 every window has a period h in [8, T/2], its ids are
// in the vocabulary, and the windows are not text from the stream (which
// here uses ids 0..3 only); with 0.5 some windows are text and some are not.
func TestRandomRepeatBatch(t *testing.T) {
	t.Parallel()
	o := tinyOptions(5)
	o.Config.VocabSize = 64
	o.BatchSize = 32
	stream := randomData(500, 4, 9)
	T := o.Config.NPositions
	period := func(w []int) int {
		for h := 8; h <= T/2; h++ {
			if slices.Equal(w[:len(w)-h], w[h:]) {
				return h
			}
		}
		return 0
	}
	for _, tc := range []struct {
		frac               float64
		minRandom, maxRand int
	}{{1, 32, 32}, {0.5, 4, 28}, {0, 0, 0}} {
		o.RandomRepeatFrac = tc.frac
		tr, err := New(o, Data{Train: stream})
		if err != nil {
			t.Fatal(err)
		}
		tok, tgt := tr.batch(3)
		random := 0
		for b := 0; b < o.BatchSize; b++ {
			w := tok[b*T : (b+1)*T]
			if slices.Max(w) >= 4 { // not from the stream
				random++
				if h := period(append(slices.Clone(w), tgt[(b+1)*T-1])); h == 0 {
					t.Errorf("frac %g: window %d has no period in [8, %d]: %v", tc.frac, b, T/2, w)
				}
				if slices.Max(w) >= o.Config.VocabSize || slices.Min(w) < 0 {
					t.Errorf("frac %g: window %d has ids outside the vocabulary: %v", tc.frac, b, w)
				}
			}
			if !slices.Equal(tok[b*T+1:(b+1)*T], tgt[b*T:(b+1)*T-1]) {
				t.Errorf("frac %g: window %d: targets are not the inputs shifted by one", tc.frac, b)
			}
		}
		if random < tc.minRandom || random > tc.maxRand {
			t.Errorf("frac %g: %d of %d windows random, want %d..%d", tc.frac, random, o.BatchSize, tc.minRandom, tc.maxRand)
		}
	}
}

// TestRunZeroSteps checks that a run of zero steps still writes its
// (initial) checkpoint, so `gptviz train --steps 0` regenerates step 0.
func TestRunZeroSteps(t *testing.T) {
	t.Parallel()
	o := tinyOptions(0)
	tr, err := New(o, Data{Train: patternData(300, 16), Val: patternData(100, 16)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	curve, err := Run(context.Background(), tr, RunOptions{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(curve) != 1 || curve[0].Step != 0 {
		t.Errorf("curve %+v, want the single step-0 row", curve)
	}
	if _, err := model.Load(dir); err != nil {
		t.Errorf("step-0 checkpoint: %v", err)
	}
}

// TestMaskRandomPrefix: with MaskRandomPrefix a random window's targets
// are -1 exactly where the next token has not occurred yet (positions
// 0..h-1 of a sequence of period h) and the copies after it are kept; text
// windows keep every target; the step's loss is the mean over the kept
// targets. Without it the windows are those of a run that never had the
// option.
func TestMaskRandomPrefix(t *testing.T) {
	t.Parallel()
	o := tinyOptions(5)
	o.Config.VocabSize = 64
	o.BatchSize = 32
	o.RandomRepeatFrac = 0.5
	stream := randomData(500, 4, 9)
	T := o.Config.NPositions
	plainTr, err := New(o, Data{Train: stream})
	if err != nil {
		t.Fatal(err)
	}
	o.MaskRandomPrefix = true
	maskTr, err := New(o, Data{Train: stream})
	if err != nil {
		t.Fatal(err)
	}
	ptok, ptgt := plainTr.batch(3)
	tok, tgt := maskTr.batch(3)
	if !slices.Equal(ptok, tok) {
		t.Fatal("the mask changed the inputs")
	}
	random := 0
	for b := 0; b < o.BatchSize; b++ {
		w, y, py := tok[b*T:(b+1)*T], tgt[b*T:(b+1)*T], ptgt[b*T:(b+1)*T]
		masked := slices.Index(y, -1) >= 0
		if slices.Max(w) < 4 { // a window of the stream
			if masked || !slices.Equal(y, py) {
				t.Errorf("window %d (text): targets changed: %v", b, y)
			}
			continue
		}
		random++
		h := 0
		for h < T && y[h] == -1 {
			h++
		}
		if h < 8 || h > T/2 || slices.Contains(y[h:], -1) {
			t.Fatalf("window %d: masked targets %v, want a leading run of 8..%d", b, y, T/2)
		}
		if !slices.Equal(y[h:], py[h:]) {
			t.Errorf("window %d: the copies' targets changed", b)
		}
		for j := h; j < T; j++ { // each kept target occurred h tokens before
			if py[j] != w[j-h+1] {
				t.Errorf("window %d: target at %d is not a copy from %d back", b, j, h)
			}
		}
	}
	if random == 0 || random == o.BatchSize {
		t.Fatalf("%d of %d windows random: the fixture should mix both", random, o.BatchSize)
	}
	kept := 0
	for _, y := range tgt {
		if y >= 0 {
			kept++
		}
	}
	maskTr.Step = 3
	r := maskTr.TrainStep()
	sum := 0.0
	for _, w := range maskTr.shards {
		sum += w.lossSum
	}
	if math.Abs(r.Loss-sum/float64(kept)) > 1e-12 {
		t.Errorf("loss %g, want the mean over the %d kept targets %g", r.Loss, kept, sum/float64(kept))
	}
}
