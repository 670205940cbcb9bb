// Package train trains a GPT-2 (the architecture of package model: learned
// positions, pre-LayerNorm blocks, gelu_new, tied head) from token ids, with
// a hand-written backward pass, AdamW, a warm-up + cosine learning-rate
// schedule and global-norm gradient clipping. Checkpoints use Hugging Face's
// GPT-2 layout, so model.Load (and transformers' GPT2LMHeadModel) read them.
//
// The operations live in ops.go, one function per operation with its forward
// and backward side by side; gpt.go chains them into the model; trainer.go
// runs steps; run.go adds evaluation, checkpoints and the loss curve.
//
// Training is deterministic for a given seed and Options: the batch of step
// s is drawn from a generator seeded by (seed, s), and the batch is always
// split into Options.Shards shards whose gradients are summed in shard
// order, however many goroutines run them.
package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
)

// Options configure a training run. Zero fields take the defaults of
// DefaultOptions where noted.
type Options struct {
	Config      arch.Config `json:"config"`       // architecture; VocabSize must cover every token id
	Steps       int         `json:"steps"`        // optimizer steps in the whole run
	BatchSize   int         `json:"batch_size"`   // sequences per step
	SeqLen      int         `json:"seq_len"`      // tokens per sequence, ≤ n_positions; 0 means n_positions
	LR          float64     `json:"lr"`           // peak learning rate
	MinLRFrac   float64     `json:"min_lr_frac"`  // final learning rate as a fraction of LR
	WarmupSteps int         `json:"warmup_steps"` // linear warm-up steps
	WeightDecay float64     `json:"weight_decay"` // AdamW λ on matrices and embeddings
	Beta1       float64     `json:"beta1"`
	Beta2       float64     `json:"beta2"`
	AdamEps     float64     `json:"adam_eps"`
	GradClip    float64     `json:"grad_clip"` // maximum global gradient L2 norm; 0 disables
	Seed        uint64      `json:"seed"`
	Shards      int         `json:"shards"`  // the batch is split into this many shards (one goroutine each, up to GOMAXPROCS)
	Dropout     float64     `json:"dropout"` // dropout probability on embeddings and residual branches while training
	// RepeatFrac is the fraction of training windows that start with a
	// passage repeated once (see Trainer.batch), to teach in-context copying.
	RepeatFrac float64 `json:"repeat_frac,omitempty"`
	// RandomRepeatFrac is the fraction of training windows that hold a
	// random token sequence repeated (see Trainer.batch): copying that no
	// memorised statistic of the text can do, only attention to the
	// earlier occurrence.
	RandomRepeatFrac float64 `json:"random_repeat_frac,omitempty"`
	// MaskRandomPrefix leaves the first occurrence of each random
	// sequence out of the loss: no model can predict a uniformly drawn
	// token, and training on them teaches it to predict uniformly
	// whenever the context looks random (see Trainer.batch).
	MaskRandomPrefix bool `json:"mask_random_prefix,omitempty"`
}

// DefaultOptions returns the training defaults for a config: AdamW β =
// (0.9, 0.95), ε = 1e-8, weight decay 0.1, gradient clipping at 1.0,
// learning rate 3e-3 with 10% warm-up (at most 200 steps) and cosine decay
// to 10%, batch 16 × n_positions, 2 shards.
func DefaultOptions(c arch.Config, steps int) Options {
	return Options{
		Config: c, Steps: steps, BatchSize: 16, LR: 3e-3, MinLRFrac: 0.1,
		WarmupSteps: min(200, max(steps/10, 1)), WeightDecay: 0.1,
		Beta1: 0.9, Beta2: 0.95, AdamEps: 1e-8, GradClip: 1.0, Shards: 2,
	}
}

// validate checks the options and fills SeqLen.
func (o *Options) validate() error {
	c := &o.Config
	if c.NInner == 0 {
		c.NInner = 4 * c.NEmbd
	}
	if c.LayerNormEpsilon == 0 {
		c.LayerNormEpsilon = 1e-5
	}
	if c.ModelType == "" {
		c.ModelType = "gpt2"
	}
	if c.Activation == "" {
		c.Activation = "gelu_new"
	}
	switch {
	case c.VocabSize <= 0, c.NPositions <= 0, c.NEmbd <= 0, c.NLayer <= 0, c.NHead <= 0:
		return fmt.Errorf("train: config: vocab_size, n_positions, n_embd, n_layer and n_head must be positive (got %d, %d, %d, %d, %d)",
			c.VocabSize, c.NPositions, c.NEmbd, c.NLayer, c.NHead)
	case c.NEmbd%c.NHead != 0:
		return fmt.Errorf("train: config: n_embd %d is not a multiple of n_head %d", c.NEmbd, c.NHead)
	case c.Activation != "gelu_new":
		return fmt.Errorf("train: config: activation_function %q: only gelu_new is trained", c.Activation)
	}
	if o.SeqLen == 0 {
		o.SeqLen = c.NPositions
	}
	switch {
	case o.SeqLen < 1 || o.SeqLen > c.NPositions:
		return fmt.Errorf("train: sequence length %d outside 1..n_positions (%d)", o.SeqLen, c.NPositions)
	case o.BatchSize < 1:
		return fmt.Errorf("train: batch size %d must be positive", o.BatchSize)
	case o.Steps < 0:
		return fmt.Errorf("train: steps %d must not be negative", o.Steps)
	case !(o.LR > 0) || math.IsInf(o.LR, 0):
		return fmt.Errorf("train: learning rate %g must be a positive number", o.LR)
	case !(o.MinLRFrac >= 0 && o.MinLRFrac <= 1):
		return fmt.Errorf("train: final learning-rate fraction %g outside [0, 1]", o.MinLRFrac)
	case o.WarmupSteps < 0:
		return fmt.Errorf("train: warm-up steps %d must not be negative", o.WarmupSteps)
	case !(o.WeightDecay >= 0) || math.IsInf(o.WeightDecay, 0):
		return fmt.Errorf("train: weight decay %g must be a number ≥ 0", o.WeightDecay)
	case !(o.Beta1 >= 0 && o.Beta1 < 1) || !(o.Beta2 >= 0 && o.Beta2 < 1):
		return fmt.Errorf("train: AdamW betas (%g, %g) outside [0, 1)", o.Beta1, o.Beta2)
	case !(o.AdamEps > 0) || math.IsInf(o.AdamEps, 0):
		return fmt.Errorf("train: AdamW epsilon %g must be a positive number", o.AdamEps)
	case !(o.GradClip >= 0) || math.IsInf(o.GradClip, 0):
		return fmt.Errorf("train: gradient clip %g must be a number ≥ 0", o.GradClip)
	case !(o.Dropout >= 0 && o.Dropout < 1):
		return fmt.Errorf("train: dropout %g outside [0, 1)", o.Dropout)
	case !(o.RepeatFrac >= 0 && o.RepeatFrac <= 1):
		return fmt.Errorf("train: repeat fraction %g outside [0, 1]", o.RepeatFrac)
	case !(o.RandomRepeatFrac >= 0 && o.RandomRepeatFrac <= 1):
		return fmt.Errorf("train: random-repeat fraction %g outside [0, 1]", o.RandomRepeatFrac)
	}
	if o.Shards < 1 {
		o.Shards = 1
	}
	o.Shards = min(o.Shards, o.BatchSize)
	return nil
}

// Data holds the token ids to train and validate on: two streams, each the
// concatenation of its documents.
type Data struct {
	Train []int
	Val   []int
}

// Trainer holds the parameters, the optimizer state and the workers of one
// training run.
type Trainer struct {
	Opts    Options
	Step    int       // optimizer steps done
	Params  []float32 // flat parameter vector (layout order)
	tensors []tensorInfo
	p       *params
	opt     *adamw
	shards  []*worker
	data    Data
}

// ErrData reports unusable training data.
var ErrData = errors.New("train: data")

// New returns a Trainer with freshly initialised parameters (seeded by
// opts.Seed). It returns an error for invalid options, or ErrData when the
// training stream is shorter than one sequence or holds a token id outside
// the vocabulary.
func New(opts Options, data Data) (*Trainer, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	c := opts.Config
	for _, s := range [][]int{data.Train, data.Val} {
		for i, id := range s {
			if id < 0 || id >= c.VocabSize {
				return nil, fmt.Errorf("%w: token %d at position %d is outside the vocabulary (%d)", ErrData, id, i, c.VocabSize)
			}
		}
	}
	if len(data.Train) < opts.SeqLen+1 {
		return nil, fmt.Errorf("%w: %d training tokens, need at least seq_len+1 = %d", ErrData, len(data.Train), opts.SeqLen+1)
	}
	ts, n := layout(c)
	t := &Trainer{Opts: opts, Params: make([]float32, n), tensors: ts, data: data}
	t.p = bind(c, t.Params)
	initParams(c, t.Params, opts.Seed)
	t.opt = newAdamW(n, opts.Beta1, opts.Beta2, opts.AdamEps, opts.WeightDecay)
	for s := 0; s < opts.Shards; s++ {
		b := opts.BatchSize / opts.Shards
		if s < opts.BatchSize%opts.Shards {
			b++
		}
		w := newWorker(c, b, opts.SeqLen, true)
		w.dropout = float32(opts.Dropout)
		t.shards = append(t.shards, w)
	}
	return t, nil
}

// NumParams is the number of trained parameters (tied head counted once).
func (t *Trainer) NumParams() int { return len(t.Params) }

// TokensPerStep is batch size × sequence length.
func (t *Trainer) TokensPerStep() int { return t.Opts.BatchSize * t.Opts.SeqLen }

// parallel runs fn(i) for i in [0,n) on up to GOMAXPROCS goroutines.
func parallel(n int, fn func(i int)) {
	procs := min(runtime.GOMAXPROCS(0), n)
	if procs <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	for g := 0; g < procs; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// batch draws the inputs and targets of step s: BatchSize windows of SeqLen+1
// tokens at uniformly random offsets of the training stream, from a generator
// seeded by (Seed, s).
//
// With RepeatFrac > 0, each window is, with that probability, a repeated
// passage instead: the first h tokens of the window (h uniform in
// [8, SeqLen/2]) followed by the window itself, cut to SeqLen+1 tokens —
// A B … becomes A A B …. Predicting the second A is in-context copying, the
// job of induction heads (Olsson et al. 2022); natural text rarely repeats a
// passage within one window, so without this a small model on a small corpus
// seldom learns it.
//
// With RandomRepeatFrac > 0, each window is first, with that probability, h
// token ids drawn uniformly from the vocabulary (h uniform in [8, SeqLen/2])
// repeated to fill it. Text repeats can be predicted in part from the text's
// own statistics; random ones only by reading the earlier occurrence, which
// is what the induction score of the head analysis measures.
//
// Their first h targets (positions 0..h-1, where the next token has not
// occurred yet) are uniform draws: the best prediction there is the
// uniform distribution, so a model trained on them learns to predict
// uniformly in any context that looks random — such as its own unlucky
// samples at temperature 1 (the embedded default model does; its card
// measures it). With MaskRandomPrefix those targets are -1, left out of
// the loss, and only the copies are learned.
//
// A zero fraction draws nothing from the generator, so runs without it get
// the windows they always got.
func (t *Trainer) batch(s int) (tok, tgt []int) {
	T, B := t.Opts.SeqLen, t.Opts.BatchSize
	r := rand.New(rand.NewPCG(t.Opts.Seed, uint64(s)+1))
	tok, tgt = make([]int, B*T), make([]int, B*T)
	win := make([]int, T+1)
	for b := 0; b < B; b++ {
		masked := 0 // leading targets left out of the loss
		if t.Opts.RandomRepeatFrac > 0 && T >= 16 && r.Float64() < t.Opts.RandomRepeatFrac {
			h := 8 + r.IntN(T/2-8+1)
			randomRepeat(win, h, t.Opts.Config.VocabSize, r)
			if t.Opts.MaskRandomPrefix {
				masked = h
			}
		} else {
			off := r.IntN(len(t.data.Train) - T)
			copy(win, t.data.Train[off:off+T+1])
			if t.Opts.RepeatFrac > 0 && r.Float64() < t.Opts.RepeatFrac && T >= 16 {
				h := 8 + r.IntN(T/2-8+1)
				copy(win[h:], t.data.Train[off:off+T+1-h])
			}
		}
		copy(tok[b*T:(b+1)*T], win[:T])
		copy(tgt[b*T:(b+1)*T], win[1:])
		for j := range masked {
			tgt[b*T+j] = -1
		}
	}
	return tok, tgt
}

// randomRepeat fills win with h ids drawn uniformly from [0, vocab) and
// repeated: win[i] = win[i mod h].
func randomRepeat(win []int, h, vocab int, r *rand.Rand) {
	for i := range win {
		if i < h {
			win[i] = r.IntN(vocab)
		} else {
			win[i] = win[i-h]
		}
	}
}

// StepResult describes one optimizer step.
type StepResult struct {
	Step     int     // the step number, from 1
	Loss     float64 // mean cross-entropy of the batch, nats/token
	LR       float64 // learning rate used
	GradNorm float64 // global gradient L2 norm before clipping
}

// TrainStep runs one optimizer step: forward and backward on the shards in
// parallel, gradient sum in shard order, clipping, AdamW.
func (t *Trainer) TrainStep() StepResult {
	tok, tgt := t.batch(t.Step)
	T := t.Opts.SeqLen
	n := len(tgt) // targets in the loss: the mean is over these
	for _, y := range tgt {
		if y < 0 {
			n--
		}
	}
	n = max(n, 1)
	scale := 1 / float32(n)
	starts := t.shardStarts()
	parallel(len(t.shards), func(i int) {
		w := t.shards[i]
		lo, hi := starts[i]*T, (starts[i]+w.B)*T
		clear(w.grad)
		var drop *rand.PCG
		if w.dropout > 0 {
			drop = rand.NewPCG(t.Opts.Seed^0x64726f70, uint64(t.Step)<<8|uint64(i))
		}
		w.lossSum, w.lossCount = w.forward(t.p, tok[lo:hi], tgt[lo:hi], w.B, drop)
		pd := float32(0)
		if drop != nil {
			pd = w.dropout
		}
		w.backward(t.p, tok[lo:hi], tgt[lo:hi], w.B, scale, pd)
	})
	grad := t.shards[0].grad
	loss := t.shards[0].lossSum
	for _, w := range t.shards[1:] {
		addTo(grad, w.grad)
		loss += w.lossSum
	}
	norm := clipGradNorm(grad, t.Opts.GradClip)
	lr := learningRate(t.Step, t.Opts.WarmupSteps, t.Opts.Steps, t.Opts.LR, t.Opts.MinLRFrac)
	t.opt.update(t.Params, grad, t.tensors, lr)
	t.Step++
	return StepResult{Step: t.Step, Loss: loss / float64(n), LR: lr, GradNorm: norm}
}

func (t *Trainer) shardStarts() []int {
	s := make([]int, len(t.shards))
	for i := 1; i < len(s); i++ {
		s[i] = s[i-1] + t.shards[i-1].B
	}
	return s
}

// Evaluate returns the mean cross-entropy (nats/token) of the model on a
// token stream, cut into consecutive windows of SeqLen+1 tokens that overlap
// by one: every token after the first is predicted once, from the tokens
// before it in its window. It also returns the number of tokens scored (0,
// with a NaN loss, for fewer than two tokens).
func (t *Trainer) Evaluate(stream []int) (float64, int) {
	T := t.Opts.SeqLen
	var ws [][]int
	for off := 0; off+1 < len(stream); off += T {
		ws = append(ws, stream[off:min(off+T+1, len(stream))])
	}
	if len(ws) == 0 {
		return math.NaN(), 0
	}
	return t.evaluateWindows(ws), len(stream) - 1
}

// evaluateWindows returns the mean cross-entropy over windows of at most
// SeqLen+1 tokens, each scored on its own (every token after the first).
func (t *Trainer) evaluateWindows(ws [][]int) float64 {
	T := t.Opts.SeqLen
	sums := make([]float64, len(t.shards))
	counts := make([]int, len(t.shards))
	bsz := t.shards[len(t.shards)-1].B // the smallest shard
	parallel(len(t.shards), func(i int) {
		w := t.shards[i]
		tok, tgt := make([]int, bsz*T), make([]int, bsz*T)
		for first := i * bsz; first < len(ws); first += len(t.shards) * bsz {
			bs := min(bsz, len(ws)-first)
			for b := 0; b < bs; b++ {
				win := ws[first+b]
				for j := 0; j < T; j++ {
					tok[b*T+j], tgt[b*T+j] = 0, -1
					if j+1 < len(win) {
						tok[b*T+j], tgt[b*T+j] = win[j], win[j+1]
					}
				}
			}
			s, k := w.forward(t.p, tok[:bs*T], tgt[:bs*T], bs, nil)
			sums[i] += s
			counts[i] += k
		}
	})
	var sum float64
	var count int
	for i := range sums {
		sum += sums[i]
		count += counts[i]
	}
	return sum / float64(count)
}

// Weights returns a copy of the parameters as model.Weights (tied head).
func (t *Trainer) Weights() model.Weights { return weightsOf(t.p) }

// InitialWeights returns the weights a run with opts starts from (GPT-2's
// initialisation, seeded by opts.Seed): what New would train from, without
// needing data. It returns the errors of invalid options.
func InitialWeights(opts Options) (model.Weights, arch.Config, error) {
	if err := opts.validate(); err != nil {
		return model.Weights{}, arch.Config{}, err
	}
	_, n := layout(opts.Config)
	flat := make([]float32, n)
	initParams(opts.Config, flat, opts.Seed)
	return weightsOf(bind(opts.Config, flat)), opts.Config, nil
}

func weightsOf(p *params) model.Weights {
	cp := func(s []float32) []float32 { return append([]float32(nil), s...) }
	w := model.Weights{WTE: cp(p.wte), WPE: cp(p.wpe), LNFG: cp(p.lnfw), LNFB: cp(p.lnfb)}
	for _, l := range p.layers {
		w.Blocks = append(w.Blocks, model.Block{
			LN1G: cp(l.ln1w), LN1B: cp(l.ln1b), AttnW: cp(l.attnw), AttnB: cp(l.attnb),
			AttnProjW: cp(l.projw), AttnProjB: cp(l.projb), LN2G: cp(l.ln2w), LN2B: cp(l.ln2b),
			FCW: cp(l.fcw), FCB: cp(l.fcb), MLPProjW: cp(l.fcprojw), MLPProjB: cp(l.fcprojb),
		})
	}
	return w
}

// Logits runs the trained model (no dropout) over ids (at most SeqLen of
// them) and returns the logits of every position, [len(ids)][vocab_size],
// in a new slice. It is the trainer's view of the model, against which the
// engine's forward pass is checked.
func (t *Trainer) Logits(ids []int) []float32 {
	c := t.Opts.Config
	ids = ids[:min(len(ids), t.Opts.SeqLen)]
	w := newWorker(c, 1, len(ids), false)
	w.forward(t.p, ids, nil, 1, nil)
	return append([]float32(nil), w.logits[:len(ids)*c.VocabSize]...)
}
