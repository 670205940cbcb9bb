package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gptviz/gptviz/internal/vexp"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
)

// TraceOptions bound what a Trace records.
type TraceOptions struct {
	// TopN is how many candidates each prediction and score keeps
	// (default 10).
	TopN int
	// MaxAttention is the most key positions recorded in full per attention
	// row (default 256); longer rows are block-averaged and the Trace says
	// so in Notes.
	MaxAttention int
	// MaxQueries is the most prefill query rows whose attention, logit lens
	// and residual norms are recorded (default 256); longer prompts record
	// the last MaxQueries rows.
	MaxQueries int
	// KVLayers are the layers whose final cache contents go into
	// Trace.Cache; nil means every layer when the cache is small (at most
	// 1<<18 floats), else the first and last layer.
	KVLayers []int
	// NoLogitLens skips the logit lens, which costs n_layer − 1 extra
	// passes through the output head per recorded row (the last layer's
	// reading is the pass's own logits).
	NoLogitLens bool
	// LensQueries is the most query rows of one step whose logit lens is
	// read out: a step that records more (a long prefill) reads out its
	// last LensQueries rows (Step.LensStart) and adds a Note. 0 means
	// DefaultLensQueries; a negative value, every recorded row. For
	// GPT-2 124M each lens row costs 12 passes through the 50,257 × 768
	// head, about as much as 5 positions of the forward pass.
	LensQueries int
	// NoAttention leaves the attention probabilities out of every Step
	// (Step.Attention nil); the attention checks are still measured.
	NoAttention bool
	// KVRows is the most rows of one step whose keys and values of the
	// focus layer and head (KVFocus) go into Step.KVWrite in full (default
	// 256, as MaxQueries); a step that writes more (a long prefill, a
	// recompute of a long window) records its last KVRows rows and adds a
	// Note. The key and value norms of every row written, every layer, are
	// always recorded (2 × n_layer floats per row). Negative: no full rows.
	KVRows int
	// KVFocus is the layer and head whose keys and values Step.KVWrite
	// holds; nil means the last layer, head 0.
	KVFocus *LayerHead
	// TopLogits is how many of the highest logits each decode step records
	// in trace.Prediction.Logits, for recomputing the sampler offline:
	// 0 means DefaultTopLogits, a negative value none; never more than
	// vocab_size.
	TopLogits int
}

// DefaultLensQueries is how many of a step's last query rows the logit
// lens reads out by default (TraceOptions.LensQueries): every decode step
// (one row), a short prompt whole, and the end of a long one, where the
// report's lens table looks.
const DefaultLensQueries = 16

// DefaultTopLogits is how many logits a decode step records by default
// (TraceOptions.TopLogits): 256 ids and float32 logits, about 4 KB of JSON
// per step, enough for any top-k ≤ 256 to be recomputed exactly.
const DefaultTopLogits = 256

func (o TraceOptions) withDefaults() TraceOptions {
	if o.TopN <= 0 {
		o.TopN = 10
	}
	if o.MaxAttention <= 0 {
		o.MaxAttention = 256
	}
	if o.MaxQueries <= 0 {
		o.MaxQueries = 256
	}
	if o.TopLogits == 0 {
		o.TopLogits = DefaultTopLogits
	}
	if o.KVRows == 0 {
		o.KVRows = 256
	}
	if o.LensQueries == 0 {
		o.LensQueries = DefaultLensQueries
	}
	return o
}

// RunOptions describe one recorded run.
type RunOptions struct {
	Prompt   string
	Steps    int // decode steps, ≥ 0
	Sampling SamplingParams
	Seed     uint64
	// Overflow is what happens when prompt + steps exceed the context
	// window; "" means OverflowBlock (see Overflow for the policies and
	// their cost, PlanOverflow for a run's).
	Overflow Overflow
	// Continuation, if not empty, is a text scored after the prompt under
	// teacher forcing (Trace.Continuation), beside the generated steps.
	// It is tokenized on its own and must be valid UTF-8.
	Continuation string
	Trace        TraceOptions
	// Command and Version are copied into Trace.Settings for reproduction.
	Command, Version string
	// Progress, if set, is called after the prefill (step 0) and after each
	// decode step.
	Progress func(step, total int)
}

// Run tokenizes the prompt, prefills it, performs opts.Steps decode steps,
// and returns the whole run recorded as a Trace (see TraceOptions for what
// is kept). An empty prompt starts from <|endoftext|>, as GPT-2's
// unconditional samples do.
//
// Every prompt token after the first is scored (Trace.Scores). A prompt
// longer than the context window is scored in the sliding windows of
// ScoreWindows (one extra forward pass of n_positions tokens per window
// before the last), and only its last n_positions tokens stay in working
// memory for the prefill and the steps. When the window fills during the
// steps, opts.Overflow decides what is evicted and recomputed; the policy is
// recorded in Trace.Settings.Overflow and each eviction in Trace.Evictions.
// A continuation costs one more forward pass over prompt + continuation.
//
// It errors when the model has no tokenizer, the prompt is not valid UTF-8
// (*PromptError), the settings are invalid (a *ParamError naming steps,
// temperature, top_k, top_p, overflow, continuation or kv_focus), or ctx is
// cancelled.
func Run(ctx context.Context, m *Model, opts RunOptions) (*trace.Trace, error) {
	if err := CheckPrompt(opts.Continuation); err != nil {
		var pe *PromptError
		errors.As(err, &pe)
		return nil, &ParamError{Param: "continuation", Value: fmt.Sprintf("%q", opts.Continuation),
			Problem: fmt.Sprintf("byte 0x%02x at offset %d is not valid UTF-8", pe.Byte, pe.Offset)}
	}
	runs, err := Compare(ctx, m, CompareOptions{
		Prompt: opts.Prompt, Steps: opts.Steps,
		Settings: []SamplingParams{opts.Sampling}, Seeds: []uint64{opts.Seed},
		Trace: opts.Trace, Version: opts.Version, Progress: opts.Progress,
		Overflow: opts.Overflow, Continuation: opts.Continuation,
	})
	if err != nil {
		return nil, err
	}
	tr := runs[0][0]
	tr.Settings.Command = opts.Command
	return tr, nil
}

// NumParams is the number of parameters of m: Config.NumParams, plus
// vocab_size × n_embd for an untied lm_head (Weights.LMHead), which
// Config.NumParams does not count.
func (m *Model) NumParams() int {
	n := m.Config.NumParams()
	if m.Weights.LMHead != nil || m.Weights.LMHeadHalf.Stored() {
		n += m.Config.VocabSize * m.Config.NEmbd
	}
	return n
}

// noteEvictions explains the decode steps' evictions in a Note, by policy.
func (r *traceRecorder) noteEvictions(o Overflow) {
	n := r.m.Config.NPositions
	var evicted, recomputes, positions int
	for _, e := range r.tr.Evictions {
		if e.Step > 0 {
			evicted++
		}
	}
	for _, st := range r.tr.Steps {
		if st.Kind == trace.Recompute {
			recomputes++
			positions += st.QueryStart + st.NQuery - st.WindowStart
		}
	}
	switch {
	case evicted == 0:
	case o == OverflowBlock:
		b := EvictBlock(n)
		r.note(trace.NoteEvictedBlock, fmt.Sprintf("%d tokens left the context window of %d positions in %d blocks of %d tokens; each block's eviction recomputed the rest of the window once (%d positions in all), and the steps in between read the KV cache.",
			evicted, n, recomputes, b, positions), evicted, n, recomputes, b, positions)
	default:
		r.note(trace.NoteEvicted, fmt.Sprintf("%d tokens left the context window of %d positions; each step after that recomputed the window from scratch.", evicted, n), evicted, n)
	}
}

// newScores returns the prompt's Scores, len(ids), with positions and ids
// set and the first token marked NoContext (every token, on a model with
// fewer than 2 positions, which scores none); the scoring passes fill in
// the rest.
func newScores(ids []int, nPositions int) []trace.Score {
	out := make([]trace.Score, len(ids))
	for i, id := range ids {
		out[i] = trace.Score{Position: i, ID: id, NoContext: i == 0 || nPositions < 2}
	}
	return out
}

// scoreEarlyWindows scores the tokens of a prompt longer than the context
// window that the prefill's window (the last of ScoreWindows) does not
// cover, with one forward pass per earlier window, and notes it. It runs
// before the prefill, in the runner's own workspace and cache (emptied
// afterwards), so a long prompt costs time, not memory.
func (r *traceRecorder) scoreEarlyWindows(run *Runner, ids []int) error {
	r.tr.Scores = newScores(ids, r.m.Config.NPositions)
	n := r.m.Config.NPositions
	if len(ids) <= n {
		return nil
	}
	windows := ScoreWindows(len(ids), n)
	last := windows[len(windows)-1]
	probs := make([]float64, r.m.Config.VocabSize)
	err := r.m.scoreIDs(&run.ws, run.cache, ids, 1, func(w ScoreWindow) bool { return w == last }, func(pos int, w ScoreWindow, row []float32) {
		r.setScore(&r.tr.Scores[pos], pos-w.Start, row, probs)
	})
	run.cache.Reset()
	if err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	stride := ScoreStride(n)
	r.note(trace.NotePromptWindows, fmt.Sprintf("The prompt has %d tokens, more than the context window of %d positions. It was scored whole in %d sliding windows advancing by %d tokens, so every token from position %d on saw at least %d tokens of context; its first %d tokens left working memory before the first step.",
		len(ids), n, len(windows), stride, n-stride, n-stride, len(ids)-n), len(ids), n, len(windows), stride)
	return nil
}

// setScore fills s with P(s.ID) under the logits row predicting it,
// [vocab_size], and its top candidates; probs is scratch of vocab_size.
func (r *traceRecorder) setScore(s *trace.Score, context int, row []float32, _ []float64) {
	m, sum := softmaxSum(row)
	r.fillScore(s, context, row, m, sum, r.topRanked(row))
}

// fillScore fills s from its logits row, softmaxSum's m and sum, and the
// row's top ids, ranked.
func (r *traceRecorder) fillScore(s *trace.Score, context int, row []float32, m, sum float64, top []int32) {
	s.Prob = softmaxAt(row[s.ID], m, sum)
	s.Surprisal = surprisal(s.Prob)
	s.Context = context
	s.Top = r.candidates(row, m, sum, top)
}

// scoreContinuation scores text after the prompt ids under teacher forcing
// into Trace.Continuation: one pass over prompt + continuation (sliding
// windows when longer than the context window), in the finished runner's
// workspace and cache.
func (r *traceRecorder) scoreContinuation(run *Runner, ids []int, text string) error {
	cont := r.m.Tokenizer.Encode(text)
	ct := &trace.Continuation{Text: text}
	all := append(append([]int(nil), ids...), cont...)
	for i, id := range cont {
		ct.Tokens = append(ct.Tokens, r.token(id, false))
		ct.Scores = append(ct.Scores, trace.Score{Position: len(ids) + i, ID: id})
	}
	probs := make([]float64, r.m.Config.VocabSize)
	run.cache.Reset()
	err := r.m.scoreIDs(&run.ws, run.cache, all, len(ids), nil, func(pos int, w ScoreWindow, row []float32) {
		r.setScore(&ct.Scores[pos-len(ids)], pos-w.Start, row, probs)
	})
	if err != nil {
		return fmt.Errorf("continuation: %w", err)
	}
	var bits float64
	for _, s := range ct.Scores {
		bits += s.Surprisal
	}
	ct.Log2Prob, ct.BitsPerToken = -bits, bits/float64(len(cont))
	r.tr.Continuation = ct
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// traceRecorder is the Recorder that fills a Trace.
type traceRecorder struct {
	m    *Model
	tr   *trace.Trace
	opts TraceOptions
	cur  *trace.Step
	keep int // first row of the current pass that is recorded
	// lensFrom is the first row of the current pass that the logit lens
	// reads out (≥ keep).
	lensFrom int
	next     *trace.Prediction // the prediction waiting for its decode step
	start    time.Time
	lnBuf    []float32
	// lensIn collects the recorded residual rows of every layer of the
	// current pass, [n_layer][rows][n_embd], for the logit lens.
	lensIn []float32
	lens   []float32
	// lensFused is how many lens rows the pass's head computed into lens
	// (lensHead) beside lensOwn rows of its own, started at lensT0; 0 when
	// logitLens computes them.
	lensFused, lensOwn int
	lensT0             time.Time
	// rowM, rowSum and rowTop are the prompt scores' softmaxSum and top
	// ids per row (workspace.rowStats).
	rowM, rowSum []float64
	rowTop       []int32
	// lensBest and lensProb are each lens row's top token and probability.
	lensBest []int
	lensProb []float64
	ws       workspace       // the pool's tasks for the lens
	topBuf   []int32         // scratch of top
	noted    map[string]bool // note codes already added
	// step is the Step being recorded (cur points to it); it is copied
	// into Trace.Steps when it ends.
	step trace.Step
	// sl holds what the Steps store: slices carved from chunks, so a step
	// allocates nothing in steady state (recslab.go).
	sl recSlabs
	// texts and displays cache each token's Text and Display strings by
	// id, filled on first use.
	texts, displays []string
	kn, vn          []float64 // scratch of recordKVWrite
	// noScores skips the prompt scores (benchmarks price the rest of the
	// recording with it).
	noScores bool
}

// needsAllRows: only the prefill reads every row's logits (the prompt
// scores); decode and recompute steps record the last row's prediction.
func (r *traceRecorder) needsAllRows(info ForwardInfo) bool {
	return info.Kind == trace.Prefill && !r.noScores
}

func newTraceRecorder(m *Model, tr *trace.Trace, opts TraceOptions) *traceRecorder {
	return &traceRecorder{m: m, tr: tr, opts: opts, noted: map[string]bool{}}
}

// noteOnce calls add, which adds the note code, unless a note with that
// code was added: the note's text is formatted only the first time.
func (r *traceRecorder) noteOnce(code string, add func()) {
	if !r.noted[code] {
		add()
	}
}

// note adds a Note to the trace unless one with the same code was added.
func (r *traceRecorder) note(code, text string, args ...int) {
	if !r.noted[code] {
		r.noted[code] = true
		r.tr.Notes = append(r.tr.Notes, trace.Note{Code: code, Args: args, Text: text})
	}
}

func (r *traceRecorder) token(id int, prompt bool) trace.Token {
	return trace.Token{ID: id, Text: r.text(id), Display: r.display(id), Prompt: prompt}
}

func (r *traceRecorder) candidate(id int, logit float32, prob float64) trace.Candidate {
	return trace.Candidate{ID: id, Text: r.text(id), Display: r.display(id), Logit: logit, Prob: prob}
}

// text is the token's bytes as a string, made once per id and run.
func (r *traceRecorder) text(id int) string {
	if id < 0 || id >= r.m.Config.VocabSize {
		return string(r.m.Tokenizer.TokenBytes(id))
	}
	if r.texts == nil {
		r.texts = make([]string, r.m.Config.VocabSize)
	}
	if r.texts[id] == "" {
		r.texts[id] = string(r.m.Tokenizer.TokenBytes(id))
	}
	return r.texts[id]
}

// display is the tokenizer's Display of the token, made once per id and
// run.
func (r *traceRecorder) display(id int) string {
	if id < 0 || id >= r.m.Config.VocabSize {
		return r.m.Tokenizer.Display(id)
	}
	if r.displays == nil {
		r.displays = make([]string, r.m.Config.VocabSize)
	}
	if r.displays[id] == "" {
		r.displays[id] = r.m.Tokenizer.Display(id)
	}
	return r.displays[id]
}

// BeginForward starts a Step; a decode step takes the pending prediction.
func (r *traceRecorder) BeginForward(info ForwardInfo, emb []float32) {
	r.start = time.Now()
	C := r.m.Config.NEmbd
	r.keep = info.NewFrom - info.QueryStart
	if n := info.NQuery - r.keep; n > r.opts.MaxQueries {
		r.keep = info.NQuery - r.opts.MaxQueries
		r.noteOnce(trace.NotePromptRows, func() {
			r.note(trace.NotePromptRows, fmt.Sprintf("The prompt has %d tokens; attention, logit lens and residual norms are recorded for its last %d positions.", info.NQuery, r.opts.MaxQueries), info.NQuery, r.opts.MaxQueries)
		})
	}
	r.step = trace.Step{
		Index: info.Step, Kind: info.Kind,
		QueryStart: info.QueryStart + r.keep, NQuery: info.NQuery - r.keep, WindowStart: info.WindowStart,
		Next: r.next,
	}
	r.cur = &r.step
	L := r.m.Config.NLayer
	if !r.opts.NoAttention {
		r.cur.Attention = r.sl.layers.take(L)[:0]
	}
	if !r.opts.NoLogitLens {
		r.cur.LogitLens = r.sl.lensRows.take(L)[:0]
		r.lensFrom = r.keep
		if n := info.NQuery - r.keep; r.opts.LensQueries > 0 && n > r.opts.LensQueries {
			r.lensFrom = info.NQuery - r.opts.LensQueries
			r.cur.LensStart = r.lensFrom - r.keep
			r.noteOnce(trace.NoteLensRows, func() {
				r.note(trace.NoteLensRows, fmt.Sprintf("A step recorded %d query rows; the logit lens was read out for its last %d.", n, r.opts.LensQueries), n, r.opts.LensQueries)
			})
		}
	}
	if info.Kind == trace.Prefill {
		r.cur.Next = nil
	}
	r.next = nil
	r.cur.ResidualNorm = append(r.sl.rows.take(L + 1)[:0], r.sl.rowNorms(emb[r.keep*C:info.NQuery*C], C))
}

// Layer records attention, the residual norm and the logit lens of block l.
func (r *traceRecorder) Layer(info ForwardInfo, l int, rec LayerRecord) {
	c := r.m.Config
	C, H := c.NEmbd, c.NHead
	nq, nk := info.NQuery, info.NKeys
	stride := (nk + r.opts.MaxAttention - 1) / r.opts.MaxAttention
	var la trace.LayerAttention
	if !r.opts.NoAttention {
		la.Probs = r.sl.mats.take(H)
	}
	if stride > 1 && !r.opts.NoAttention {
		la.Summarised, la.KeyStride = true, stride
		r.noteOnce(trace.NoteAttentionStride, func() {
			r.note(trace.NoteAttentionStride, fmt.Sprintf("Attention rows longer than %d keys are stored as averages over blocks of %d keys.", r.opts.MaxAttention, stride), r.opts.MaxAttention, stride)
		})
	}
	for h := 0; h < H; h++ {
		var rows [][]float32
		if !r.opts.NoAttention {
			rows = r.sl.rows.take(nq - r.keep)
		}
		for q := r.keep; q < nq; q++ {
			row := rec.Attention[(h*nq+q)*nk : (h*nq+q+1)*nk]
			r.check(row, nk-nq+q+1)
			if !r.opts.NoAttention {
				rows[q-r.keep] = r.sl.blockAverage(row, stride)
			}
		}
		if !r.opts.NoAttention {
			la.Probs[h] = rows
		}
	}
	if !r.opts.NoAttention {
		r.cur.Attention = append(r.cur.Attention, la)
	}
	r.recordKVWrite(info, l, rec)
	res := rec.Residual[r.keep*C : nq*C]
	r.cur.ResidualNorm = append(r.cur.ResidualNorm, r.sl.rowNorms(res, C))
	if !r.opts.NoLogitLens && (l < c.NLayer-1 || !r.lensFromLogits(info)) {
		// Read out in EndForward, all layers in one pass through the head.
		r.lensIn = append(r.lensIn, rec.Residual[r.lensFrom*C:nq*C]...)
	}
}

// check updates the attention sanity checks with one row whose first n
// entries are visible keys.
func (r *traceRecorder) check(row []float32, n int) {
	var sum float64
	for _, p := range row[:n] {
		sum += float64(p)
	}
	ch := &r.tr.Checks
	ch.MaxRowSumError = math.Max(ch.MaxRowSumError, math.Abs(sum-1))
	// The largest |p| past the visible keys, NaN if any is NaN (as
	// math.Max over them would give), then one math.Max.
	var leak float32
	for _, p := range row[n:] {
		if a := float32(math.Abs(float64(p))); a > leak || a != a {
			leak = a
			if a != a {
				break
			}
		}
	}
	ch.MaxCausalLeak = math.Max(ch.MaxCausalLeak, float64(leak))
}

// lensHead implements lensRecorder: the rows the lens reads at the end of
// a pass that computes own rows of logits (every layer but the last, which
// lensFromLogits covers), through ln_f into lnBuf, and lens as their
// logits' buffer, when they fit one chunk of logitLens. The pass's head
// then computes them; logitLens finds them there (lensFused), and
// EndForward counts n/(n+own) of the head's time as the lens's.
func (r *traceRecorder) lensHead(info ForwardInfo, own int) (ln, logits []float32) {
	c := r.m.Config
	C, V := c.NEmbd, c.VocabSize
	n := len(r.lensIn) / C
	if r.opts.NoLogitLens || n == 0 || n > lensChunk {
		return nil, nil
	}
	w := &r.m.Weights
	// One row more of room in each (lensRecorder): the pass's own row.
	r.lnBuf = resize(r.lnBuf, (n+1)*C)[:n*C]
	r.lens = resize(r.lens, (n+1)*V)[:n*V]
	layernorm(r.lnBuf, r.lensIn, w.LNFG, w.LNFB, n, C, c.LayerNormEpsilon)
	r.lensFused, r.lensOwn, r.lensT0 = n, own, time.Now()
	return r.lnBuf, r.lens
}

// lensChunk is how many rows logitLens sends through the head at a time.
const lensChunk = 256

// lensFromLogits reports whether the pass's own logits cover the lens rows
// of the last layer: ln_f and the head applied to the last block's output
// are the logits, so the lens reads those rows out of them instead of
// computing them again. They cover the rows when the pass computes every
// row's logits (the recorded prefill) or the lens reads only the last row
// (a decode step).
func (r *traceRecorder) lensFromLogits(info ForwardInfo) bool {
	return r.needsAllRows(info) || info.NQuery-r.lensFrom == 1
}

// logitLens reads each row of the residual stream res [rows][n_embd] out
// early through ln_f and the tied head (nostalgebraist 2020, "interpreting
// GPT: the logit lens") and returns the top token of each row with its
// probability, followed by those of the logits rows in last [n][vocab_size]
// (the last layer's, read out of the pass's own logits). Rows go through
// the head in chunks of at most 256, so the logits buffer stays at 256 ×
// vocab_size; the head and the per-row softmax run on the decode pool
// (head.go) and reuse their buffers.
func (r *traceRecorder) logitLens(res, last []float32) []trace.LensEntry {
	c := r.m.Config
	C, V := c.NEmbd, c.VocabSize
	rows, nLast := len(res)/C, len(last)/V
	w := &r.m.Weights
	out := r.sl.lens.take(rows + nLast)[:0]
	if r.lensFused == rows && rows > 0 { // the pass's head computed them (lensHead)
		out = r.lensTop(out, r.lens, rows)
		rows = 0
	}
	for q0 := 0; q0 < rows; q0 += lensChunk {
		n := min(lensChunk, rows-q0)
		r.lnBuf = resize(r.lnBuf, n*C)
		r.lens = resize(r.lens, n*V)
		layernorm(r.lnBuf, res[q0*C:(q0+n)*C], w.LNFG, w.LNFB, n, C, c.LayerNormEpsilon)
		r.ws.headRows(r.lens, r.lnBuf, w.head(), n, C, V)
		out = r.lensTop(out, r.lens, n)
	}
	if nLast > 0 {
		out = r.lensTop(out, last, nLast)
	}
	return out
}

// lensTop appends the top token and its probability of each of the n rows
// of logits [n][vocab_size] to out.
func (r *traceRecorder) lensTop(out []trace.LensEntry, logits []float32, n int) []trace.LensEntry {
	r.lensBest = resize(r.lensBest, n)
	r.lensProb = resize(r.lensProb, n)
	r.ws.lensTop(r.lensBest, r.lensProb, logits, n, r.m.Config.VocabSize)
	for q := 0; q < n; q++ {
		best := r.lensBest[q]
		out = append(out, trace.LensEntry{ID: best, Display: r.display(best), Prob: r.lensProb[q]})
	}
	return out
}

// topProb returns the argmax of logits and its softmax probability,
// 1 / Σ_j exp(l_j − l_max), without the full distribution. The
// exponentials are float32 (vexp.SumExp32, eight at a time, relative
// error below about 3e-7, the same bits on every machine): pages show
// the lens's probabilities to three significant digits, and a float64
// math.Exp per vocabulary entry cost three times as much per lens row.
func topProb(logits []float32) (int, float64) {
	best := 0
	for i, l := range logits {
		if l > logits[best] {
			best = i
		}
	}
	return best, 1 / vexp.SumExp32(logits, logits[best])
}

// EndForward records prompt scores (after the prefill) and closes the Step.
func (r *traceRecorder) EndForward(info ForwardInfo, _, logits []float32) {
	c := r.m.Config
	if !r.opts.NoLogitLens {
		t0 := time.Now()
		var fused time.Duration // the lens's share of the head pass (lensHead)
		if n := r.lensFused; n > 0 {
			fused = t0.Sub(r.lensT0) * time.Duration(n) / time.Duration(n+r.lensOwn)
		}
		var last []float32
		if r.lensFromLogits(info) {
			V := c.VocabSize
			first := info.NQuery - len(logits)/V // the row logits start at
			last = logits[(r.lensFrom-first)*V:]
		}
		lens := r.logitLens(r.lensIn, last)
		rows := len(lens) / c.NLayer
		for l := 0; l < c.NLayer; l++ {
			r.cur.LogitLens = append(r.cur.LogitLens, lens[l*rows:(l+1)*rows:(l+1)*rows])
		}
		r.lensIn = r.lensIn[:0]
		r.lensFused = 0
		r.cur.LensMillis = ms(time.Since(t0) + fused)
	}
	if info.Kind == trace.Prefill && !r.noScores {
		r.scorePrompt(info, logits)
	}
	if len(r.cur.LogitLens) == 0 {
		r.cur.LogitLens = nil
	}
	r.cur.KV = trace.KVInfo{Positions: r.sl.ints.take(c.NLayer), Bytes: c.KVBytes(info.NKeys)}
	for l := range r.cur.KV.Positions {
		r.cur.KV.Positions[l] = info.NKeys
	}
	r.cur.Millis = ms(time.Since(r.start))
	r.tr.Steps = append(r.tr.Steps, *r.cur)
	r.cur = nil
}

// scorePrompt fills the prompt's Scores that the prefill's window covers
// (the last window of ScoreWindows; scoreEarlyWindows scored the others)
// from its logits: the logits at row q predict the token at row q+1.
func (r *traceRecorder) scorePrompt(info ForwardInfo, logits []float32) {
	V := r.m.Config.VocabSize
	if len(r.tr.Scores) != r.tr.PromptLen { // a Recorder used without Run
		r.tr.Scores = newScores(idsOf(r.tr.Tokens[:r.tr.PromptLen]), r.m.Config.NPositions)
	}
	windows := ScoreWindows(r.tr.PromptLen, r.m.Config.NPositions)
	if len(windows) == 0 {
		return
	}
	from := windows[len(windows)-1].From
	q0 := from - 1 - info.QueryStart // the row predicting from
	n := r.tr.PromptLen - from
	topN := min(r.opts.TopN, V)
	r.rowM, r.rowSum = resize(r.rowM, n), resize(r.rowSum, n)
	r.rowTop = resize(r.rowTop, n*topN)
	r.ws.rowStats(r.rowM, r.rowSum, r.rowTop, logits[q0*V:(q0+n)*V], n, V, topN)
	for i := range n {
		pos, row := from+i, logits[(q0+i)*V:(q0+i+1)*V]
		r.fillScore(&r.tr.Scores[pos], pos-info.QueryStart, row, r.rowM[i], r.rowSum[i], r.rowTop[i*topN:(i+1)*topN])
	}
}

func idsOf(tokens []trace.Token) []int {
	ids := make([]int, len(tokens))
	for i, t := range tokens {
		ids[i] = t.ID
	}
	return ids
}

// top returns the TopN most probable candidates of one distribution, from
// its logits and softmaxSum's m and sum: a selection of the TopN ids, not a
// sort of the vocabulary.
func (r *traceRecorder) top(logits []float32, m, sum float64) []trace.Candidate {
	return r.candidates(logits, m, sum, r.topRanked(logits))
}

// topRanked returns the TopN highest-ranked ids of logits, ranked, in
// topBuf (valid until the next call).
func (r *traceRecorder) topRanked(logits []float32) []int32 {
	r.topBuf = resize(r.topBuf, min(r.opts.TopN, len(logits)))
	return topIDs(r.topBuf, logits)
}

// candidates turns ranked ids of one distribution into Candidates.
func (r *traceRecorder) candidates(logits []float32, m, sum float64, ids []int32) []trace.Candidate {
	out := r.sl.cands.take(len(ids))
	for i, id := range ids {
		out[i] = r.candidate(int(id), logits[id], softmaxAt(logits[id], m, sum))
	}
	return out
}

// Sampled turns the sampler's record into the Prediction of the coming
// decode step.
func (r *traceRecorder) Sampled(step int, s *SampleResult) {
	probs := s.Probs()
	p := &r.sl.preds.take(1)[0]
	*p = trace.Prediction{
		Position: len(r.tr.Tokens) - 1,
		Entropy:  s.Entropy(), SampleEntropy: s.SampleEntropy, Greedy: s.Greedy,
	}
	ranked := s.Ranked(r.opts.TopN)
	if len(ranked) > 0 {
		p.Top = r.sl.cands.take(len(ranked))[:0]
	}
	for _, id := range ranked {
		c := r.candidate(int(id), s.Logits[id], probs[id])
		c.SampleProb = s.Final(int(id))
		c.RemovedBy = s.RemovedBy(int(id))
		p.Top = append(p.Top, c)
	}
	ch := r.candidate(s.Chosen, s.Logits[s.Chosen], probs[s.Chosen])
	ch.SampleProb = s.Final(s.Chosen)
	p.Chosen = ch
	if n := min(r.opts.TopLogits, len(s.Logits)); n > 0 {
		p.Logits = r.topLogits(s, n)
	}
	// Mass is measured on the tempered distribution, the one top-k and
	// top-p filter (top-p compares it with P): the sampler's own sums.
	if s.Greedy {
		p.Filters = r.sl.filters.take(1)
		p.Filters[0] = trace.FilterResult{Name: "greedy", Kept: 1, Mass: probs[s.Chosen]}
	} else {
		V := len(s.Logits)
		p.Filters = r.sl.filters.take(3)
		p.Filters[0] = trace.FilterResult{Name: "temperature", Kept: V, Mass: 1}
		p.Filters[1] = trace.FilterResult{Name: "top-k", Kept: s.KeptTopK, Mass: s.massK}
		p.Filters[2] = trace.FilterResult{Name: "top-p", Kept: s.KeptTopP, Mass: s.keptMass}
	}
	r.next = p
}

// topLogits returns the n highest logits of s (its first n ranked ids) and
// the log-sum-exp of all of them.
func (r *traceRecorder) topLogits(s *SampleResult, n int) *trace.TopLogits {
	tl := &r.sl.tops.take(1)[0]
	tl.IDs, tl.Values = r.sl.ints.take(n), r.sl.f32.take(n)
	ranked := s.Ranked(n)
	for i, id := range ranked {
		tl.IDs[i], tl.Values[i] = int(id), s.Logits[id]
	}
	m, sum := s.softmaxSum()
	tl.LogSumExp = m + math.Log(sum)
	return tl
}

// recordCache copies the final KV cache of the chosen layers into the Trace.
func (r *traceRecorder) recordCache(run *Runner) {
	kc := run.Cache()
	c := r.m.Config
	layers := r.opts.KVLayers
	if layers == nil {
		if c.NLayer*2*kc.Len*c.NEmbd <= 1<<18 {
			for l := 0; l < c.NLayer; l++ {
				layers = append(layers, l)
			}
		} else {
			layers = []int{0}
			if c.NLayer > 1 {
				layers = append(layers, c.NLayer-1)
			}
			r.note(trace.NoteKVLayers, fmt.Sprintf("The KV cache contents are recorded for layers %v only, to keep the trace small.", layers), layers...)
		}
	}
	for _, l := range layers {
		if l < 0 || l >= c.NLayer {
			continue
		}
		lk := trace.LayerKV{Layer: l, WindowStart: run.WindowStart(), Keys: make([][][]float32, c.NHead), Values: make([][][]float32, c.NHead)}
		for h := 0; h < c.NHead; h++ {
			k, v := kc.Head(l, h)
			lk.Keys[h] = split(k, kc.DHead)
			lk.Values[h] = split(v, kc.DHead)
		}
		r.tr.Cache = append(r.tr.Cache, lk)
	}
}

// LayerHead names one attention head: block Layer, head Head, from 0.
type LayerHead struct{ Layer, Head int }

// checkKVFocus returns a *ParamError when the KV focus of o lies outside
// a model of config c.
func (o TraceOptions) checkKVFocus(c arch.Config) error {
	if f := o.KVFocus; f != nil && (f.Layer < 0 || f.Layer >= c.NLayer || f.Head < 0 || f.Head >= c.NHead) {
		return &ParamError{"kv_focus", fmt.Sprintf("layer %d head %d", f.Layer, f.Head), fmt.Sprintf("must be a layer 0..%d and head 0..%d", c.NLayer-1, c.NHead-1)}
	}
	return nil
}

// kvFocus is the layer and head whose rows Step.KVWrite holds in full.
func (r *traceRecorder) kvFocus() LayerHead {
	if f := r.opts.KVFocus; f != nil {
		return *f
	}
	return LayerHead{Layer: r.m.Config.NLayer - 1}
}

// recordKVWrite records what block l wrote into the KV cache during this
// pass (Step.KVWrite): the key and value norms of every row written and,
// for the focus layer and head, the last KVRows rows in full.
func (r *traceRecorder) recordKVWrite(info ForwardInfo, l int, rec LayerRecord) {
	c := r.m.Config
	w := r.cur.KVWrite
	if w == nil {
		f := r.kvFocus()
		w = &r.sl.kvw.take(1)[0]
		*w = trace.KVWrite{Start: info.WindowStart + rec.from, N: rec.n, Layer: f.Layer, Head: f.Head,
			KeyNorm: r.sl.rows.take(c.NLayer)[:0], ValueNorm: r.sl.rows.take(c.NLayer)[:0]}
		w.From = w.Start + rec.n - min(rec.n, max(r.opts.KVRows, 0))
		if w.From > w.Start && r.opts.KVRows > 0 && !r.noted[trace.NoteKVRows] {
			r.note(trace.NoteKVRows, fmt.Sprintf("Steps that write more than %d rows into the KV cache record the keys and values of layer %d, head %d for their last %d rows; the key and value norms of every row and layer are recorded.", r.opts.KVRows, f.Layer, f.Head, r.opts.KVRows), r.opts.KVRows, f.Layer, f.Head)
		}
		r.cur.KVWrite = w
	}
	D := c.DHead()
	r.kn, r.vn = resize(r.kn, rec.n), resize(r.vn, rec.n)
	kn, vn := r.kn, r.vn
	clear(kn)
	clear(vn)
	for h := 0; h < c.NHead; h++ {
		k, v := rec.NewKV(h)
		for i := 0; i < rec.n; i++ {
			kn[i] += sumSquares(k[i*D : (i+1)*D])
			vn[i] += sumSquares(v[i*D : (i+1)*D])
		}
		if l == w.Layer && h == w.Head {
			skip := (w.From - w.Start) * D
			w.Keys, w.Values = r.sl.split(k[skip:], D), r.sl.split(v[skip:], D)
		}
	}
	w.KeyNorm = append(w.KeyNorm, sqrtsInto(r.sl.f32.take(len(kn)), kn))
	w.ValueNorm = append(w.ValueNorm, sqrtsInto(r.sl.f32.take(len(vn)), vn))
}

// sumSquares is Σ x_i², accumulated in float64.
func sumSquares(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// sqrtsInto writes the square root of each sum into out, as float32, and
// returns out.
func sqrtsInto(out []float32, sums []float64) []float32 {
	for i, s := range sums {
		out[i] = float32(math.Sqrt(s))
	}
	return out
}

// split copies x into rows of n.
func split(x []float32, n int) [][]float32 {
	out := make([][]float32, len(x)/n)
	for i := range out {
		out[i] = append([]float32(nil), x[i*n:(i+1)*n]...)
	}
	return out
}

// rowNormsInto writes the L2 norm of each row of x [rows][C] into out.
func rowNormsInto(out, x []float32, C int) {
	for i := range out {
		var s float64
		for _, v := range x[i*C : (i+1)*C] {
			s += float64(v) * float64(v)
		}
		out[i] = float32(math.Sqrt(s))
	}
}
