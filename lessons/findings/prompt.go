package findings

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gptviz/gptviz/model/trace"
)

// Perplexity is how unsure the model was of the prompt, from its scored
// tokens (Trace.Scores without NoContext).
type Perplexity struct {
	Scored int // scored prompt tokens, ≥ 1
	// MeanSurprisal is the mean of −log2 P(w_i | w_<i), bits per token.
	MeanSurprisal float64
	// Value is 2^MeanSurprisal: the perplexity (capped at the largest
	// float64). Read as "as unsure as choosing among Value equally likely
	// tokens" only when it is at most VocabSize.
	Value float64
	// VocabSize is the model's vocabulary size; UniformBits = log2
	// VocabSize is the surprisal of every token under a uniform guess over
	// the whole vocabulary (perplexity VocabSize).
	VocabSize   int
	UniformBits float64
	// WorseThanUniform is MeanSurprisal > UniformBits: the model did worse
	// than a uniform guess (perplexity above the vocabulary size), so it
	// was confidently wrong, and Value is no count of choices.
	WorseThanUniform bool
}

// PromptPerplexity returns the prompt's perplexity; ok is false when no
// prompt token was scored (a one-token prompt).
func PromptPerplexity(tr *trace.Trace) (p Perplexity, ok bool) {
	var sum float64
	for _, s := range tr.Scores {
		if !s.NoContext {
			sum += s.Surprisal
			p.Scored++
		}
	}
	if p.Scored == 0 {
		return Perplexity{}, false
	}
	p.MeanSurprisal = sum / float64(p.Scored)
	p.Value = min(math.Exp2(p.MeanSurprisal), math.MaxFloat64)
	p.VocabSize = tr.Model.Config.VocabSize
	if p.VocabSize > 0 {
		p.UniformBits = math.Log2(float64(p.VocabSize))
		p.WorseThanUniform = p.MeanSurprisal > p.UniformBits
	}
	return p, true
}

// Surprise is the most surprising prompt token: the scored token with the
// highest surprisal (the first of equals).
type Surprise struct {
	Index     int     // index in Trace.Scores
	Position  int     // absolute position (Score.Position)
	ID        int     // token id
	Prob      float64 // P(w_i | w_<i), 0..1
	Surprisal float64 // bits
	// MeanSurprisal is the mean over all scored prompt tokens, bits, for
	// comparison.
	MeanSurprisal float64
	Scored        int // scored prompt tokens, ≥ 2
}

// MostSurprising returns the most surprising prompt token; ok is false
// with fewer than 2 scored tokens (no "most" among one).
func MostSurprising(tr *trace.Trace) (s Surprise, ok bool) {
	var sum float64
	best := -1
	for i, sc := range tr.Scores {
		if sc.NoContext {
			continue
		}
		s.Scored++
		sum += sc.Surprisal
		if best < 0 || sc.Surprisal > tr.Scores[best].Surprisal {
			best = i
		}
	}
	if s.Scored < 2 {
		return Surprise{}, false
	}
	b := tr.Scores[best]
	s.Index, s.Position, s.ID, s.Prob, s.Surprisal = best, b.Position, b.ID, b.Prob, b.Surprisal
	s.MeanSurprisal = sum / float64(s.Scored)
	return s, true
}

// OutOfDistribution says the prompt is unlike the model's training text,
// with the numbers that decided it. It holds when ByBytes or BySurprisal.
type OutOfDistribution struct {
	// Tokens are the prompt's tokens; ByteTokens those that are raw bytes
	// (IsByteToken): pieces of a character the tokenizer has no token
	// for, because the character was rare or absent in its training
	// text. ByteShare = ByteTokens / Tokens.
	Tokens, ByteTokens int
	ByteShare          float64
	// ByBytes: at least MinScored prompt tokens and ByteShare ≥
	// ByteShareThreshold.
	ByBytes bool
	// Scored, MeanSurprisal (bits per token) and UniformBits (log2
	// vocab_size) are as in Perplexity; MedianProb is the median
	// P(w_i | w_<i) of the scored tokens (0 when none).
	Scored        int
	MeanSurprisal float64
	UniformBits   float64
	MedianProb    float64
	// BySurprisal: at least MinScored scored tokens and MeanSurprisal >
	// UniformBits: the model did worse on the prompt than a uniform guess
	// over its vocabulary, which a model does on text it never learnt.
	BySurprisal bool
}

// PromptOutOfDistribution returns the out-of-distribution fact of the
// prompt; ok is false when neither test holds.
func PromptOutOfDistribution(tr *trace.Trace) (o OutOfDistribution, ok bool) {
	for _, t := range tr.Tokens[:max(0, min(tr.PromptLen, len(tr.Tokens)))] {
		o.Tokens++
		if IsByteToken(t) {
			o.ByteTokens++
		}
	}
	if o.Tokens > 0 {
		o.ByteShare = float64(o.ByteTokens) / float64(o.Tokens)
	}
	o.ByBytes = o.Tokens >= MinScored && o.ByteShare >= ByteShareThreshold
	var probs []float64
	for _, s := range tr.Scores {
		if !s.NoContext {
			probs = append(probs, s.Prob)
		}
	}
	if p, has := PromptPerplexity(tr); has {
		o.Scored, o.MeanSurprisal, o.UniformBits = p.Scored, p.MeanSurprisal, p.UniformBits
		o.BySurprisal = p.Scored >= MinScored && p.WorseThanUniform
		slices.Sort(probs)
		o.MedianProb = median(probs)
	}
	return o, o.ByBytes || o.BySurprisal
}

// median of sorted xs (the mean of the middle two for an even count); 0
// for none.
func median(xs []float64) float64 {
	n := len(xs)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// hexBytes is how a token's display form shows bytes that are not whole
// UTF-8 characters: "<e4 bd>".
var hexBytes = regexp.MustCompile(`<[0-9a-f]{2}( [0-9a-f]{2})*>`)

// IsByteToken reports whether t is a raw-byte token: its bytes are not
// whole UTF-8 characters. Its Text is then not valid UTF-8, or, after a
// JSON round trip (which replaces such bytes with U+FFFD), holds U+FFFD
// while its Display shows hex bytes.
func IsByteToken(t trace.Token) bool {
	if !utf8.ValidString(t.Text) {
		return true
	}
	return strings.ContainsRune(t.Text, utf8.RuneError) && hexBytes.MatchString(t.Display)
}

// ContrastRatio is how many times one probability must exceed another to
// be called clearly higher (Lead.Over).
const ContrastRatio = 2

// Lead is how likely the model found a given continuation right after the
// prompt (Trace.Continuation), and what it could read when it scored it.
type Lead struct {
	Prob  float64 // P(first continuation token | prompt), 0..1
	Nats  float64 // its surprisal, −ln Prob, nats
	Whole float64 // P(whole continuation | prompt), 0..1
	// Tokens is how many tokens the continuation has.
	Tokens int
	// WholeNats is −ln Whole, nats.
	WholeNats float64
	// Context is how many tokens before the first continuation token the
	// model saw; FirstSeen the absolute position of the oldest of them,
	// PromptLen − Context.
	Context, FirstSeen int
	// TopKnown is set when the run recorded the prediction after the
	// prompt (a step's Next at position PromptLen − 1); then IsTop says
	// whether the continuation's first token was its top candidate.
	TopKnown, IsTop bool
}

// ContinuationLead returns the Lead of the run's continuation; ok is false
// when the run scored none, or its first token has no score.
func ContinuationLead(tr *trace.Trace) (l Lead, ok bool) {
	c := tr.Continuation
	if c == nil || len(c.Scores) == 0 || c.Scores[0].NoContext {
		return l, false
	}
	s := c.Scores[0]
	l = Lead{Prob: s.Prob, Nats: -math.Log(s.Prob), Whole: math.Exp2(c.Log2Prob), WholeNats: -c.Log2Prob * math.Ln2, Tokens: len(c.Tokens), Context: s.Context}
	l.FirstSeen = max(tr.PromptLen-s.Context, 0)
	for _, st := range tr.Steps {
		if nx := st.Next; nx != nil && nx.Position == tr.PromptLen-1 && len(nx.Top) > 0 && len(c.Tokens) > 0 {
			l.TopKnown, l.IsTop = true, nx.Top[0].ID == c.Tokens[0].ID
			break
		}
	}
	return l, true
}

// Over reports whether the whole continuation is clearly more likely
// under l than under o: at least ContrastRatio times.
func (l Lead) Over(o Lead) bool { return l.Whole >= ContrastRatio*o.Whole }
