package trace

import (
	"fmt"

	"github.com/gptviz/gptviz/model/arch"
)

// Optional measurements a lesson asks for (issue 10), recorded beside a run
// by package model (model.Baselines, model.Inspect, model.MeasureCache).
// Each is a pointer field of Trace, absent (nil, left out of the JSON) when
// not asked for, so traces without them are unchanged and Version stays 1.

// Baselines are n-gram models scored on the run's prompt, token by token,
// beside the transformer's own Scores: a Markov chain of order 1 (bigram)
// and 2 (trigram) trained on Corpus in the model's tokenizer.
type Baselines struct {
	// Corpus names the training text: "mix" (the mixed corpus embedded in
	// gptviz that the default model was trained on: Newton's Opticks, the
	// King James Bible, The Devil's Dictionary, the Jargon File, Tom Sawyer,
	// Sherlock Holmes, Tang and Song poems; split by model/corpus.Mix(1);
	// traces recorded before the two novels joined it saw the mix without
	// them). Traces recorded before
	// issue 13 say "opticks" (Newton's Opticks, corpus.Opticks(1)).
	Corpus string `json:"corpus"`
	// OwnCorpus is true when the model itself was trained on Corpus with
	// the same tokenizer (gptviz's default model); false for a model
	// trained on other text (gpt2: WebText), whose baselines are trained
	// on Corpus in that model's tokenizer.
	OwnCorpus bool `json:"own_corpus"`
	// TrainTokens and ValTokens are the sizes of the training and
	// validation splits in the model's tokens.
	TrainTokens int `json:"train_tokens"`
	ValTokens   int `json:"val_tokens"`
	// Models are the baselines, lowest order first.
	Models []NgramScores `json:"models"`
	// PromptIn says where the prompt's text occurs in Corpus, verbatim:
	// PromptInTrain (the training split, which the n-grams counted and,
	// with OwnCorpus, the model read), PromptInValidation (held out from
	// both), PromptInNeither; "" in traces recorded before gptviz looked.
	PromptIn string `json:"prompt_in,omitempty"`
}

// The values of Baselines.PromptIn.
const (
	PromptInTrain      = "train"
	PromptInValidation = "validation"
	PromptInNeither    = "neither"
)

// NgramScores is one n-gram model scored on the prompt.
type NgramScores struct {
	Name  string `json:"name"`  // e.g. "Kneser–Ney trigram"
	Order int    `json:"order"` // n: the model conditions on n−1 tokens
	// Surprisal[i] is −log2 P(w_i | the n−1 tokens before it), bits, for
	// the prompt token at position i, [PromptLen]; Surprisal[0] is 0 (the
	// first token has no context, as Scores[0]).
	Surprisal []float64 `json:"surprisal"`
	// ValBits is the mean surprisal on the validation split, bits/token.
	ValBits float64 `json:"val_bits"`
}

// Attribution is direct logit attribution (as TransformerLens computes
// it) of one logit at one position: the residual stream at the final
// LayerNorm is a sum of components (the embeddings, each head's output
// through its share of the attention projection, each attention
// projection bias, each MLP's output); with the LayerNorm's statistics
// frozen at this position (mean μ and σ = √(var + ε) of the whole
// residual), each component c contributes
// W_U[token] · (g ⊙ (c − mean(c)) / σ), and the LayerNorm bias b
// contributes W_U[token] · b. These parts sum to Logit.
type Attribution struct {
	Position int     `json:"position"` // absolute position whose logits are attributed
	Token    int     `json:"token"`    // the attributed token (the run's predicted next token)
	Display  string  `json:"display"`  // its display form
	Logit    float32 `json:"logit"`    // the model's logit for Token
	Sigma    float32 `json:"sigma"`    // √(var + ε) of the final LayerNorm at Position
	// Embed is the token + position embedding's part.
	Embed float64 `json:"embed"`
	// Heads[l][h] is head h of layer l's part, [n_layer][n_head].
	Heads [][]float64 `json:"heads"`
	// AttnBias[l] is layer l's attention projection bias's part, [n_layer].
	AttnBias []float64 `json:"attn_bias"`
	// MLP[l] is layer l's MLP output's part (its bias included), [n_layer].
	MLP []float64 `json:"mlp"`
	// LNBias is the final LayerNorm bias's part, W_U[token] · b.
	LNBias float64 `json:"ln_bias"`
}

// Sum returns the sum of every part: Logit up to float32 rounding.
func (a *Attribution) Sum() float64 {
	s := a.Embed + a.LNBias
	for l := range a.Heads {
		for _, v := range a.Heads[l] {
			s += v
		}
	}
	for _, v := range a.AttnBias {
		s += v
	}
	for _, v := range a.MLP {
		s += v
	}
	return s
}

// Drill is one attention head's computation for one query, number by
// number: q, every key the query may see, q·k, the scaling by 1/√d_head,
// the softmax (keys after the query are masked: they get probability 0
// and are not listed), and the output Σ p·v.
type Drill struct {
	Layer int `json:"layer"`
	Head  int `json:"head"`
	// Query is the query's absolute position; WindowStart the absolute
	// position of Keys[0].
	Query       int `json:"query"`
	WindowStart int `json:"window_start"`
	// Masked is how many keys of the forward pass came after the query
	// (the causal mask set their scores to −∞).
	Masked int       `json:"masked"`
	Q      []float32 `json:"q"` // [d_head]
	// Keys and Values are the rows of positions WindowStart..Query,
	// [Query−WindowStart+1][d_head] each.
	Keys   [][]float32 `json:"keys"`
	Values [][]float32 `json:"values"`
	// Dots are q·k, Scale is 1/√d_head, Probs the softmax of Dots·Scale,
	// [Query−WindowStart+1] each.
	Dots  []float32 `json:"dots"`
	Scale float32   `json:"scale"`
	Probs []float32 `json:"probs"`
	// Output is the head's output Σ_j Probs[j]·Values[j] as the engine
	// computed it, [d_head].
	Output []float32 `json:"output"`
}

// CacheCost is decoding measured with and without the KV cache on the same
// tokens: each step's time and floating-point operations, and how far the
// two outputs differ.
type CacheCost struct {
	Steps []CostStep `json:"steps"`
	// MaxLogitDiff is max |logit cached − logit uncached| over every step
	// and token.
	MaxLogitDiff float64 `json:"max_logit_diff"`
	// SameTokens is true when both picked the same greedy token at every
	// step.
	SameTokens bool `json:"same_tokens"`
}

// CostStep is one decode step, cached and uncached.
type CostStep struct {
	Context int `json:"context"` // tokens in the window after the step
	// CachedFLOPs and UncachedFLOPs are arch.ForwardFLOPs of the step:
	// one new row reading Context−1 cached keys, or every row recomputed.
	CachedFLOPs   int64 `json:"cached_flops"`
	UncachedFLOPs int64 `json:"uncached_flops"`
	// CachedMillis and UncachedMillis are wall times, ms (0 after
	// ClearTimings).
	CachedMillis   float64 `json:"cached_ms"`
	UncachedMillis float64 `json:"uncached_ms"`
}

// validateExt checks the shapes of the optional measurements against the
// model and the run, so that a page may index them without further checks.
func (tr *Trace) validateExt() error {
	c := tr.Model.Config
	L, H, D := c.NLayer, c.NHead, c.DHead()
	if b := tr.Baselines; b != nil {
		switch b.PromptIn {
		case "", PromptInTrain, PromptInValidation, PromptInNeither:
		default:
			return fmt.Errorf("baselines.prompt_in %q: want %s, %s or %s", b.PromptIn, PromptInTrain, PromptInValidation, PromptInNeither)
		}
		for i, m := range b.Models {
			if len(m.Surprisal) != tr.PromptLen || m.Order < 1 || m.Order > 8 {
				return fmt.Errorf("baselines.models[%d]: order %d, %d surprisals, want 1..8 and prompt_len %d", i, m.Order, len(m.Surprisal), tr.PromptLen)
			}
		}
	}
	if a := tr.Attribution; a != nil {
		if len(a.Heads) != L || len(a.AttnBias) != L || len(a.MLP) != L || a.Token < 0 || a.Token >= c.VocabSize {
			return fmt.Errorf("attribution: token %d, %d layers of heads, %d attention biases, %d MLPs; want a token of the vocabulary and %d layers", a.Token, len(a.Heads), len(a.AttnBias), len(a.MLP), L)
		}
		for l, hs := range a.Heads {
			if len(hs) != H {
				return fmt.Errorf("attribution.heads[%d]: %d heads, want %d", l, len(hs), H)
			}
		}
	}
	if d := tr.Drill; d != nil {
		n := d.Query - d.WindowStart + 1
		switch {
		case d.Layer < 0 || d.Layer >= L || d.Head < 0 || d.Head >= H:
			return fmt.Errorf("drill: layer %d head %d outside the model", d.Layer, d.Head)
		case d.WindowStart < 0 || n < 1 || n > c.NPositions || d.Query >= len(tr.Tokens) || d.Masked < 0 || d.Masked > c.NPositions:
			return fmt.Errorf("drill: query %d, window start %d, %d masked: not a position of the window", d.Query, d.WindowStart, d.Masked)
		case len(d.Q) != D || len(d.Output) != D || len(d.Keys) != n || len(d.Values) != n || len(d.Dots) != n || len(d.Probs) != n:
			return fmt.Errorf("drill: q %d, output %d (want d_head %d); keys %d, values %d, dots %d, probs %d (want %d)", len(d.Q), len(d.Output), D, len(d.Keys), len(d.Values), len(d.Dots), len(d.Probs), n)
		}
		for j := range d.Keys {
			if len(d.Keys[j]) != D || len(d.Values[j]) != D {
				return fmt.Errorf("drill: key or value %d: want d_head %d values", j, D)
			}
		}
	}
	if t := tr.Training; t != nil {
		if len(t.Curve) > 100000 || len(t.Snapshots) > 64 {
			return fmt.Errorf("training: %d loss points, %d snapshots: want at most 100000 and 64", len(t.Curve), len(t.Snapshots))
		}
		if t.TrainTokens < 0 {
			return fmt.Errorf("training: train_tokens %d: want ≥ 0", t.TrainTokens)
		}
		for i, s := range t.Snapshots {
			if len(s.Tokens) == 0 || s.Next == nil || len(s.Next.Top) == 0 {
				return fmt.Errorf("training.snapshots[%d]: no tokens or no prediction", i)
			}
			if err := t.AsTrace(i).Validate(); err != nil {
				return fmt.Errorf("training.snapshots[%d]: %w", i, err)
			}
		}
	}
	if cc := tr.CacheCost; cc != nil {
		for i, s := range cc.Steps {
			if s.Context < 1 || s.Context > c.NPositions || s.CachedFLOPs < 0 || s.UncachedFLOPs < 0 {
				return fmt.Errorf("cache_cost.steps[%d]: context %d, flops %d/%d: want 1..%d and ≥ 0", i, s.Context, s.CachedFLOPs, s.UncachedFLOPs, c.NPositions)
			}
		}
	}
	return nil
}

// Training is how the model behind a run was trained, for lesson 11:
// gptviz's default model's loss curve and the same prompt run at each of
// its shipped snapshots.
type Training struct {
	Model  string      `json:"model"`  // the trained model's name ("gptviz-default")
	Config arch.Config `json:"config"` // its configuration
	// Curve are the evaluations of the training run: validation loss (and
	// the training loss measured at the same steps), nats/token.
	Curve []LossPoint `json:"curve"`
	// TrainTokens is the length of the text the model trained on, in its
	// tokens, with each source repeated as its weight says (the curve's
	// Tokens are so many passes over it); 0 when unknown (traces before
	// it was recorded). The baselines' TrainTokens count another text.
	TrainTokens int `json:"train_tokens,omitempty"`
	// Baselines are n-gram models on the trained model's corpus and
	// tokenizer (their ValBits are what the curve is compared with),
	// scored on the prompt as the final model tokenizes it.
	Baselines *Baselines `json:"baselines,omitempty"`
	// Snapshots are the run's prompt run again on the model after Step
	// optimizer steps, in increasing order; the last is the final model.
	Snapshots []Snapshot `json:"snapshots"`
}

// LossPoint is one evaluation during training.
type LossPoint struct {
	Step      int     `json:"step"`
	Tokens    int64   `json:"tokens"`     // training tokens seen
	TrainLoss float64 `json:"train_loss"` // mean loss on held-in text, nats/token
	ValLoss   float64 `json:"val_loss"`   // mean loss on the validation split, nats/token
	// LR is the learning rate of the step's update (loss.csv's lr); 0 where
	// not recorded (step 0, or a curve from before it was kept).
	LR float64 `json:"lr,omitempty"`
}

// Snapshot is the run's prompt read by the trained model after Step
// optimizer steps (no decode steps): its tokens in that model's
// tokenizer, their scores, the prefill (attention, logit lens, KV) and
// the prediction after the prompt.
type Snapshot struct {
	Step    int         `json:"step"`
	Tokens  []Token     `json:"tokens"`
	Scores  []Score     `json:"scores"`
	Prefill Step        `json:"prefill"`
	Next    *Prediction `json:"next"`
}

// AsTrace returns snapshot i as a Trace of the prompt alone (the prefill
// and one prediction), for code that reads Traces.
func (t *Training) AsTrace(i int) *Trace {
	s := t.Snapshots[i]
	next := Step{Index: 1, Kind: Decode, QueryStart: len(s.Tokens), NQuery: 1, WindowStart: s.Prefill.WindowStart, Next: s.Next}
	toks := append(append([]Token(nil), s.Tokens...), Token{ID: s.Next.Chosen.ID, Text: s.Next.Chosen.Text, Display: s.Next.Chosen.Display})
	return &Trace{Version: Version, Model: ModelInfo{Name: fmt.Sprintf("%s@step-%d", t.Model, s.Step), Config: t.Config},
		Settings: Settings{Steps: 1, TopP: 1}, Tokens: toks, PromptLen: len(s.Tokens), Scores: s.Scores, Steps: []Step{s.Prefill, next}}
}
