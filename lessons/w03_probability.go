package lessons

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
)

// Lesson 3, P(w_i | w_<i): the chain rule checked on a scored
// continuation, surprisal, perplexity, the training loss.
func init() {
	cont := func(name string, f func(c *trace.Continuation) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			if tr.Continuation == nil {
				return "", errors.New("the run scored no continuation")
			}
			return f(tr.Continuation), nil
		})
	}
	cont("cont-tokens", func(c *trace.Continuation) string { return itoa(len(c.Tokens)) })
	cont("cont-log2p", func(c *trace.Continuation) string { return num(c.Log2Prob, 4) })
	// The engine's P(continuation | prompt) = 2^Log2Prob, and the product
	// of the per-token probabilities multiplied here.
	cont("cont-prob", func(c *trace.Continuation) string { return sci(math.Exp2(c.Log2Prob)) })
	cont("cont-product", func(c *trace.Continuation) string { return sci(product(c)) })
	cont("cont-rel-diff", func(c *trace.Continuation) string { return sci(chainDiff(c)) })
	cont("cont-bits", func(c *trace.Continuation) string { return num(c.BitsPerToken, 4) })
	cont("cont-nats", func(c *trace.Continuation) string { return num(c.BitsPerToken*math.Ln2, 4) })
	cont("cont-ppl", func(c *trace.Continuation) string { return num(math.Exp2(c.BitsPerToken), 4) })
	cont("cont-max-token", func(c *trace.Continuation) string { return tokenText(c.Tokens[maxSurprisal(c)]) })
	cont("cont-max-bits", func(c *trace.Continuation) string { return num(c.Scores[maxSurprisal(c)].Surprisal, 3) })
	cont("cont-max-prob", func(c *trace.Continuation) string { return num(c.Scores[maxSurprisal(c)].Prob, 3) })
	runFact("chain-holds", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		if tr.Continuation == nil {
			return false, errors.New("the run scored no continuation")
		}
		return chainDiff(tr.Continuation) < 1e-9, nil
	})
	runFact("cont-ppl-below-vocab", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		if tr.Continuation == nil {
			return false, errors.New("the run scored no continuation")
		}
		return math.Exp2(tr.Continuation.BitsPerToken) < float64(tr.Model.Config.VocabSize), nil
	})
	runValue("first-token", func(e *Env, a *Args, tr *trace.Trace) (string, error) { return tokenText(tr.Tokens[0]), nil })
	tables["chain"] = chainTable
}

// sci writes x with 4 significant digits in scientific notation
// ("3.142e-05").
func sci(x float64) string { return strconv.FormatFloat(x, 'e', 3, 64) }

// product multiplies the continuation's per-token probabilities.
func product(c *trace.Continuation) float64 {
	p := 1.0
	for _, s := range c.Scores {
		p *= s.Prob
	}
	return p
}

// chainDiff is the relative difference between the product of the
// per-token probabilities and the engine's 2^Log2Prob.
func chainDiff(c *trace.Continuation) float64 {
	want := math.Exp2(c.Log2Prob)
	if want == 0 {
		return math.Abs(product(c))
	}
	return math.Abs(product(c)-want) / want
}

// maxSurprisal returns the index of the continuation's most surprising
// token.
func maxSurprisal(c *trace.Continuation) int {
	best := 0
	for i, s := range c.Scores {
		if s.Surprisal > c.Scores[best].Surprisal {
			best = i
		}
	}
	return best
}

// tokenText is a token's display form.
func tokenText(t trace.Token) string {
	if t.Display != "" {
		return t.Display
	}
	return t.Text
}

// chainTable lists the continuation token by token: P(w_i | w_<i), the
// running product, the surprisal and its running sum.
func chainTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	c := tr.Continuation
	if c == nil {
		return nil, errors.New("the run scored no continuation")
	}
	t := &output.Table{
		Caption: e.T("The chain rule, token by token", "链式法则，逐个 token"),
		Header: []string{"i", e.T("token", "token"), "P(w_i | w_<i)", e.T("product so far", "累乘"),
			e.T("surprisal (bits)", "信息量（比特）"), e.T("sum of surprisals", "信息量累加")},
		Align: []string{"right", "left", "right", "right", "right", "right"},
	}
	p, bits := 1.0, 0.0
	for i, s := range c.Scores {
		p *= s.Prob
		bits += s.Surprisal
		t.Rows = append(t.Rows, []string{itoa(s.Position), tokenText(c.Tokens[i]), num(s.Prob, 4), sci(p), num(s.Surprisal, 4), num(bits, 4)})
	}
	t.Rows = append(t.Rows, []string{"", e.T("whole continuation", "整段续写"), "", sci(p), "", num(bits, 4) + " = " + num(-c.Log2Prob, 4) + e.T(" (engine)", "（引擎）")})
	if len(c.Scores) == 0 {
		return nil, fmt.Errorf("the continuation has no tokens")
	}
	return t, nil
}
