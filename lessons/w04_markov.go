package lessons

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

// Lesson 4, not a Markov chain: the transformer beside n-gram models on
// the same tokens, a word far back that changes the prediction, and how
// far back the heads read.
func init() {
	bl := func(name string, f func(tr *trace.Trace, c *ngramCmp) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			c, err := compareNgrams(tr)
			if err != nil {
				return "", err
			}
			return f(tr, c), nil
		})
	}
	bl("bl-tokens", func(tr *trace.Trace, c *ngramCmp) string { return itoa(len(c.pos)) })
	bl("bl-train-tokens", func(tr *trace.Trace, c *ngramCmp) string { return thousands(int64(tr.Baselines.TrainTokens)) })
	bl("bl-corpus", func(tr *trace.Trace, c *ngramCmp) string { return tr.Baselines.Corpus })
	// Surprisals are recorded in bits; the lesson states nats (× ln 2).
	bl("nats-model", func(tr *trace.Trace, c *ngramCmp) string { return num(c.meanModel()*math.Ln2, 3) })
	bl("ppl-model", func(tr *trace.Trace, c *ngramCmp) string { return num(math.Exp2(c.meanModel()), 4) }) // = e^nats
	for k, name := range []string{"bigram", "trigram"} {
		bl("nats-"+name, func(tr *trace.Trace, c *ngramCmp) string { return num(c.mean(k)*math.Ln2, 3) })
		bl("ppl-"+name, func(tr *trace.Trace, c *ngramCmp) string { return num(math.Exp2(c.mean(k)), 4) })
		bl("val-bits-"+name, func(tr *trace.Trace, c *ngramCmp) string { return num(tr.Baselines.Models[k].ValBits, 3) })
		bl("val-nats-"+name, func(tr *trace.Trace, c *ngramCmp) string { return num(tr.Baselines.Models[k].ValBits*math.Ln2, 3) })
	}
	bl("bl-wins", func(tr *trace.Trace, c *ngramCmp) string { return itoa(c.wins()) })
	bl("bl-gain-pos", func(tr *trace.Trace, c *ngramCmp) string { return itoa(c.pos[c.gain()]) })
	bl("bl-gain-token", func(tr *trace.Trace, c *ngramCmp) string { return tokenText(tr.Tokens[c.pos[c.gain()]]) })
	bl("bl-gain-model", func(tr *trace.Trace, c *ngramCmp) string { return num(c.model[c.gain()]*math.Ln2, 3) })
	bl("bl-gain-trigram", func(tr *trace.Trace, c *ngramCmp) string { return num(c.ngram[1][c.gain()]*math.Ln2, 3) })
	bl("bl-peak-pos", func(tr *trace.Trace, c *ngramCmp) string { return itoa(c.pos[c.peak()]) })
	bl("bl-peak-token", func(tr *trace.Trace, c *ngramCmp) string { return tokenText(tr.Tokens[c.pos[c.peak()]]) })
	bl("bl-peak-model", func(tr *trace.Trace, c *ngramCmp) string { return num(c.model[c.peak()]*math.Ln2, 3) })
	bl("bl-peak-bigram", func(tr *trace.Trace, c *ngramCmp) string { return num(c.ngram[0][c.peak()]*math.Ln2, 3) })
	bl("bl-peak-trigram", func(tr *trace.Trace, c *ngramCmp) string { return num(c.ngram[1][c.peak()]*math.Ln2, 3) })
	blFact := func(name string, f func(tr *trace.Trace, c *ngramCmp) bool) {
		runFact(name, func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
			c, err := compareNgrams(tr)
			if err != nil {
				return false, err
			}
			return f(tr, c), nil
		})
	}
	blFact("peak-worst", func(tr *trace.Trace, c *ngramCmp) bool {
		i := c.peak()
		return c.model[i] > c.ngram[0][i] && c.model[i] > c.ngram[1][i]
	})
	blFact("own-corpus", func(tr *trace.Trace, c *ngramCmp) bool { return tr.Baselines.OwnCorpus })
	for fact, where := range map[string]string{"prompt-in-train": trace.PromptInTrain, "prompt-in-val": trace.PromptInValidation, "prompt-in-neither": trace.PromptInNeither} {
		blFact(fact, func(tr *trace.Trace, c *ngramCmp) bool { return tr.Baselines.PromptIn == where })
	}
	blFact("model-beats-trigram", func(tr *trace.Trace, c *ngramCmp) bool { return c.meanModel() < c.mean(1) })
	blFact("model-beats-bigram", func(tr *trace.Trace, c *ngramCmp) bool { return c.meanModel() < c.mean(0) })
	charts["ngram-surprisal"] = ngramChart

	// A word far back: the runs far-paren and far-comma.
	for _, run := range []string{"far-paren", "far-comma"} {
		runValue(run+"-top", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			p, err := farNext(e, run)
			if err != nil {
				return "", err
			}
			return tokenText(trace.Token{Text: p.Top[0].Text, Display: p.Top[0].Display}), nil
		})
		runValue(run+"-top-p", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			p, err := farNext(e, run)
			if err != nil {
				return "", err
			}
			return num(p.Top[0].Prob, 3), nil
		})
	}
	facts["far-differs"] = func(e *Env, a *Args) (bool, error) {
		r, v, err := farPair(e)
		if err != nil {
			return false, err
		}
		return r.Top[0].ID != v.Top[0].ID, nil
	}
	// P(")" next) after each prompt (findings.ContinuationLead), and
	// whether the "(" far back clearly raised it.
	closeP := func(e *Env, run string) (findings.Lead, bool, error) {
		r, err := e.Run(&Args{Named: map[string]string{"run": run}, used: map[string]bool{}})
		if err != nil {
			return findings.Lead{}, false, err
		}
		l, ok := findings.ContinuationLead(r.Trace)
		return l, ok, nil
	}
	for _, run := range []string{"far-paren", "far-comma"} {
		values[run+"-close"] = func(e *Env, a *Args) (string, error) {
			l, _, err := closeP(e, run)
			return probText(l.Whole), err
		}
	}
	closeFact := func(name string, f func(p, c findings.Lead) bool) {
		facts[name] = func(e *Env, a *Args) (bool, error) {
			p, ok1, err := closeP(e, "far-paren")
			if err != nil {
				return false, err
			}
			c, ok2, err := closeP(e, "far-comma")
			return ok1 && ok2 && f(p, c), err
		}
	}
	closeFact("far-close", func(p, c findings.Lead) bool { return true })
	closeFact("far-close-up", func(p, c findings.Lead) bool { return p.Over(c) })
	values["far-close-ratio"] = func(e *Env, a *Args) (string, error) {
		p, _, err := closeP(e, "far-paren")
		if err != nil {
			return "", err
		}
		c, _, err := closeP(e, "far-comma")
		if err != nil || c.Whole <= 0 {
			return "", err
		}
		return num(p.Whole/c.Whole, 3), nil
	}
	values["far-tail"] = func(e *Env, a *Args) (string, error) {
		n, err := farTail(e)
		return itoa(n), err
	}
	facts["far-tail-long"] = func(e *Env, a *Args) (bool, error) {
		n, err := farTail(e)
		return n >= 3, err
	}
	tables["far"] = farTable
	shift := func(name string, f func(sh farShiftT) string) {
		values[name] = func(e *Env, a *Args) (string, error) {
			r, v, err := farPair(e)
			if err != nil {
				return "", err
			}
			return f(farShift(r, v)), nil
		}
	}
	shift("far-shift-token", func(sh farShiftT) string { return sh.display })
	shift("far-shift-paren", func(sh farShiftT) string { return num(sh.red, 3) })
	shift("far-shift-comma", func(sh farShiftT) string { return num(sh.violet, 3) })
	facts["far-shift-visible"] = func(e *Env, a *Args) (bool, error) {
		r, v, err := farPair(e)
		if err != nil {
			return false, err
		}
		sh := farShift(r, v)
		return math.Abs(sh.red-sh.violet) >= FarShiftVisible, nil
	}
	facts["far-top-pieces"] = func(e *Env, a *Args) (bool, error) {
		p, err := farNext(e, "far-paren")
		if err != nil {
			return false, err
		}
		return len(wordPieces(p)) >= 3, nil
	}
	values["far-top-pieces"] = func(e *Env, a *Args) (string, error) {
		p, err := farNext(e, "far-paren")
		if err != nil {
			return "", err
		}
		w := wordPieces(p)
		if len(w) == 0 {
			return "", errors.New("run far-paren: no short candidate among the top five")
		}
		return "“" + strings.Join(w[:min(3, len(w))], "”, “") + "”", nil
	}
	values["far-shift-threshold"] = func(e *Env, a *Args) (string, error) { return num(FarShiftVisible, 2), nil }
	runFact("model-gains", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		c, err := compareNgrams(tr)
		if err != nil {
			return false, err
		}
		g := c.gain()
		return c.model[g] < c.ngram[1][g], nil
	})

	// How far back the heads read.
	runValue("mean-beyond", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		s, ok := findings.MeanBeyond(findings.Heads(tr))
		if !ok {
			return "", errors.New("the run recorded no attention rows long enough")
		}
		return pct(s), nil
	})
	far := func(name string, f func(s findings.HeadStats) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			s, ok := findings.FarthestReader(findings.Heads(tr))
			if !ok {
				return "", errors.New("the run recorded no attention rows long enough")
			}
			return f(s), nil
		})
	}
	far("far-head", func(s findings.HeadStats) string { return headName(s.Layer, s.Head) })
	far("far-head-mean", func(s findings.HeadStats) string { return num(s.Distance.Mean, 3) })
	far("far-head-farthest", func(s findings.HeadStats) string { return itoa(s.Distance.Farthest) })
	runFact("reads-beyond-trigram", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		s, ok := findings.FarthestReader(findings.Heads(tr))
		return ok && s.Distance.Farthest > findings.NearDistance, nil
	})
	charts["attention-distance"] = distanceChart
	charts["attention-mean-distance"] = meanDistanceChart
}

// ngramCmp is the model's and the baselines' surprisal on the same prompt
// tokens: those the model scored with context (positions pos).
type ngramCmp struct {
	pos   []int
	model []float64
	ngram [2][]float64 // bigram, trigram
}

// compareNgrams lines up tr's Scores and Baselines.
func compareNgrams(tr *trace.Trace) (*ngramCmp, error) {
	b := tr.Baselines
	if b == nil || len(b.Models) < 2 {
		return nil, errors.New("the run recorded no n-gram baselines (Measure.Baselines)")
	}
	c := &ngramCmp{}
	for i, s := range tr.Scores {
		if s.NoContext || i == 0 {
			continue
		}
		c.pos = append(c.pos, i)
		c.model = append(c.model, s.Surprisal)
		for k := range 2 {
			c.ngram[k] = append(c.ngram[k], b.Models[k].Surprisal[i])
		}
	}
	if len(c.pos) == 0 {
		return nil, errors.New("the prompt has no scored tokens")
	}
	return c, nil
}

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func (c *ngramCmp) meanModel() float64 { return meanOf(c.model) }
func (c *ngramCmp) mean(k int) float64 { return meanOf(c.ngram[k]) }

// wins counts the tokens where the model's surprisal is below the
// trigram's.
func (c *ngramCmp) wins() int {
	n := 0
	for i := range c.model {
		if c.model[i] < c.ngram[1][i] {
			n++
		}
	}
	return n
}

// gain is the index of the token where the model gains most bits over
// the trigram.
func (c *ngramCmp) gain() int {
	best := 0
	for i := range c.model {
		if c.ngram[1][i]-c.model[i] > c.ngram[1][best]-c.model[best] {
			best = i
		}
	}
	return best
}

// peak returns the index of the token that surprised the transformer most.
func (c *ngramCmp) peak() int {
	best := 0
	for i, v := range c.model {
		if v > c.model[best] {
			best = i
		}
	}
	return best
}

// ngramChart draws the three surprisals token by token.
func ngramChart(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
	c, err := compareNgrams(tr)
	if err != nil {
		return nil, "", err
	}
	cats := make([]string, len(c.pos))
	for i, p := range c.pos {
		cats[i] = itoa(p) + " " + tokenText(tr.Tokens[p])
	}
	nats := func(bits []float64) []float64 {
		out := make([]float64, len(bits))
		for i, b := range bits {
			out[i] = b * math.Ln2
		}
		return out
	}
	ch, err := viz.NewSeriesChart(viz.SeriesChart{ID: "ngram-surprisal",
		Subtitle: e.T("surprisal = −ln P(token | what the model conditions on), nats", "信息量 = −ln P(token | 模型所依据的上文)，单位 nat"),
		XName:    e.T("position and token", "位置与 token"), YName: "nats", Categories: cats, Line: true,
		Series: []viz.Series{
			{Name: e.T("transformer (whole window)", "Transformer（整个窗口）"), Values: nats(c.model), Color: "#3182bd"},
			{Name: tr.Baselines.Models[0].Name, Values: nats(c.ngram[0]), Color: "#e6550d"},
			{Name: tr.Baselines.Models[1].Name, Values: nats(c.ngram[1]), Color: "#31a354"},
		}})
	return ch, e.T("Surprisal of each prompt token: transformer vs n-gram models", "提示词中每个 token 的信息量：Transformer 与 n 元模型"), err
}

// farNext is the prediction after the prompt of run name.
func farNext(e *Env, name string) (*trace.Prediction, error) {
	r, err := e.Run(runArgs(name))
	if err != nil {
		return nil, err
	}
	tr := r.Trace
	if len(tr.Steps) < 2 || tr.Steps[1].Next == nil || len(tr.Steps[1].Next.Top) == 0 {
		return nil, fmt.Errorf("run %s: no prediction after the prompt (Steps: 1)", name)
	}
	return tr.Steps[1].Next, nil
}

func farPair(e *Env) (r, v *trace.Prediction, err error) {
	if r, err = farNext(e, "far-paren"); err != nil {
		return nil, nil, err
	}
	v, err = farNext(e, "far-comma")
	return r, v, err
}

// farTail is how many tokens the prompts of far-paren and far-comma end
// with in common: what a Markov chain of that order or less sees alike.
func farTail(e *Env) (int, error) {
	var ids [2][]int
	for i, name := range []string{"far-paren", "far-comma"} {
		r, err := e.Run(runArgs(name))
		if err != nil {
			return 0, err
		}
		ids[i] = idsOf(r.Trace.Tokens[:r.Trace.PromptLen])
	}
	n := 0
	for n < len(ids[0]) && n < len(ids[1]) && ids[0][len(ids[0])-1-n] == ids[1][len(ids[1])-1-n] {
		n++
	}
	return n, nil
}

func idsOf(ts []trace.Token) []int {
	out := make([]int, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// farTable shows the top five next tokens after each prompt.
func farTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	r, v, err := farPair(e)
	if err != nil {
		return nil, err
	}
	t := &output.Table{
		Caption: e.T("The most likely next tokens after each prompt", "两个提示词之后最可能的下一个 token"),
		Header:  []string{"#", e.T("after “The Rays (…”", "“The Rays (……”之后"), "P", e.T("after “The Rays, …”", "“The Rays, ……”之后"), "P"},
		Align:   []string{"right", "left", "right", "left", "right"},
	}
	for i := range min(5, len(r.Top), len(v.Top)) {
		t.Rows = append(t.Rows, []string{itoa(i + 1), r.Top[i].Display, num(r.Top[i].Prob, 3), v.Top[i].Display, num(v.Top[i].Prob, 3)})
	}
	return t, nil
}

// distanceChart draws, per head, the share of attention beyond the
// previous NearDistance tokens (%); meanDistanceChart the mean distance
// read (tokens): two charts, one unit each.
func distanceChart(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
	cats, beyond, _, err := headDistances(tr)
	if err != nil {
		return nil, "", err
	}
	ch, err := viz.NewSeriesChart(viz.SeriesChart{ID: "attention-distance",
		Subtitle: e.T(fmt.Sprintf("share of each head's attention more than %d tokens back: a trigram sees none of it", findings.NearDistance),
			fmt.Sprintf("每个头落在 %d 个 token 之外的注意力份额：三元模型完全看不到这部分", findings.NearDistance)),
		XName: e.T("head (L = layer, H = head, from 0)", "注意力头（L = 层，H = 头，从 0 数起）"), YName: "%", Categories: cats,
		Series: []viz.Series{
			{Name: e.T("attention beyond the trigram's reach (%)", "超出三元模型范围的注意力（%）"), Values: beyond, Color: "#3182bd"},
		}})
	return ch, e.T("How much of each head's attention a trigram cannot see", "每个注意力头有多少注意力是三元模型看不到的"), err
}

func meanDistanceChart(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
	cats, _, mean, err := headDistances(tr)
	if err != nil {
		return nil, "", err
	}
	ch, err := viz.NewSeriesChart(viz.SeriesChart{ID: "attention-mean-distance",
		Subtitle: e.T("mean distance = Σ p·(q − k) over the keys, averaged over the rows", "平均距离 = 对各个键求 Σ p·(q − k)，再对各行取平均"),
		XName:    e.T("head (L = layer, H = head, from 0)", "注意力头（L = 层，H = 头，从 0 数起）"), YName: e.T("tokens", "token 数"), Categories: cats,
		Series: []viz.Series{
			{Name: e.T("mean distance read (tokens)", "平均读取距离（token）"), Values: mean, Color: "#e6550d"},
		}})
	return ch, e.T("How far back each head reads", "每个注意力头往回读多远"), err
}

// headDistances are, per head with rows long enough, its name, its share
// of attention beyond NearDistance (%) and its mean distance (tokens).
func headDistances(tr *trace.Trace) (cats []string, beyond, mean []float64, err error) {
	for _, s := range findings.Heads(tr) {
		if s.Distance.Rows == 0 {
			continue
		}
		cats = append(cats, headName(s.Layer, s.Head))
		beyond = append(beyond, 100*s.Distance.Beyond)
		mean = append(mean, s.Distance.Mean)
	}
	if len(cats) == 0 {
		return nil, nil, nil, errors.New("the run recorded no attention rows long enough")
	}
	return cats, beyond, mean, nil
}

// headName names head h of layer l as every lesson does: "L1.H3", both
// counted from 0.
func headName(l, h int) string { return fmt.Sprintf("L%d.H%d", l, h) }

// runArgs are the arguments run=name.
func runArgs(name string) *Args {
	return &Args{Named: map[string]string{"run": name}, used: map[string]bool{}}
}

// FarShiftVisible is the change of probability (absolute, 0..1) from which
// lesson 4 says an early word moved the prediction.
const FarShiftVisible = 0.01

// wordPieces are the displays of the top five candidates of p that
// continue a word: no leading-space mark ␣, one or two characters, all
// letters. A short token with ␣ (" is", " be") may be a whole word, so it
// does not count: with a vocabulary of whole words the claim that words
// come in pieces would be false.
func wordPieces(p *trace.Prediction) []string {
	var out []string
	for _, c := range p.Top[:min(5, len(p.Top))] {
		if strings.HasPrefix(c.Display, "␣") {
			continue
		}
		t := strings.TrimSpace(c.Display)
		n := utf8.RuneCountInString(t)
		if n >= 1 && n <= 2 && strings.IndexFunc(t, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
			out = append(out, c.Display)
		}
	}
	return out
}

// farShiftT is the token among both runs' top candidates whose
// probability changed most between the two prompts.
type farShiftT struct {
	display     string
	red, violet float64
}

func farShift(r, v *trace.Prediction) farShiftT {
	pv := map[int]trace.Candidate{}
	for _, c := range v.Top {
		if _, dup := pv[c.ID]; !dup {
			pv[c.ID] = c
		}
	}
	best := farShiftT{display: r.Top[0].Display, red: r.Top[0].Prob, violet: pv[r.Top[0].ID].Prob}
	seen := map[int]bool{}
	for _, c := range r.Top {
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		o, ok := pv[c.ID]
		if ok && math.Abs(c.Prob-o.Prob) > math.Abs(best.red-best.violet) {
			best = farShiftT{display: c.Display, red: c.Prob, violet: o.Prob}
		}
	}
	return best
}
