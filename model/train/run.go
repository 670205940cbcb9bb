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
}

// Run trains t up to t.Opts.Steps, evaluating every EvalEvery steps (loss on
// the validation stream and on a fixed sample of the training stream of the
// same size), saving a checkpoint (weights in F32, optimizer state, loss
// curve) at each evaluation and at the end, and the requested snapshots.
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
	checkpoint := func() error {
		if err := t.SaveWeights(ro.OutDir, safetensors.F32); err != nil {
			return err
		}
		if ro.WriteTokenizer != nil {
			if err := ro.WriteTokenizer(ro.OutDir); err != nil {
				return fmt.Errorf("train: save tokenizer: %w", err)
			}
		}
		if err := t.saveOptimizer(ro.OutDir, elapsed()); err != nil {
			return err
		}
		return atomicfile.WriteBytes(filepath.Join(ro.OutDir, CurveFile), CurveCSV(curve))
	}
	snapshot := func() error {
		for _, s := range ro.Snapshots {
			if s == t.Step {
				dir := filepath.Join(ro.OutDir, "snapshots", fmt.Sprintf("step-%06d", s))
				if err := t.SaveWeights(dir, safetensors.F16); err != nil {
					return err
				}
				if ro.WriteTokenizer != nil {
					if err := ro.WriteTokenizer(dir); err != nil {
						return fmt.Errorf("train: save tokenizer: %w", err)
					}
				}
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

// ParseCurveCSV reads a loss.csv written by CurveCSV.
func ParseCurveCSV(data []byte) ([]CurvePoint, error) {
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var out []CurvePoint
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 8 {
			return nil, fmt.Errorf("train: loss curve line %d: %d fields, want 8", i+2, len(f))
		}
		num := func(s string) float64 {
			if s == "" {
				return math.NaN()
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return math.NaN()
			}
			return v
		}
		step, err1 := strconv.Atoi(f[0])
		tok, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("train: loss curve line %d: bad step or tokens", i+2)
		}
		out = append(out, CurvePoint{Step: step, Tokens: tok, LR: num(f[2]), TrainLoss: num(f[3]), GradNorm: num(f[4]),
			TrainEval: num(f[5]), ValLoss: num(f[6]), ElapsedS: num(f[7])})
	}
	return out, nil
}
