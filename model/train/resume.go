package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
)

// MaxTrainBytes bounds the memory a training run may need (MemoryBytes):
// beyond it the run would fail or push the machine into swap.
const MaxTrainBytes = 16 << 30

// resumeMaxBytes is the limit Resume applies (MaxTrainBytes; fuzz tests
// lower it so that no input makes them allocate gigabytes).
var resumeMaxBytes float64 = MaxTrainBytes

// maxCurveBytes bounds the read of loss.csv on resume: about 4 million
// rows.
const maxCurveBytes = 256 << 20

// MemoryBytes estimates the memory, in bytes, that training with o needs:
// parameters, AdamW's two moments and the transposed embedding, and for
// each shard a gradient and the activations kept for the backward pass of
// its share of the batch (N = batch × seq_len tokens in all): per layer
// about 10·N·n_embd + 3·N·n_inner + batch·n_head·seq_len² floats, plus
// 10·N·n_embd + 2·N·n_inner + 2·N·vocab_size for the embeddings and the
// head. Zero fields take New's defaults (seq_len n_positions, n_inner
// 4·n_embd, one shard).
func MemoryBytes(o Options) float64 {
	c := o.Config
	V, P, C, L, H := float64(c.VocabSize), float64(c.NPositions), float64(c.NEmbd), float64(c.NLayer), float64(c.NHead)
	I := float64(c.NInner)
	if I == 0 {
		I = 4 * C
	}
	T := float64(o.SeqLen)
	if T == 0 {
		T = P
	}
	B := float64(o.BatchSize)
	S := float64(max(min(o.Shards, o.BatchSize), 1))
	params := V*C + P*C + L*(4*C+3*C*C+3*C+C*C+C+C*I+I+I*C+C) + 2*C
	N := B * T
	acts := L*(10*N*C+3*N*I+B*H*T*T) + 10*N*C + 2*N*I + 2*N*V
	return 4 * (params*(3+S) + V*C + acts)
}

// Resume rebuilds a Trainer from a checkpoint folder written by Run and
// returns it with the RunOptions that continue the run: OutDir dir, Curve
// the loss curve so far, ElapsedS the training time already spent, in
// seconds, and EvalEvery, Snapshots and Corpus as recorded (zero for a
// checkpoint of an older gptviz); the caller adds WriteTokenizer and
// Progress, and may change EvalEvery and Snapshots. steps > 0 replaces the
// run's total steps (the schedule then changes from the checkpoint on); a
// total before the checkpoint's step is refused with a *StepsError.
//
// It first verifies the checkpoint as one unit (Verify: an interrupted save
// is finished or dropped; a mixed or damaged set is refused), then checks
// that its parts agree: train_state.json's step, tokens and options, the
// weights' tensor names, dtypes (F32) and shapes against the options'
// config, the optimizer's moments and metadata (step and adam_t equal the
// state's step), config.json's trained steps, and loss.csv (a valid curve
// from step 0 to the checkpoint's step). It returns ErrNoCheckpoint for a
// folder without a checkpoint, a *CheckpointError naming the file for a
// refused one, and errors of New for data that does not fit the run. A
// model needing more than MaxTrainBytes (MemoryBytes) is refused before
// anything is allocated.
func Resume(dir string, data Data, steps int) (*Trainer, RunOptions, error) {
	return ResumeWith(dir, data, Changes{Steps: steps})
}

// Changes are the settings a resumed run may change from its checkpoint's
// step on (ResumeWith).
type Changes struct {
	// Steps > 0 replaces the run's total steps, as Resume's steps does.
	Steps int
	// Dropout, RepeatFrac and RandomRepeatFrac, where not nil, replace the
	// recorded Options fields of the same names; a value that differs
	// starts a new Phase at the checkpoint's step.
	Dropout, RepeatFrac, RandomRepeatFrac *float64
}

// ResumeWith is Resume with changes: a new total of steps, and new dropout
// and repeat fractions for the steps to come (a later phase of training, as
// a fine-tuning schedule lowers regularisation). The RunOptions it returns
// carry the run's phases, the change included, for Run to record in
// train_state.json. Errors are Resume's, and an error for a changed value
// outside its range.
func ResumeWith(dir string, data Data, c Changes) (*Trainer, RunOptions, error) {
	st, err := ReadState(dir)
	if err != nil {
		return nil, RunOptions{}, err
	}
	if c.Steps > 0 {
		if c.Steps < st.Step {
			return nil, RunOptions{}, fmt.Errorf("train: resume: %w", &StepsError{Steps: c.Steps, Step: st.Step})
		}
		st.Options.Steps = c.Steps
	}
	st.Phases = st.change(c)
	t, err := New(st.Options, data)
	if err != nil {
		return nil, RunOptions{}, fmt.Errorf("train: resume: %w", err)
	}
	if err := t.loadWeights(filepath.Join(dir, arch.WeightsFile)); err != nil {
		return nil, RunOptions{}, fmt.Errorf("train: resume: %w", err)
	}
	if err := t.loadOptimizer(filepath.Join(dir, OptimizerFile), st.Step); err != nil {
		return nil, RunOptions{}, fmt.Errorf("train: resume: %w", err)
	}
	if err := checkConfigJSON(filepath.Join(dir, arch.ConfigFile), t.Opts.Config, st.Step); err != nil {
		return nil, RunOptions{}, fmt.Errorf("train: resume: %w", err)
	}
	curve, err := readCurve(filepath.Join(dir, CurveFile), st.Step, t.TokensPerStep())
	if err != nil {
		return nil, RunOptions{}, fmt.Errorf("train: resume: %w", err)
	}
	t.Step, t.opt.t = st.Step, st.Step
	if err := t.checkFinite(st.Step); err != nil {
		return nil, RunOptions{}, fmt.Errorf("train: resume: %s: %w", arch.WeightsFile, err)
	}
	return t, RunOptions{OutDir: dir, Curve: curve, ElapsedS: st.ElapsedS,
		EvalEvery: st.EvalEvery, Snapshots: st.Snapshots, Corpus: st.Corpus, Phases: st.Phases}, nil
}

// change applies c's dropout and repeat fractions to st.Options and returns
// the run's phases with the change: none while nothing has changed, else a
// first phase from step 0 with the run's starting values and one from each
// step where a value changed (a change at the step of the last phase
// replaces it).
func (st *State) change(c Changes) []Phase {
	o := &st.Options
	before := phaseOf(0, *o)
	for _, f := range []struct {
		to   *float64
		from *float64
	}{{c.Dropout, &o.Dropout}, {c.RepeatFrac, &o.RepeatFrac}, {c.RandomRepeatFrac, &o.RandomRepeatFrac}} {
		if f.to != nil {
			*f.from = *f.to
		}
	}
	after := phaseOf(st.Step, *o)
	if after.sameSettings(before) {
		return st.Phases
	}
	phases := slices.Clone(st.Phases)
	if len(phases) == 0 {
		phases = append(phases, before)
	}
	if last := &phases[len(phases)-1]; last.From == st.Step {
		*last = after
		if len(phases) > 1 && after.sameSettings(phases[len(phases)-2]) {
			phases = phases[:len(phases)-1]
		}
		if len(phases) == 1 {
			return nil // back to the run's starting values
		}
		return phases
	}
	return append(phases, after)
}

// Phase records the dropout and repeat fractions a run trained with from
// step From on (until the next phase's From): train_state.json lists them
// once a resumed run has changed one (ResumeWith).
type Phase struct {
	From             int     `json:"from_step"`
	Dropout          float64 `json:"dropout"`
	RepeatFrac       float64 `json:"repeat_frac"`
	RandomRepeatFrac float64 `json:"random_repeat_frac"`
}

func phaseOf(from int, o Options) Phase {
	return Phase{From: from, Dropout: o.Dropout, RepeatFrac: o.RepeatFrac, RandomRepeatFrac: o.RandomRepeatFrac}
}

func (p Phase) sameSettings(q Phase) bool {
	p.From = q.From
	return p == q
}

// checkPhases checks a recorded list of phases against the state's step
// and options: none, or at least two, the first from step 0, each from a
// later step than the one before and none after step, and the last with
// the options' values.
func checkPhases(phases []Phase, step int, o Options) error {
	if len(phases) == 0 {
		return nil
	}
	if len(phases) == 1 || phases[0].From != 0 {
		return fmt.Errorf("phases: a change needs a first phase from step 0 and one from the step of the change")
	}
	for i, p := range phases[1:] {
		if p.From <= phases[i].From || p.From > step {
			return fmt.Errorf("phases: from_step %d is not in ascending order within 1..%d", p.From, step)
		}
	}
	if last := phases[len(phases)-1]; !last.sameSettings(phaseOf(0, o)) {
		return fmt.Errorf("phases: the last phase (dropout %g, repeat_frac %g, random_repeat_frac %g) is not the options' (%g, %g, %g)",
			last.Dropout, last.RepeatFrac, last.RandomRepeatFrac, o.Dropout, o.RepeatFrac, o.RandomRepeatFrac)
	}
	return nil
}

// StepsError reports a new total of steps before the checkpoint's step:
// the run cannot be shortened to before where it already is.
type StepsError struct {
	Steps int // the total asked for
	Step  int // the checkpoint's step
}

func (e *StepsError) Error() string {
	return fmt.Sprintf("a total of %d steps is before the checkpoint's step %d", e.Steps, e.Step)
}

// ReadState verifies the checkpoint in dir as one unit (Verify) and returns
// its train_state.json, checked on its own and against the manifest's step
// (see Resume), without loading weights: what a caller needs to know about
// the run (options, step, evaluation period, snapshot plan, corpus) before
// it prepares the data to resume with. Errors are those of Resume.
func ReadState(dir string) (*State, error) {
	m, err := Verify(dir)
	if err != nil {
		return nil, fmt.Errorf("train: resume: %w", err)
	}
	st, err := readState(filepath.Join(dir, StateFile), m.Step)
	if err != nil {
		return nil, fmt.Errorf("train: resume: %w", err)
	}
	return &st, nil
}

// readState reads train_state.json and checks it on its own and against
// the manifest's step: step in [0, options.steps], options valid and within
// the memory limit, tokens_seen = step × batch × seq_len, elapsed_s finite
// and not negative, eval_every ≥ 0, snapshots ascending and distinct in
// [0, options.steps], and a corpus record, where present, with a name and a
// SHA-256.
func readState(path string, step int) (State, error) {
	b, err := readBounded(path, maxManifestBytes)
	if err != nil {
		return State{}, err
	}
	var st State
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&st); err != nil {
		return State{}, checkpointErr(path, "%v", err)
	}
	if dec.More() {
		return State{}, checkpointErr(path, "data after the JSON object")
	}
	o := st.Options
	if err := o.validate(); err != nil {
		return State{}, checkpointErr(path, "options: %v", err)
	}
	if err := o.Config.Validate(); err != nil {
		return State{}, checkpointErr(path, "options: %v", err)
	}
	if need := MemoryBytes(o); need > resumeMaxBytes {
		return State{}, checkpointErr(path, "options: training needs about %.3g GB, more than the limit of %.3g GB", need/1e9, resumeMaxBytes/1e9)
	}
	switch tokens := int64(st.Step) * int64(o.BatchSize) * int64(o.SeqLen); {
	case st.Step != step:
		return State{}, checkpointErr(path, "step %d, but %s is of step %d", st.Step, ManifestFile, step)
	case st.Step > o.Steps:
		return State{}, checkpointErr(path, "step %d is past the run's %d steps", st.Step, o.Steps)
	case st.Tokens != tokens:
		return State{}, checkpointErr(path, "tokens_seen %d, but %d steps of %d × %d tokens are %d", st.Tokens, st.Step, o.BatchSize, o.SeqLen, tokens)
	case !(st.ElapsedS >= 0) || math.IsInf(st.ElapsedS, 0):
		return State{}, checkpointErr(path, "elapsed_s %v is not a time", st.ElapsedS)
	case st.EvalEvery < 0:
		return State{}, checkpointErr(path, "eval_every %d is negative", st.EvalEvery)
	}
	for i, s := range st.Snapshots {
		if s < 0 || s > o.Steps || (i > 0 && s <= st.Snapshots[i-1]) {
			return State{}, checkpointErr(path, "snapshots: step %d is not in ascending order within 0..%d", s, o.Steps)
		}
	}
	if err := checkPhases(st.Phases, st.Step, o); err != nil {
		return State{}, checkpointErr(path, "%v", err)
	}
	if c := st.Corpus; c != nil && (c.Name == "" || !isSHA256Hex(c.SHA256)) {
		return State{}, checkpointErr(path, "corpus: the name is empty or sha256 %.80q is not 64 lower-case hex digits", c.SHA256)
	}
	return st, nil
}

// loadWeights copies the weights of model.safetensors into t.Params after
// checking that the file holds exactly the tensors of t's layout, in F32,
// with their shapes.
func (t *Trainer) loadWeights(path string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if got, want := len(f.Tensors()), len(t.tensors); got != want {
		return checkpointErr(path, "%d tensors, the config needs %d", got, want)
	}
	for _, ti := range t.tensors {
		d, err := float32Tensor(f, path, ti.Name, ti.Shape)
		if err != nil {
			return err
		}
		copy(t.Params[ti.Off:ti.Off+ti.Size], d)
	}
	return nil
}

// loadOptimizer copies AdamW's moments from optimizer.safetensors and
// checks its metadata: step and adam_t (the number of updates made) must
// both equal step.
func (t *Trainer) loadOptimizer(path string, step int) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if len(f.Tensors()) != 2 {
		return checkpointErr(path, "%d tensors, want adamw.m and adamw.v", len(f.Tensors()))
	}
	n := len(t.Params)
	for _, mv := range []struct {
		name string
		dst  []float32
	}{{"adamw.m", t.opt.m}, {"adamw.v", t.opt.v}} {
		d, err := float32Tensor(f, path, mv.name, []int{n})
		if err != nil {
			return err
		}
		copy(mv.dst, d)
	}
	for _, key := range []string{"step", "adam_t"} {
		s, ok := f.Metadata[key]
		if !ok {
			return checkpointErr(path, "metadata %s is missing", key)
		}
		if s != strconv.Itoa(step) {
			return checkpointErr(path, "metadata %s %q, want the checkpoint's step %d", key, s, step)
		}
	}
	return nil
}

// float32Tensor returns the F32 tensor name of f, checking its shape.
func float32Tensor(f *safetensors.File, path, name string, shape []int) ([]float32, error) {
	info, ok := f.Info(name)
	switch {
	case !ok:
		return nil, checkpointErr(path, "tensor %q is missing", name)
	case info.DType != safetensors.F32:
		return nil, checkpointErr(path, "tensor %q is %s, a checkpoint stores F32", name, info.DType)
	case !slices.Equal(info.Shape, shape):
		return nil, checkpointErr(path, "tensor %q has shape %v, want %v", name, info.Shape, shape)
	}
	return f.Float32(name)
}

// checkConfigJSON checks that config.json describes c after step steps.
func checkConfigJSON(path string, c arch.Config, step int) error {
	b, err := readBounded(path, maxManifestBytes)
	if err != nil {
		return err
	}
	got, err := arch.ParseConfig(b)
	if err != nil {
		return checkpointErr(path, "%v", err)
	}
	var extra struct {
		Steps *int `json:"gptviz_trained_steps"`
	}
	if err := json.Unmarshal(b, &extra); err != nil {
		return checkpointErr(path, "%v", err)
	}
	switch {
	case got.VocabSize != c.VocabSize || got.NPositions != c.NPositions || got.NEmbd != c.NEmbd ||
		got.NLayer != c.NLayer || got.NHead != c.NHead || got.NInner != c.NInner:
		return checkpointErr(path, "architecture (vocab_size %d, n_positions %d, n_embd %d, n_layer %d, n_head %d, n_inner %d) differs from %s's",
			got.VocabSize, got.NPositions, got.NEmbd, got.NLayer, got.NHead, got.NInner, StateFile)
	case extra.Steps == nil || *extra.Steps != step:
		return checkpointErr(path, "gptviz_trained_steps is not the checkpoint's step %d", step)
	}
	return nil
}

// readCurve reads loss.csv and checks that it is the curve of this run up
// to step: rows from step 0 to step, each with tokens = step ×
// tokensPerStep.
func readCurve(path string, step, tokensPerStep int) ([]CurvePoint, error) {
	b, err := readBounded(path, maxCurveBytes)
	if err != nil {
		return nil, err
	}
	curve, err := ParseCurveCSV(b)
	if err != nil {
		return nil, checkpointErr(path, "%v", err)
	}
	if len(curve) == 0 || curve[0].Step != 0 {
		return nil, checkpointErr(path, "the curve does not start at step 0: the earlier history is missing")
	}
	for i, p := range curve {
		if want := int64(p.Step) * int64(tokensPerStep); p.Tokens != want {
			return nil, checkpointErr(path, "line %d: step %d with %d tokens, want %d (%d tokens per step)", i+2, p.Step, p.Tokens, want, tokensPerStep)
		}
	}
	if last := curve[len(curve)-1].Step; last != step {
		return nil, checkpointErr(path, "line %d: the curve ends at step %d, the checkpoint is of step %d", len(curve)+1, last, step)
	}
	return curve, nil
}
