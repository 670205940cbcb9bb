package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/gptviz/gptviz/model/trace"
)

// Runner executes a model one step at a time and keeps its working memory:
// the tokens so far and the KV cache of those inside the context window.
//
// The life of a run: Prefill(prompt) writes the prompt into working memory;
// each Step predicts P(w_i | w_<i) from the last position's logits, samples
// w_i, appends it, and runs the model over it (a decode step reading the KV
// cache). When the window of n_positions is full, the oldest tokens are
// evicted and the window is recomputed from scratch (see Overflow): by
// default one token per step (OverflowSlide), as Hugging Face's generate()
// and the shared reference do when cropping the context; SetOverflow
// chooses another policy.
type Runner struct {
	model   *Model
	sampler *Sampler
	rec     Recorder

	tokens      []int // every token of the run, by absolute position
	windowStart int   // absolute position of cache position 0
	cache       *KVCache
	ws          workspace
	last        []float32 // logits at the last position, [vocab_size]
	steps       int
	evictions   []trace.Eviction
	overflow    Overflow // "" is OverflowSlide
}

// NewRunner returns a runner for m that samples with s. rec may be nil.
func NewRunner(m *Model, s *Sampler, rec Recorder) *Runner {
	return &Runner{model: m, sampler: s, rec: rec, cache: NewKVCache(m.Config)}
}

// Fork returns a runner that continues this run from its current working
// memory with sampler s and recorder rec (which may be nil): the tokens,
// the KV cache, the last position's logits, the evictions and the step
// count are copied, so the two runners then advance independently and
// neither changes the other. A fork after Prefill decodes exactly as a
// fresh runner that prefilled the same prompt: the same logits, bit for
// bit, so the same sampler settings and seed give the same tokens. This is
// how Compare prefills a prompt once for many settings and seeds. Fork
// fails before Prefill.
func (r *Runner) Fork(s *Sampler, rec Recorder) (*Runner, error) {
	if r.last == nil {
		return nil, errors.New("fork: call Prefill first")
	}
	return &Runner{
		model: r.model, sampler: s, rec: rec, overflow: r.overflow,
		tokens:      append([]int(nil), r.tokens...),
		windowStart: r.windowStart,
		cache:       r.cache.clone(),
		last:        append([]float32(nil), r.last...),
		steps:       r.steps,
		evictions:   append([]trace.Eviction(nil), r.evictions...),
	}, nil
}

// Tokens returns every token id of the run so far, by absolute position.
func (r *Runner) Tokens() []int { return r.tokens }

// WindowStart is the absolute position of the oldest token still in the
// context window.
func (r *Runner) WindowStart() int { return r.windowStart }

// Reserve allocates the KV cache for a run of n positions (capped at
// n_positions) up front, for example prompt + steps; without it the cache
// grows as the run proceeds.
func (r *Runner) Reserve(n int) { r.cache.reserve(min(n, r.cache.Window)) }

// SetOverflow chooses what happens when the context window is full (see
// Overflow); "" is OverflowSlide, the default. It errors (a *ParamError) on
// an unknown policy.
func (r *Runner) SetOverflow(o Overflow) error {
	if err := o.Validate(); err != nil {
		return err
	}
	r.overflow = o
	return nil
}

// Cache returns the KV cache; it must not be modified.
func (r *Runner) Cache() *KVCache { return r.cache }

// Evictions lists the tokens that have left the context window.
func (r *Runner) Evictions() []trace.Eviction { return r.evictions }

// LastLogits returns the logits at the last position, [vocab_size], valid
// until the next Prefill or Step.
func (r *Runner) LastLogits() []float32 { return r.last }

// Prefill writes the prompt into working memory: one forward pass over all
// its tokens. A prompt longer than n_positions keeps its last n_positions
// tokens; the others are recorded as evicted at step 0. It errors on an
// empty prompt, an id outside the vocabulary, or a second call.
func (r *Runner) Prefill(ids []int) error {
	if len(r.tokens) > 0 {
		return errors.New("prefill: the runner already holds a prompt")
	}
	if len(ids) == 0 {
		return errors.New("prefill: the prompt has no tokens")
	}
	r.tokens = append(r.tokens[:0], ids...)
	n := r.model.Config.NPositions
	if len(ids) > n {
		for p := 0; p < len(ids)-n; p++ {
			r.evictions = append(r.evictions, trace.Eviction{Step: 0, Position: p, ID: ids[p]})
		}
		r.windowStart = len(ids) - n
	}
	info := ForwardInfo{Kind: trace.Prefill, WindowStart: r.windowStart, QueryStart: r.windowStart, NewFrom: r.windowStart}
	logits, err := r.model.forward(&r.ws, r.cache, r.tokens[r.windowStart:], info, false, r.rec)
	if err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	r.setLast(logits)
	return nil
}

func (r *Runner) setLast(logits []float32) {
	V := r.model.Config.VocabSize
	r.last = logits[len(logits)-V:]
}

// Step performs one decode step: sample the next token from the last
// position's logits, append it to working memory, and run the model over it.
// It returns the sampler's record (valid until the next Step).
func (r *Runner) Step() (*SampleResult, error) {
	if r.last == nil {
		return nil, errors.New("step: call Prefill first")
	}
	res, err := r.sampler.Sample(r.last)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", r.steps+1, err)
	}
	r.steps++
	if r.rec != nil {
		r.rec.Sampled(r.steps, res)
	}
	if err := r.Append(res.Chosen); err != nil {
		return nil, err
	}
	return res, nil
}

// Append writes a given token into working memory and runs the model over
// it, as Step does after sampling; teacher forcing uses it directly.
func (r *Runner) Append(id int) error {
	if r.last == nil {
		return errors.New("append: call Prefill first")
	}
	r.tokens = append(r.tokens, id)
	pos := len(r.tokens) - 1
	info := ForwardInfo{Kind: trace.Decode, Step: r.steps, WindowStart: r.windowStart, QueryStart: pos, NewFrom: pos}
	var logits []float32
	var err error
	if r.cache.Len < r.cache.Window {
		logits, err = r.model.forward(&r.ws, r.cache, []int{id}, info, false, r.rec)
	} else {
		// The window is full: evict the oldest token (or block of
		// tokens) and recompute.
		for range r.overflow.evictCount(r.cache.Window) {
			r.evictions = append(r.evictions, trace.Eviction{Step: r.steps, Position: r.windowStart, ID: r.tokens[r.windowStart]})
			r.windowStart++
		}
		r.cache.Reset()
		info.Kind, info.WindowStart, info.QueryStart = trace.Recompute, r.windowStart, r.windowStart
		logits, err = r.model.forward(&r.ws, r.cache, r.tokens[r.windowStart:], info, false, r.rec)
	}
	if err != nil {
		return fmt.Errorf("step %d: %w", r.steps, err)
	}
	r.setLast(logits)
	return nil
}

// RecomputeDiff runs the model from scratch, without the cache, over the
// current context window and returns max |Δlogit| at the last position
// between that and the cached result: the check that the KV cache changes
// nothing but speed.
func (r *Runner) RecomputeDiff() (float64, error) {
	if r.last == nil {
		return 0, errors.New("recompute: call Prefill first")
	}
	var ws workspace
	logits, err := r.model.forward(&ws, NewKVCache(r.model.Config), r.tokens[r.windowStart:], ForwardInfo{Kind: trace.Recompute}, false, nil)
	if err != nil {
		return 0, fmt.Errorf("recompute: %w", err)
	}
	var d float64
	for i, v := range logits {
		d = math.Max(d, math.Abs(float64(v-r.last[i])))
	}
	return d, nil
}

// Logits runs the model over ids from scratch (no cache, at most
// n_positions tokens) and returns the logits of every position,
// [len(ids)][vocab_size], in a new slice.
func (m *Model) Logits(ids []int) ([]float32, error) {
	var ws workspace
	logits, err := m.forward(&ws, NewKVCache(m.Config), ids, ForwardInfo{Kind: trace.Prefill}, true, nil)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), logits...), nil
}

// TokenScore is P(w_i | w_<i) of one token under teacher forcing.
type TokenScore struct {
	Position  int
	ID        int
	Prob      float64 // 0..1
	Surprisal float64 // −log2 Prob, bits
	Context   int     // tokens before Position that the model saw, 1..n_positions−1
}

// Score scores a text under teacher forcing: for every token after the
// first, P(w_i | w_<i) and its surprisal in bits. Texts longer than
// n_positions are scored in the windows of ScoreWindows, advancing by half
// the context, so each token keeps at least n_positions/2 tokens of
// context (the strided evaluation of Hugging Face's perplexity guide).
func (m *Model) Score(ids []int) ([]TokenScore, error) {
	var out []TokenScore
	var ws workspace
	err := m.scoreIDs(&ws, NewKVCache(m.Config), ids, 1, nil, func(pos int, w ScoreWindow, row []float32) {
		mx, sum := softmaxSum(row)
		p := softmaxAt(row[ids[pos]], mx, sum)
		out = append(out, TokenScore{Position: pos, ID: ids[pos], Prob: p, Surprisal: surprisal(p), Context: pos - w.Start})
	})
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	return out, nil
}

// surprisal is −log2 p in bits, capped at the smallest positive float64's
// 1074 bits so that a probability that underflowed to 0 stays finite.
func surprisal(p float64) float64 {
	if p <= 0 {
		return 1074
	}
	return -math.Log2(p)
}
