// Package trace is the Trace contract: a whole recorded run of a GPT-2 model
// as plain, versioned data (JSON), with its reading and validation. The
// engine (package model) writes Traces; viz, lessons and the report read
// them, without the engine. It imports only the standard library and
// model/arch.
//
// Shapes follow ARCHITECTURE.md: attention probabilities of one step are
// [n_layer][n_head][query][key], KV cache contents [n_head][position][d_head].
package trace

import (
	"encoding/json"
	"fmt"

	"github.com/gptviz/gptviz/model/arch"
)

// Version is the version of the Trace JSON format. It changes whenever a
// field changes meaning or is removed; readers refuse other versions.
const Version = 1

// Trace is a whole recorded run: plain data, JSON-serialisable, enough to
// render a report without the model. Positions are absolute: Tokens[i] is the
// token at position i of the run, counting from the first prompt token, even
// after earlier tokens have been evicted from the context window.
type Trace struct {
	Version  int       `json:"version"`  // Version
	Model    ModelInfo `json:"model"`    // which model ran
	Settings Settings  `json:"settings"` // how it ran
	Prompt   string    `json:"prompt"`   // the prompt text as given

	// Tokens are every token that entered working memory: the prompt's
	// PromptLen tokens, then one per decode step.
	Tokens    []Token `json:"tokens"`
	PromptLen int     `json:"prompt_len"`

	// Scores are P(w_i | w_<i) for each prompt token under teacher forcing,
	// len PromptLen. Scores[0] has NoContext set unless the prompt was scored
	// after <|endoftext|>. A prompt longer than the context window is scored
	// whole, in sliding windows (Score.Context says how much each token saw).
	Scores []Score `json:"scores"`

	// Continuation is a given continuation of the prompt scored under
	// teacher forcing, beside what the model generated; nil when none was
	// given.
	Continuation *Continuation `json:"continuation,omitempty"`

	// Steps[0] is the prefill over the prompt; Steps[1:] are decode steps,
	// one new token each.
	Steps []Step `json:"steps"`

	// Evictions lists every token that left the context window, in order.
	Evictions []Eviction `json:"evictions,omitempty"`

	// Cache is the KV cache's contents at the end of the run, one entry per
	// recorded layer: the working memory itself. Nil when not recorded.
	Cache []LayerKV `json:"cache,omitempty"`

	// Checks are sanity checks computed during the run and shown to learners.
	Checks Checks `json:"checks"`

	// Notes say what was summarised or left out to keep the trace bounded
	// (for example attention beyond 256 positions recorded as block
	// averages), each once.
	Notes []Note `json:"notes,omitempty"`

	Timings Timings `json:"timings"`

	// Optional measurements that lessons ask for (lessonext.go); nil when
	// not recorded.
	Baselines   *Baselines   `json:"baselines,omitempty"`   // n-gram models on the prompt
	Attribution *Attribution `json:"attribution,omitempty"` // direct logit attribution of the first prediction
	Drill       *Drill       `json:"drill,omitempty"`       // one head's computation for one query
	CacheCost   *CacheCost   `json:"cache_cost,omitempty"`  // decoding with vs without the KV cache
	Training    *Training    `json:"training,omitempty"`    // the default model's training, snapshot by snapshot
}

// ModelInfo describes the model that produced a Trace.
type ModelInfo struct {
	Name      string      `json:"name"` // folder, hub id or "default"
	Config    arch.Config `json:"config"`
	NumParams int         `json:"num_params"`
}

// Settings are the sampling settings and seed of a run (see SamplingParams).
type Settings struct {
	Steps       int     `json:"steps"`       // decode steps asked for
	Temperature float64 `json:"temperature"` // 0 means greedy
	TopK        int     `json:"top_k"`       // 0 means off
	TopP        float64 `json:"top_p"`       // 1 means off
	Seed        uint64  `json:"seed"`
	// Overflow is what the run did when the context window was full:
	// OverflowSlide or OverflowBlock. Absent (traces written before it was
	// recorded) means OverflowSlide, the only policy then; see OverflowOf.
	Overflow string `json:"overflow,omitempty"`
	// Command is the command line that made the run, as recorded. In a
	// shared trace it may hold anything: gptviz never shows or runs it, and
	// rebuilds the command it shows from the fields above.
	Command string `json:"command,omitempty"`
	Version string `json:"version,omitempty"` // gptviz version
}

// Token is one token as a learner sees it.
type Token struct {
	ID      int    `json:"id"`
	Text    string `json:"text"`    // decoded bytes; may be a partial UTF-8 sequence
	Display string `json:"display"` // learner's form: visible spaces, ↵ for newline, hex for partial UTF-8
	Prompt  bool   `json:"prompt"`  // true for prompt tokens, false for generated ones
}

// Score is how likely the model found one token given the tokens before it.
type Score struct {
	Position  int     `json:"position"`
	ID        int     `json:"id"`
	Prob      float64 `json:"prob"`       // P(w_i | w_<i), 0..1
	Surprisal float64 `json:"surprisal"`  // -log2 Prob, bits
	NoContext bool    `json:"no_context"` // first token with nothing before it: Prob and Surprisal are not set
	// Context is how many tokens before this one the model saw when it
	// scored it, 0..n_positions−1: Position for a prompt that fits the
	// context window; for a longer prompt, scored in sliding windows
	// advancing by n_positions/2, at least n_positions/2 for every token
	// after the first n_positions/2. It is 0 only with NoContext. Traces
	// written before it was recorded lack it (0 with NoContext false):
	// read it with Trace.ScoreContext, which says what those versions did.
	Context int         `json:"context"`
	Top     []Candidate `json:"top"` // the model's top alternatives at this position
}

// ScoreContext returns how many tokens before Scores[i] the model saw when
// it scored it: Scores[i].Context when recorded. For traces written before
// Context was recorded (Context 0 without NoContext) it is what those
// versions did: the prompt was cropped to its last window, which started at
// Steps[0].WindowStart, and every token in it after the first saw the
// tokens before it in the window: Position − Steps[0].WindowStart, kept
// within 1..min(Position, n_positions−1).
func (tr *Trace) ScoreContext(i int) int {
	s := tr.Scores[i]
	if s.Context > 0 || s.NoContext {
		return s.Context
	}
	start := 0
	if len(tr.Steps) > 0 {
		start = tr.Steps[0].WindowStart
	}
	hi := min(s.Position, tr.Model.Config.NPositions-1)
	return max(min(s.Position-start, hi), min(1, hi))
}

// OverflowOf returns the overflow policy a run used: Settings.Overflow, or
// OverflowSlide for a trace that does not record it.
func (tr *Trace) OverflowOf() string {
	if tr.Settings.Overflow == "" {
		return OverflowSlide
	}
	return tr.Settings.Overflow
}

// The overflow policies of Settings.Overflow (package model's Overflow
// documents them and their cost).
const (
	OverflowSlide = "slide" // evict one token per step, recompute the whole window every step
	OverflowBlock = "block" // evict a block of tokens at once, recompute once, decode with the cache again
)

// Continuation is a given text after the prompt, scored under teacher
// forcing: the model reads prompt + continuation in one pass (in sliding
// windows when they exceed the context window) and each continuation token
// gets P(w_i | prompt, w_<i). The continuation is tokenized on its own, so
// its tokens are exactly the text's (a leading space belongs to it).
type Continuation struct {
	Text   string  `json:"text"`
	Tokens []Token `json:"tokens"` // len ≥ 1, Prompt false
	// Scores are P(w_i | prompt, w_<i) of each token, len(Tokens);
	// Scores[i].Position is PromptLen + i, a position in the sequence
	// prompt + continuation (not in Trace.Tokens, which continues with the
	// generated tokens).
	Scores []Score `json:"scores"`
	// Log2Prob is log2 P(continuation | prompt) = Σ log2 Scores[i].Prob, in
	// bits, ≤ 0.
	Log2Prob float64 `json:"log2_prob"`
	// BitsPerToken is −Log2Prob / len(Tokens): the mean surprisal of the
	// continuation's tokens, bits per token.
	BitsPerToken float64 `json:"bits_per_token"`
}

// Candidate is one possible next token with its logit and probabilities.
type Candidate struct {
	ID      int     `json:"id"`
	Text    string  `json:"text"`
	Display string  `json:"display"`
	Logit   float32 `json:"logit"`
	Prob    float64 `json:"prob"` // softmax of the raw logits (temperature 1)
	// SampleProb is the probability the sampler actually used, after
	// temperature, top-k and top-p; 0 when a filter removed the token.
	SampleProb float64 `json:"sample_prob"`
	// RemovedBy names the filter that removed it: "", "top-k" or "top-p".
	RemovedBy string `json:"removed_by,omitempty"`
}

// Step records one forward pass: the prefill (many query positions) or one
// decode step (a single query position reading the KV cache).
type Step struct {
	Index int      `json:"index"` // 0 for the prefill
	Kind  StepKind `json:"kind"`  // Prefill, Decode or Recompute

	// QueryStart is the absolute position of the first query row computed in
	// this step; NQuery rows follow. WindowStart is the absolute position of
	// key 0, the oldest token in the context window.
	QueryStart  int `json:"query_start"`
	NQuery      int `json:"n_query"`
	WindowStart int `json:"window_start"`

	// Attention is per layer, each [n_head][query][key] post-softmax
	// probabilities over keys WindowStart..QueryStart+query. Nil when not
	// recorded; see AttentionSummary.
	Attention []LayerAttention `json:"attention,omitempty"`

	// ResidualNorm[l][q] is the L2 norm of the residual stream of query row q
	// after l blocks (l = 0 is the embeddings), [n_layer+1][NQuery].
	ResidualNorm [][]float32 `json:"residual_norm,omitempty"`

	// LogitLens[l][q] is the top token when the residual stream of query row
	// LensStart+q after block l is read out through ln_f and the tied head,
	// [n_layer][NQuery−LensStart]: the lens covers the step's last
	// NQuery−LensStart rows (all of them when LensStart is 0, as in traces
	// written before gptviz bounded it; see NoteLensRows).
	LogitLens [][]LensEntry `json:"logit_lens,omitempty"`
	// LensStart is the first query row the logit lens read out, 0 ≤
	// LensStart ≤ NQuery.
	LensStart int `json:"lens_start,omitempty"`
	// LensMillis is the part of Millis spent reading out the logit lens
	// (n_layer − 1 extra rows through the output head per lens row: the
	// last layer's reading is the logits), ms. Where the lens's rows share
	// the step's own pass through the head, its share of that pass counts.
	LensMillis float64 `json:"lens_ms,omitempty"`

	// Next is the next-token distribution at the last query position and the
	// sampler's choice; nil for a prefill that is not followed by a step.
	Next *Prediction `json:"next,omitempty"`

	// KV is the KV cache after this step.
	KV KVInfo `json:"kv"`

	// KVWrite is what this step wrote into the KV cache. Nil when not
	// recorded (traces written before gptviz recorded it).
	KVWrite *KVWrite `json:"kv_write,omitempty"`

	Millis float64 `json:"millis"` // wall time of the step, ms
}

// StepKind says how a Step computed its token: the prefill over the prompt,
// a decode step reading the KV cache, or a recompute of the whole context
// window (after the window was full and the oldest token left it). In JSON
// it is the string "prefill", "decode" or "recompute", as in every version-1
// trace.
type StepKind uint8

// The kinds of Step.
const (
	Prefill   StepKind = iota + 1 // Steps[0]: every prompt position at once
	Decode                        // one new position, the others read from the KV cache
	Recompute                     // one new token, the whole window recomputed after an eviction
)

var stepKindNames = [...]string{Prefill: "prefill", Decode: "decode", Recompute: "recompute"}

// String returns the kind's JSON name, or "StepKind(N)" for an invalid one.
func (k StepKind) String() string {
	if k >= Prefill && k <= Recompute {
		return stepKindNames[k]
	}
	return fmt.Sprintf("StepKind(%d)", uint8(k))
}

// Generates reports whether a step of this kind produced a new token (every
// kind but Prefill).
func (k StepKind) Generates() bool { return k == Decode || k == Recompute }

// MarshalJSON writes the kind's name; an invalid kind is an error.
func (k StepKind) MarshalJSON() ([]byte, error) {
	if k < Prefill || k > Recompute {
		return nil, fmt.Errorf("step kind %d is not prefill, decode or recompute", uint8(k))
	}
	return json.Marshal(stepKindNames[k])
}

// UnmarshalJSON reads "prefill", "decode" or "recompute"; anything else is
// an error that quotes it.
func (k *StepKind) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("step kind: %w", err)
	}
	for i, name := range stepKindNames {
		if name != "" && name == s {
			*k = StepKind(i)
			return nil
		}
	}
	return fmt.Errorf("step kind %q: want prefill, decode or recompute", s)
}

// LayerAttention is one layer's attention probabilities, [n_head][query][key].
type LayerAttention struct {
	Probs [][][]float32 `json:"probs"`
	// Summarised is set when rows were block-averaged to keep the trace
	// bounded; KeyStride keys were averaged into each stored column.
	Summarised bool `json:"summarised,omitempty"`
	KeyStride  int  `json:"key_stride,omitempty"`
}

// BlockAverage returns a copy of an attention row with every block of
// stride keys replaced by its mean, [ceil(len(row)/stride)]: the form of a
// Summarised LayerAttention row with KeyStride stride (the last block may be
// shorter). stride ≤ 1 copies the row unchanged.
func BlockAverage(row []float32, stride int) []float32 {
	if stride <= 1 {
		return append([]float32(nil), row...)
	}
	out := make([]float32, (len(row)+stride-1)/stride)
	for i := range out {
		blk := row[i*stride : min((i+1)*stride, len(row))]
		var s float32
		for _, v := range blk {
			s += v
		}
		out[i] = s / float32(len(blk))
	}
	return out
}

// LensEntry is the logit lens reading of one layer at one position.
type LensEntry struct {
	ID      int     `json:"id"`
	Display string  `json:"display"`
	Prob    float64 `json:"prob"`
}

// Prediction is the next-token distribution and what the sampler did with it.
type Prediction struct {
	Position int `json:"position"` // absolute position whose logits these are
	// Top are the highest-probability candidates (by raw softmax).
	Top []Candidate `json:"top"`
	// Entropy of the raw distribution (temperature 1), bits.
	Entropy float64 `json:"entropy"`
	// SampleEntropy of the distribution actually sampled from, bits.
	SampleEntropy float64 `json:"sample_entropy"`
	// Filters describe each sampling stage in order: temperature, top-k, top-p.
	Filters []FilterResult `json:"filters,omitempty"`
	Chosen  Candidate      `json:"chosen"`
	Greedy  bool           `json:"greedy"` // chosen by argmax rather than by sampling
	// Logits are the highest logits of this distribution, so that a page
	// can recompute the sampler offline for other settings. Nil when not
	// recorded (traces written before gptviz recorded them, or a run that
	// asked for none).
	Logits *TopLogits `json:"logits,omitempty"`
}

// TopLogits are the N highest raw logits of one next-token distribution,
// highest first, ties by ascending id (the sampler's order), with N the
// recording's choice (model.TraceOptions.TopLogits, 256 by default, or the
// whole vocabulary when it is smaller). From them a page recomputes what
// the sampler does for any settings: exactly whenever top-k is on with
// K ≤ N (the filters then see only recorded tokens and renormalise over
// them), and otherwise up to the unrecorded tail, whose mass at
// temperature 1 is 1 − Σ exp(Values[i] − LogSumExp).
type TopLogits struct {
	IDs    []int     `json:"ids"`    // token ids, [N]
	Values []float32 `json:"values"` // their logits, [N], non-increasing
	// LogSumExp is ln Σ_j exp(logit_j) over the whole vocabulary, so that
	// the raw probability (temperature 1) of a recorded token is
	// exp(Values[i] − LogSumExp).
	LogSumExp float64 `json:"log_sum_exp"`
}

// FilterResult is the effect of one sampling stage.
type FilterResult struct {
	Name string  `json:"name"` // "temperature", "top-k" or "top-p"
	Kept int     `json:"kept"` // tokens with non-zero probability afterwards
	Mass float64 `json:"mass"` // probability mass of the kept tokens under the tempered distribution (what top-p compares with P), 0..1
}

// KVInfo is the size of the KV cache.
type KVInfo struct {
	Positions []int `json:"positions"` // cached positions per layer, [n_layer]
	// Bytes is arch.Config.KVBytes of the positions cached.
	Bytes int64 `json:"bytes"`
}

// KVWrite is what one step wrote into the KV cache: the rows of absolute
// positions Start..Start+N−1. A decode step writes one row, its new
// token's; the prefill and a recompute step write the whole context window
// (after an eviction every position's key and value change, so a recompute
// rewrites every cached row).
//
// Every layer is summarised by the L2 norms of the rows written; one focus
// layer and head is recorded in full for the last rows written, at most a
// bound chosen when recording (model.TraceOptions.KVRows, 256 by default):
// rows From..Start+N−1. A step that wrote more rows records its earlier
// rows by their norms only, and the Trace says so once in a Note
// (NoteKVRows).
type KVWrite struct {
	Start int `json:"start"` // absolute position of the first row written
	N     int `json:"n"`     // rows written, ≥ 1

	// KeyNorm[l][i] and ValueNorm[l][i] are the L2 norms over all heads
	// (n_embd values) of the key and value row of position Start+i in
	// layer l, [n_layer][N].
	KeyNorm   [][]float32 `json:"key_norm"`
	ValueNorm [][]float32 `json:"value_norm"`

	// Layer and Head are the focus whose rows are recorded in full.
	Layer int `json:"layer"`
	Head  int `json:"head"`
	// From is the absolute position of the first row in Keys and Values,
	// Start ≤ From ≤ Start+N.
	From int `json:"from"`
	// Keys and Values are the focus head's rows of positions
	// From..Start+N−1, [Start+N−From][d_head] each.
	Keys   [][]float32 `json:"keys"`
	Values [][]float32 `json:"values"`
}

// Eviction records a token that left the context window.
type Eviction struct {
	Step     int `json:"step"`     // decode step at which it left
	Position int `json:"position"` // its absolute position
	ID       int `json:"id"`
}

// Checks are invariants measured on the real run.
type Checks struct {
	// MaxRowSumError is max |Σ_k attention[q][k] − 1| over every recorded row.
	MaxRowSumError float64 `json:"max_row_sum_error"`
	// MaxCausalLeak is the largest attention probability on a future key
	// (must be 0).
	MaxCausalLeak float64 `json:"max_causal_leak"`
	// CacheVsRecompute is max |Δlogit| between cached decoding and a full
	// recompute of the same sequence; negative when not measured.
	CacheVsRecompute float64 `json:"cache_vs_recompute"`
	// ZeroTempIsGreedy is true when temperature→0 sampling picked the argmax
	// at every step it was checked.
	ZeroTempIsGreedy bool `json:"zero_temp_is_greedy"`
}

// Timings are wall-clock durations of a run, milliseconds.
type Timings struct {
	LoadMillis    float64 `json:"load_ms"`
	PrefillMillis float64 `json:"prefill_ms"`
	DecodeMillis  float64 `json:"decode_ms"` // all decode steps together
	TokensPerSec  float64 `json:"tokens_per_sec"`
}

// LayerKV is what one layer's KV cache holds: the keys and values of every
// cached position, [n_head][position][d_head] each. Position 0 is absolute
// position WindowStart.
type LayerKV struct {
	Layer       int           `json:"layer"`
	WindowStart int           `json:"window_start"`
	Keys        [][][]float32 `json:"keys"`
	Values      [][][]float32 `json:"values"`
}

// Note is one thing a Trace summarised or left out. Code says which, Args
// carry its numbers (see the Note… constants) so that a report can say it in
// any language; Text says it in English.
type Note struct {
	Code string `json:"code"`
	Args []int  `json:"args,omitempty"`
	Text string `json:"text"`
}

// Note codes and their Args.
const (
	// NotePromptRows: the prompt had Args[0] tokens; attention, logit lens
	// and residual norms were recorded for its last Args[1] positions.
	NotePromptRows = "prompt-rows"
	// NoteAttentionStride: attention rows longer than Args[0] keys are
	// stored as averages over blocks of Args[1] keys.
	NoteAttentionStride = "attention-stride"
	// NoteKVLayers: the KV cache contents were recorded for layers Args only.
	NoteKVLayers = "kv-layers"
	// NoteEvicted: Args[0] tokens left the context window of Args[1]
	// positions; each later step recomputed the window from scratch
	// (Settings.Overflow slide).
	NoteEvicted = "evicted"
	// NoteEvictedBlock: Args[0] tokens left the context window of Args[1]
	// positions in Args[2] blocks of Args[3] tokens (Settings.Overflow
	// block); each block's eviction recomputed the rest of the window once,
	// Args[4] positions in all, and the steps in between read the KV cache.
	NoteEvictedBlock = "evicted-block"
	// NotePromptWindows: the prompt has Args[0] tokens, more than the
	// context window of Args[1] positions. It was scored whole in Args[2]
	// sliding windows advancing by Args[3] tokens, so every token from
	// position Args[1] − Args[3] on saw at least Args[1] − Args[3] tokens of
	// context;
	// its first Args[0] − Args[1] tokens left working memory before the
	// first step.
	NotePromptWindows = "prompt-windows"
	// NoteKVRows: a step wrote more than Args[0] rows into the KV cache;
	// the keys and values of layer Args[1], head Args[2] were recorded for
	// its last Args[0] rows, and the key and value norms of every row of
	// every layer (Step.KVWrite).
	NoteKVRows = "kv-rows"
	// NoteLensRows: a step recorded Args[0] query rows; the logit lens was
	// read out for its last Args[1] (Step.LensStart), to bound its cost of
	// n_layer passes through the output head per row.
	NoteLensRows = "lens-rows"
	// NoteEmptyPrompt: the prompt was empty; the run started from the
	// tokenizer's <|endoftext|> (Tokens[0]).
	NoteEmptyPrompt = "empty-prompt"
)
