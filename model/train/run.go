package train

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gptviz/gptviz/internal/atomicfile"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
)

// CurvePoint is one row of the loss curve (loss.csv). Losses are mean
// cross-entropy in nats/token; NaN where not measured at that step.
type CurvePoint struct {
	Step      int     // optimizer steps done
	Tokens    int64   // training tokens seen
	LR        float64 // learning rate of that step
	TrainLoss float64 // loss of that step's batch
	GradNorm  float64 // gradient L2 norm before clipping
	TrainEval float64 // loss on a fixed sample of the training stream (at evaluations)
	ValLoss   float64 // loss on the whole validation stream (at evaluations)
	ElapsedS  float64 // training wall time, seconds
}

// CurveCSV renders the loss curve as CSV with a header row; unmeasured
// values are empty cells.
func CurveCSV(points []CurvePoint) []byte {
	var b strings.Builder
	b.WriteString("step,tokens,lr,train_loss,grad_norm,train_eval_loss,val_loss,elapsed_s\n")
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	for _, p := range points {
		fmt.Fprintf(&b, "%d,%d,%s,%s,%s,%s,%s,%.1f\n", p.Step, p.Tokens, f(p.LR), f(p.TrainLoss), f(p.GradNorm), f(p.TrainEval), f(p.ValLoss), p.ElapsedS)
	}
	return []byte(b.String())
}

// RunOptions are the bookkeeping of Run.
type RunOptions struct {
	OutDir    string // checkpoint folder; snapshots go to OutDir/snapshots/step-NNNNNN
	EvalEvery int    // steps between evaluations and checkpoints; 0 means Steps/20 (at least 1)
	// Snapshots lists steps (0 = the initial weights) at which a copy of the
	// weights is kept for later study, in F16.
	Snapshots []int
	// WriteTokenizer writes vocab.json and merges.txt into a checkpoint
	// folder; nil writes none.
	WriteTokenizer func(dir string) error
	// Progress, if set, is called after every step.
	Progress func(StepResult)
	// Curve holds the rows of an earlier part of the run (when resuming);
	// rows after the trainer's step are dropped.
	Curve []CurvePoint
	// ElapsedS is the training time already spent (when resuming).
	ElapsedS float64
	// Corpus, if set, is recorded in each checkpoint's train_state.json
	// (with EvalEvery and Snapshots), for Resume to return.
	Corpus *Corpus
	// Phases, if set, are recorded in each checkpoint's train_state.json:
	// the changes of a resumed run (ResumeWith returns them).
	Phases []Phase

	hook hook // called at each stage of a checkpoint save; tests only
}

// Run trains t up to t.Opts.Steps, evaluating every EvalEvery steps (loss on
// the validation stream and on a fixed sample of the training stream of the
// same size), saving a checkpoint (weights in F32, optimizer state, loss
// curve) at each evaluation and at the end, and the requested snapshots.
// Each checkpoint is written as one unit with a manifest (see ManifestFile),
// so that an interruption at any moment leaves a complete checkpoint for
// Resume; each snapshot folder is renamed into place once complete.
// When ctx is cancelled it saves a checkpoint and returns an error wrapping
// ctx.Err(). It returns the loss curve.
func Run(ctx context.Context, t *Trainer, ro RunOptions) ([]CurvePoint, error) {
	evalEvery := ro.EvalEvery
	if evalEvery <= 0 {
		evalEvery = max(t.Opts.Steps/20, 1)
	}
	curve := ro.Curve
	for len(curve) > 0 && curve[len(curve)-1].Step > t.Step {
		curve = curve[:len(curve)-1]
	}
	trainSample := t.trainSample()
	start := time.Now()
	elapsed := func() float64 { return ro.ElapsedS + time.Since(start).Seconds() }
	evaluate := func(p *CurvePoint) {
		p.ValLoss, _ = t.Evaluate(t.data.Val)
		if len(t.data.Val) < 2 {
			p.ValLoss = math.NaN()
		}
		p.TrainEval = t.evaluateWindows(trainSample)
	}
	saved := -1 // the step of the last checkpoint written by this call
	if ro.Curve != nil {
		saved = t.Step // resumed: the folder holds the checkpoint of t.Step
	}
	checkpoint := func() error {
		if err := t.checkFinite(saved); err != nil {
			return err
		}
		saved = t.Step
		return saveCheckpoint(ro.OutDir, t.Step, ro.hook, func(stage string) error {
			return t.writeCheckpoint(stage, elapsed(), curve, ro)
		})
	}
	snapshot := func() error {
		for _, s := range ro.Snapshots {
			if s == t.Step {
				if err := t.checkFinite(saved); err != nil {
					return err
				}
				if err := saveSnapshot(ro.OutDir, fmt.Sprintf("step-%06d", s), func(dir string) error {
					if err := t.SaveWeights(dir, safetensors.F16); err != nil {
						return err
					}
					if ro.WriteTokenizer != nil {
						if err := ro.WriteTokenizer(dir); err != nil {
							return fmt.Errorf("train: save tokenizer: %w", err)
						}
					}
					return nil
				}); err != nil {
					return err
				}
				break
			}
		}
		return nil
	}
	if t.Step == 0 {
		p := CurvePoint{Step: 0, LR: math.NaN(), TrainLoss: math.NaN(), GradNorm: math.NaN()}
		evaluate(&p)
		curve = append(curve, p)
		if err := snapshot(); err != nil {
			return curve, err
		}
	}
	if t.Step >= t.Opts.Steps { // nothing to train (--steps 0, or a finished run): still write the checkpoint
		if err := checkpoint(); err != nil {
			return curve, err
		}
	}
	for t.Step < t.Opts.Steps {
		if err := ctx.Err(); err != nil {
			if cerr := checkpoint(); cerr != nil {
				return curve, cerr
			}
			return curve, fmt.Errorf("train: stopped at step %d (checkpoint saved in %s): %w", t.Step, ro.OutDir, err)
		}
		r := t.TrainStep()
		if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) || math.IsNaN(r.GradNorm) || math.IsInf(r.GradNorm, 0) {
			return curve, &DivergedError{Step: r.Step, Loss: r.Loss, GradNorm: r.GradNorm, LR: r.LR, Saved: saved}
		}
		p := CurvePoint{Step: r.Step, Tokens: int64(r.Step) * int64(t.TokensPerStep()), LR: r.LR, TrainLoss: r.Loss,
			GradNorm: r.GradNorm, TrainEval: math.NaN(), ValLoss: math.NaN()}
		last := t.Step == t.Opts.Steps
		if t.Step%evalEvery == 0 || last {
			evaluate(&p)
		}
		p.ElapsedS = elapsed()
		curve = append(curve, p)
		if ro.Progress != nil {
			ro.Progress(r)
		}
		if err := snapshot(); err != nil {
			return curve, err
		}
		if t.Step%evalEvery == 0 || last {
			if err := checkpoint(); err != nil {
				return curve, err
			}
		}
	}
	return curve, nil
}

// DivergedError reports a run whose loss, gradient or weights stopped
// being finite numbers (a learning rate far too high, for one): Run stops
// and writes no checkpoint or snapshot of such weights, so the folder
// keeps the last good checkpoint.
type DivergedError struct {
	Step           int     // the optimizer step at which it was found
	Loss, GradNorm float64 // that step's batch loss and gradient norm (NaN or ±Inf, or finite when only the weights broke)
	LR             float64 // that step's learning rate; 0 when found by the weights' check
	Saved          int     // the step of the checkpoint kept in the folder; -1 when this run wrote none
}

func (e *DivergedError) Error() string {
	s := fmt.Sprintf("train: diverged at step %d: ", e.Step)
	if e.LR != 0 {
		s += fmt.Sprintf("batch loss %g, gradient norm %g at learning rate %g", e.Loss, e.GradNorm, e.LR)
	} else {
		s += "the weights are no longer finite numbers"
	}
	if e.Saved < 0 {
		return s + "; no checkpoint was written"
	}
	return s + fmt.Sprintf("; the checkpoint of step %d was kept", e.Saved)
}

// checkFinite returns a *DivergedError if a weight is NaN or infinite:
// an update can break the weights while the loss of the step that made it
// was still finite. saved is the step of the checkpoint in the folder.
func (t *Trainer) checkFinite(saved int) error {
	for _, v := range t.Params {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return &DivergedError{Step: t.Step, Loss: math.NaN(), GradNorm: math.NaN(), Saved: saved}
		}
	}
	return nil
}

// trainSample returns fixed windows of SeqLen+1 tokens spread evenly over
// the training stream, as many tokens in all as the validation stream (at
// least one window), for the train-eval loss.
func (t *Trainer) trainSample() [][]int {
	T := t.Opts.SeqLen
	n := max(len(t.data.Val)/T, 1)
	span := len(t.data.Train) - T - 1
	var ws [][]int
	for i := 0; i < n; i++ {
		off := 0
		if n > 1 {
			off = i * span / (n - 1)
		}
		ws = append(ws, t.data.Train[off:off+T+1])
	}
	return ws
}

// writeCheckpoint writes the files of a checkpoint into dir (the staging
// folder of saveCheckpoint), calling h after each: config.json
// and model.safetensors (F32), the tokenizer (when writeTokenizer is not
// nil), optimizer.safetensors, train_state.json (recording ro's EvalEvery,
// Snapshots and Corpus) and loss.csv.
func (t *Trainer) writeCheckpoint(dir string, elapsed float64, curve []CurvePoint, ro RunOptions) error {
	writeTokenizer, h := ro.WriteTokenizer, ro.hook
	steps := []struct {
		name  string
		write func() error
	}{
		{arch.WeightsFile, func() error { return t.SaveWeights(dir, safetensors.F32) }},
		{"tokenizer", func() error {
			if writeTokenizer == nil {
				return nil
			}
			if err := writeTokenizer(dir); err != nil {
				return fmt.Errorf("train: save tokenizer: %w", err)
			}
			return nil
		}},
		{OptimizerFile, func() error { return t.writeOptimizer(dir) }},
		{StateFile, func() error { return t.writeState(dir, elapsed, ro) }},
		{CurveFile, func() error { return atomicfile.WriteBytes(filepath.Join(dir, CurveFile), CurveCSV(curve)) }},
	}
	for _, s := range steps {
		if err := s.write(); err != nil {
			return err
		}
		if err := h.at(s.name); err != nil {
			return fmt.Errorf("train: save checkpoint: %w", err)
		}
	}
	return nil
}

// curveHeader is the first line of loss.csv.
const curveHeader = "step,tokens,lr,train_loss,grad_norm,train_eval_loss,val_loss,elapsed_s"

// CurveError reports a loss.csv that is not a loss curve written by
// CurveCSV: the line (1 is the header) and the problem.
type CurveError struct {
	Line    int
	Problem string
}

func (e *CurveError) Error() string { return fmt.Sprintf("loss curve line %d: %s", e.Line, e.Problem) }

// ParseCurveCSV reads a loss.csv written by CurveCSV and refuses anything
// else with a *CurveError naming the line: the header must be CurveCSV's,
// every row has 8 fields, step and tokens are decimal integers ≥ 0 with
// steps strictly increasing, lr is empty or a finite number ≥ 0, the losses
// and grad_norm are empty or numbers (±Inf allowed, NaN is written empty),
// grad_norm is not negative, and elapsed_s is a finite number ≥ 0. The
// data ends with at most one newline; blank lines are refused.
func ParseCurveCSV(data []byte) ([]CurvePoint, error) {
	text := string(data)
	text, _ = strings.CutSuffix(text, "\n")
	lines := strings.Split(text, "\n")
	if lines[0] != curveHeader {
		return nil, &CurveError{Line: 1, Problem: fmt.Sprintf("header %.80q, want %q", lines[0], curveHeader)}
	}
	out := make([]CurvePoint, 0, len(lines)-1)
	for i, l := range lines[1:] {
		p, err := parseCurveRow(l)
		if err == nil && len(out) > 0 && p.Step <= out[len(out)-1].Step {
			err = fmt.Errorf("step %d does not follow step %d", p.Step, out[len(out)-1].Step)
		}
		if err != nil {
			return nil, &CurveError{Line: i + 2, Problem: err.Error()}
		}
		out = append(out, p)
	}
	return out, nil
}

// parseCurveRow parses one data row of loss.csv.
func parseCurveRow(l string) (CurvePoint, error) {
	f := strings.Split(l, ",")
	if len(f) != 8 {
		return CurvePoint{}, fmt.Errorf("%d fields, want 8", len(f))
	}
	integer := func(col, s string) (int64, error) {
		if s == "" || len(s) > 18 || strings.Trim(s, "0123456789") != "" {
			return 0, fmt.Errorf("%s %.40q is not a whole number ≥ 0", col, s)
		}
		return strconv.ParseInt(s, 10, 64)
	}
	// number parses a cell: empty is NaN (not measured) where optional.
	number := func(col, s string, optional, inf bool, lo float64) (float64, error) {
		if s == "" && optional {
			return math.NaN(), nil
		}
		bad := fmt.Errorf("%s %.40q is not a number", col, s)
		if lo == 0 {
			bad = fmt.Errorf("%s %.40q is not a number ≥ 0", col, s)
		}
		if s == "+Inf" || s == "-Inf" {
			if v, _ := strconv.ParseFloat(s, 64); inf && v > lo {
				return v, nil
			}
			return 0, bad
		}
		if s == "" || strings.Trim(s, "0123456789.eE+-") != "" {
			return 0, bad
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(v, 0) || v < lo {
			return 0, bad
		}
		return v, nil
	}
	var p CurvePoint
	step, err := integer("step", f[0])
	if err != nil {
		return p, err
	}
	if step > math.MaxInt32 {
		return p, fmt.Errorf("step %d is out of range", step)
	}
	p.Step = int(step)
	if p.Tokens, err = integer("tokens", f[1]); err != nil {
		return p, err
	}
	inf := math.Inf(-1)
	for _, c := range []struct {
		col      string
		s        string
		dst      *float64
		optional bool
		inf      bool
		lo       float64
	}{
		{"lr", f[2], &p.LR, true, false, 0},
		{"train_loss", f[3], &p.TrainLoss, true, true, inf},
		{"grad_norm", f[4], &p.GradNorm, true, true, 0},
		{"train_eval_loss", f[5], &p.TrainEval, true, true, inf},
		{"val_loss", f[6], &p.ValLoss, true, true, inf},
		{"elapsed_s", f[7], &p.ElapsedS, false, false, 0},
	} {
		if *c.dst, err = number(c.col, c.s, c.optional, c.inf, c.lo); err != nil {
			return p, err
		}
	}
	return p, nil
}
