package lessons

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz"
	"github.com/gptviz/gptviz/viz/viztest"
)

// handMeasures adds made-up measurements of the shapes m asks for to a
// hand-made trace: baselines with surprisals 1, 2, 3… bits (bigram) and
// twice those (trigram); an attribution whose parts sum to its logit; a
// drill of head 0.0 at the last prompt position; cache costs growing
// with the context.
func handMeasures(tr *trace.Trace, m Measure) {
	c := tr.Model.Config
	if m.Baselines {
		b := &trace.Baselines{Corpus: "opticks", OwnCorpus: true, TrainTokens: 1000, ValTokens: 100}
		for k, name := range []string{"Kneser–Ney bigram", "Kneser–Ney trigram"} {
			ns := trace.NgramScores{Name: name, Order: k + 2, Surprisal: make([]float64, tr.PromptLen), ValBits: float64(3 - k)}
			for i := 1; i < tr.PromptLen; i++ {
				ns.Surprisal[i] = float64(i * (k + 1))
			}
			b.Models = append(b.Models, ns)
		}
		tr.Baselines = b
	}
	if m.Inspect {
		a := &trace.Attribution{Position: tr.PromptLen - 1, Token: tr.Tokens[0].ID, Display: "tok", Sigma: 2, Embed: 0.5, LNBias: -0.25,
			Heads: make([][]float64, c.NLayer), AttnBias: make([]float64, c.NLayer), MLP: make([]float64, c.NLayer)}
		for l := range a.Heads {
			a.Heads[l] = make([]float64, c.NHead)
			for h := range a.Heads[l] {
				a.Heads[l][h] = float64(l - h)
			}
			a.MLP[l] = float64(l + 1)
			a.AttnBias[l] = 0.1
		}
		a.Logit = float32(a.Sum())
		tr.Attribution = a
		D := c.DHead()
		l, h, q := DrillTarget(tr)
		d := &trace.Drill{Layer: l, Head: h, Query: q, Masked: tr.PromptLen - 1 - q, Scale: float32(1 / math.Sqrt(float64(D))), Q: make([]float32, D), Output: make([]float32, D)}
		for j := 0; j <= q; j++ {
			k, v := make([]float32, D), make([]float32, D)
			k[0], v[0] = float32(j), 1
			d.Keys, d.Values = append(d.Keys, k), append(d.Values, v)
			d.Dots = append(d.Dots, 0)
			d.Probs = append(d.Probs, 1/float32(q+1))
		}
		d.Output[0] = 1
		tr.Drill = d
	}
	if m.Training {
		t := &trace.Training{Model: "gptviz-default", Config: c, Curve: []trace.LossPoint{
			{Step: 0, ValLoss: 6, TrainLoss: 6}, {Step: 100, Tokens: 1000, ValLoss: 3, TrainLoss: 2.9}, {Step: 200, Tokens: 2000, ValLoss: 2, TrainLoss: 1.8}}}
		t.Baselines = &trace.Baselines{Corpus: "opticks", OwnCorpus: true, Models: []trace.NgramScores{
			{Name: "Kneser–Ney bigram", Order: 2, Surprisal: make([]float64, tr.PromptLen), ValBits: 5},
			{Name: "Kneser–Ney trigram", Order: 3, Surprisal: make([]float64, tr.PromptLen), ValBits: 4}}}
		for _, step := range []int{0, 100, 200} {
			t.Snapshots = append(t.Snapshots, trace.Snapshot{Step: step, Tokens: tr.Tokens[:tr.PromptLen], Scores: tr.Scores, Prefill: tr.Steps[0], Next: tr.Steps[1].Next})
		}
		tr.Training = t
	}
	if m.CacheSteps > 0 {
		cc := &trace.CacheCost{SameTokens: true, MaxLogitDiff: 1e-6}
		for n := tr.PromptLen + 1; n <= min(tr.PromptLen+m.CacheSteps, c.NPositions); n++ {
			cc.Steps = append(cc.Steps, trace.CostStep{Context: n, CachedFLOPs: c.ForwardFLOPs(1, n-1), UncachedFLOPs: c.ForwardFLOPs(n, 0),
				CachedMillis: 1, UncachedMillis: float64(n)})
		}
		tr.CacheCost = cc
	}
}

// renderLesson renders lesson key in lang on runs and returns its text.
func renderLesson(t *testing.T, key, lang string, runs map[string]*Run) string {
	t.Helper()
	l, err := Find(key)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := l.Render(LessonOptions{Lang: lang, Runs: runs})
	if err != nil {
		t.Fatal(err)
	}
	return markdownText(nb)
}

func handLessonRuns() map[string]*Run {
	return handRuns(viztest.Trace(viztest.Options{NLayer: 3, NHead: 4, DHead: 4, NPositions: 64, Prompt: 6, Steps: 5, TopK: 3, Seed: 7}))
}

// TestMarkovFacts: each of lesson 4's statements appears exactly when its
// fact holds, on hand-made runs.
func TestMarkovFacts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(runs map[string]*Run)
		en   string
		want bool
	}{
		{"beats", func(r map[string]*Run) { setSurprisal(r["markov"].Trace, 0.5) }, "Over the whole sentence the transformer beats the trigram.", true},
		{"loses", func(r map[string]*Run) { setSurprisal(r["markov"].Trace, 50) }, "Over the whole sentence the transformer beats the trigram.", false},
		{"loses2", func(r map[string]*Run) { setSurprisal(r["markov"].Trace, 50) }, "Its largest gain was at", false},
		{"own", func(r map[string]*Run) {}, "the comparison is fair", true},
		{"other", func(r map[string]*Run) { r["markov"].Trace.Baselines.OwnCorpus = false }, "the comparison is fair", false},
		// Whether the models were trained on the sentence: said only as
		// the baselines found it (older traces say nothing).
		{"in-train", func(r map[string]*Run) { r["markov"].Trace.Baselines.PromptIn = trace.PromptInTrain }, "the transformer read it in training", true},
		{"in-train-other", func(r map[string]*Run) {
			r["markov"].Trace.Baselines.PromptIn, r["markov"].Trace.Baselines.OwnCorpus = trace.PromptInTrain, false
		}, "(the transformer, trained on other text, did not)", true},
		{"in-val", func(r map[string]*Run) { r["markov"].Trace.Baselines.PromptIn = trace.PromptInValidation }, "is in the validation part, word for word", true},
		{"in-neither", func(r map[string]*Run) { r["markov"].Trace.Baselines.PromptIn = trace.PromptInNeither }, "is in neither part", true},
		{"unknown", func(r map[string]*Run) { r["markov"].Trace.Baselines.PromptIn = "" }, "The sentence below is in", false},
		{"in-val-not-train", func(r map[string]*Run) { r["markov"].Trace.Baselines.PromptIn = trace.PromptInValidation }, "is in the training part", false},
		{"same-top", func(r map[string]*Run) { setTop(r["far-comma"].Trace, r["far-paren"].Trace) }, "A token far back changed the", false},
		{"other-top", func(r map[string]*Run) {
			setTop(r["far-comma"].Trace, r["far-paren"].Trace)
			nx := r["far-comma"].Trace.Steps[1].Next
			nx.Top[0], nx.Top[1] = nx.Top[1], nx.Top[0]
		}, "A token far back changed the", true},
		{"shift", func(r map[string]*Run) {
			setTop(r["far-comma"].Trace, r["far-paren"].Trace)
			r["far-comma"].Trace.Steps[1].Next.Top[0].Prob += 0.2
		}, "For a trigram the two numbers would be equal", true},
		{"no-shift", func(r map[string]*Run) { setTop(r["far-comma"].Trace, r["far-paren"].Trace) }, "For a trigram the two numbers would be equal", false},
		// The heading promises a change only when the change is visible.
		{"heading-shift", func(r map[string]*Run) {
			setTop(r["far-comma"].Trace, r["far-paren"].Trace)
			r["far-comma"].Trace.Steps[1].Next.Top[0].Prob += 0.2
		}, "A token far back changes the prediction", true},
		{"heading-no-shift", func(r map[string]*Run) { setTop(r["far-comma"].Trace, r["far-paren"].Trace) }, "A token far back changes the prediction", false},
		{"heading-question", func(r map[string]*Run) { setTop(r["far-comma"].Trace, r["far-paren"].Trace) }, "Does a token far back change the prediction?", true},
		// Word pieces are explained when the top candidates are pieces that
		// continue a word; short whole words (with ␣) do not count.
		{"pieces", func(r map[string]*Run) { setDisplays(r["far-paren"].Trace, "th", "␣be", "w", "of", ",") }, "not whole words", true},
		{"words", func(r map[string]*Run) { setDisplays(r["far-paren"].Trace, "␣the", "␣been", "␣which", ",", ".") }, "not whole words", false},
		{"short-words", func(r map[string]*Run) { setDisplays(r["far-paren"].Trace, ",", "␣is", ")", "␣in", "␣be") }, "not whole words", false},
		// The ")" after both prompts: said to be raised only when it is.
		{"close-same", func(r map[string]*Run) {}, "did not make a \")\" next clearly more likely", true},
		{"close-same2", func(r map[string]*Run) {}, "times as likely: the model keeps track", false},
		{"close-up", func(r map[string]*Run) { certainNext(r["far-paren"].Trace) }, "made it 2 times as likely: the model keeps track", true},
		{"close-up2", func(r map[string]*Run) { certainNext(r["far-paren"].Trace) }, "did not make a \")\" next clearly more likely", false},
		{"close-none", func(r map[string]*Run) { r["far-comma"].Trace.Continuation = nil }, "itself? The probability", false},
		{"gain-pos", func(r map[string]*Run) { setSurprisal(r["markov"].Trace, 0.5) }, "Its largest gain was at position ", true},
		// The highest peak is named; "worse than both n-grams" only when so.
		{"peak", func(r map[string]*Run) { setSurprisal(r["markov"].Trace, 0.5) }, "The highest peak of the transformer's line is at position ", true},
		{"peak-better", func(r map[string]*Run) { setSurprisal(r["markov"].Trace, 0.5) }, "did worse than both n-grams", false},
		{"peak-worse", func(r map[string]*Run) { setSurprisal(r["markov"].Trace, 50) }, "did worse than both n-grams", true},
	} {
		runs := handLessonRuns()
		tc.edit(runs)
		text := renderLesson(t, "markov", "en", runs)
		if got := strings.Contains(text, tc.en); got != tc.want {
			t.Errorf("%s: %q present %v, want %v", tc.name, tc.en, got, tc.want)
		}
	}
}

// setDisplays gives the first candidates after tr's prompt the displays
// ds.
func setDisplays(tr *trace.Trace, ds ...string) {
	tr.Steps = slices.Clone(tr.Steps)
	nx := *tr.Steps[1].Next
	nx.Top = slices.Clone(nx.Top)
	for i, d := range ds[:min(len(ds), len(nx.Top))] {
		nx.Top[i].Display = d
	}
	tr.Steps[1].Next = &nx
}

// setSurprisal gives every scored prompt token s bits.
func setSurprisal(tr *trace.Trace, s float64) {
	tr.Scores = slices.Clone(tr.Scores)
	for i := range tr.Scores {
		if !tr.Scores[i].NoContext {
			tr.Scores[i].Surprisal, tr.Scores[i].Prob = s, math.Exp2(-s)
		}
	}
}

// setTop gives dst's first prediction a copy of src's.
func setTop(dst, src *trace.Trace) {
	dst.Steps = slices.Clone(dst.Steps)
	nx := *src.Steps[1].Next
	nx.Top = slices.Clone(nx.Top)
	dst.Steps[1].Next = &nx
}

// TestMarkovRealRun: on the default model, lesson 4's numbers are those
// of the run: the table's mean surprisals are the model's Scores and the
// baselines' on the same tokens in nats, its perplexities 2^(mean bits)
// = e^(mean nats).
func TestMarkovRealRun(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]*Run{}
	for _, name := range []string{"markov", "far-paren", "far-comma"} {
		s := runSpecs[name]
		tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: s.Prompt, Steps: s.Steps, Sampling: model.SamplingParams{TopP: 1}, Seed: s.Seed,
			Trace: model.TraceOptions{MaxAttention: 256, MaxQueries: 256}})
		if err != nil {
			t.Fatal(err)
		}
		if s.Measure().Baselines {
			if err := model.Baselines(m, tr, true); err != nil {
				t.Fatal(err)
			}
		}
		runs[name] = &Run{Trace: tr, Command: "gptviz report"}
	}
	tr := runs["markov"].Trace
	var sm, s3 float64
	n := 0
	for i := 1; i < tr.PromptLen; i++ {
		sm += tr.Scores[i].Surprisal
		s3 += tr.Baselines.Models[1].Surprisal[i]
		n++
	}
	text := renderLesson(t, "markov", "en", runs)
	for _, want := range []string{
		"| transformer | " + escMD(num(sm/float64(n)*math.Ln2, 3)) + " | " + escMD(num(math.Exp2(sm/float64(n)), 4)) + " |",
		"| trigram | " + escMD(num(s3/float64(n)*math.Ln2, 3)) + " | " + escMD(num(math.Exp2(s3/float64(n)), 4)) + " |",
		"the comparison is fair",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("lesson 4 lacks %q", want)
		}
	}
	if sm >= s3 {
		t.Errorf("the default model (%.3f bits) does not beat the trigram (%.3f) on its own text", sm/float64(n), s3/float64(n))
	}
}

// escMD escapes a number as the lesson's markdown does.
func escMD(s string) string { return strings.ReplaceAll(s, ".", "\\.") }

// TestCacheFacts: lesson 7's statements appear exactly when their facts
// hold, on hand-made runs.
func TestCacheFacts(t *testing.T) {
	t.Parallel()
	cost := func(r map[string]*Run) *trace.CacheCost {
		cc := *r["cache"].Trace.CacheCost
		cc.Steps = slices.Clone(cc.Steps)
		r["cache"].Trace.CacheCost = &cc
		return &cc
	}
	for _, tc := range []struct {
		name string
		edit func(runs map[string]*Run)
		en   string
		want bool
	}{
		{"equal", func(r map[string]*Run) {}, "The cache changes the cost, not", true},
		{"differs", func(r map[string]*Run) { cost(r).MaxLogitDiff = 0.5 }, "The cache changes the cost, not", false},
		{"other-token", func(r map[string]*Run) { cost(r).SameTokens = false }, "a difference this large is a bug", true},
		{"faster", func(r map[string]*Run) {}, "Recomputing was", true},
		{"slower", func(r map[string]*Run) {
			cc := cost(r)
			for i := range cc.Steps {
				cc.Steps[i].CachedMillis = 1000
			}
		}, "Here the cache was not faster", true},
		// Time saved below work saved is explained only when a cached FLOP
		// ran slower than an uncached one.
		{"slower-per-flop", func(r map[string]*Run) {
			cc := cost(r)
			for i := range cc.Steps {
				cc.Steps[i].CachedMillis, cc.Steps[i].UncachedMillis, cc.Steps[i].UncachedFLOPs = 1, 10, 30*cc.Steps[i].CachedFLOPs
			}
		}, "because a\ncached FLOP is slower here", true},
		{"same-per-flop", func(r map[string]*Run) {
			cc := cost(r)
			for i := range cc.Steps {
				cc.Steps[i].CachedMillis, cc.Steps[i].UncachedMillis, cc.Steps[i].UncachedFLOPs = 1, 8, 8*cc.Steps[i].CachedFLOPs
			}
		}, "because a\ncached FLOP is slower here", false},
		{"cleared", func(r map[string]*Run) {
			tr := *r["cache"].Trace
			r["cache"] = &Run{Trace: &tr, Command: r["cache"].Command}
			cost(r)
			tr.ClearTimings()
		}, "The times, measured on this machine", false},
	} {
		runs := handLessonRuns()
		tc.edit(runs)
		text := renderLesson(t, "kv-cache", "en", runs)
		if got := strings.Contains(text, tc.en); got != tc.want {
			t.Errorf("%s: %q present %v, want %v", tc.name, tc.en, got, tc.want)
		}
	}
}

// TestAttentionFacts: lesson 6's statements appear exactly when their
// facts hold, on hand-made runs.
func TestAttentionFacts(t *testing.T) {
	t.Parallel()
	drill := func(r map[string]*Run) *trace.Drill {
		tr := *r["drill"].Trace
		d := *tr.Drill
		tr.Drill = &d
		r["drill"] = &Run{Trace: &tr, Command: r["drill"].Command}
		return &d
	}
	attr := func(r map[string]*Run) *trace.Attribution {
		tr := *r["drill"].Trace
		a := *tr.Attribution
		tr.Attribution = &a
		r["drill"] = &Run{Trace: &tr, Command: r["drill"].Command}
		return &a
	}
	prev := func(r map[string]*Run, p float32) {
		tr := *r["drill"].Trace
		tr.Steps = slices.Clone(tr.Steps)
		for si := range tr.Steps {
			st := &tr.Steps[si]
			st.Attention = slices.Clone(st.Attention)
			for l := range st.Attention {
				la := &st.Attention[l]
				la.Probs = slices.Clone(la.Probs)
				for h := range la.Probs {
					la.Probs[h] = slices.Clone(la.Probs[h])
					for q := range la.Probs[h] {
						row := make([]float32, len(la.Probs[h][q]))
						qk := st.QueryStart + q - st.WindowStart
						if qk == 0 {
							row[0] = 1
						} else {
							for k := 0; k <= qk && k < len(row); k++ {
								row[k] = (1 - p) / float32(qk)
							}
							row[qk-1] = p
							row[qk] = (1 - p) / float32(qk)
						}
						la.Probs[h][q] = row
					}
				}
			}
		}
		r["drill"] = &Run{Trace: &tr, Command: r["drill"].Command}
	}
	// heads sets layer 0's head attributions to first and every other head's
	// to 1, with no final LayerNorm bias, and the logit to their sum.
	heads := func(first []float64) func(r map[string]*Run) {
		return func(r map[string]*Run) {
			a := attr(r)
			a.Heads = [][]float64{first, {1, 1, 1, 1}, {1, 1, 1, 1}}
			a.LNBias = 0
			a.Logit = float32(a.Sum())
		}
	}
	for _, tc := range []struct {
		name string
		edit func(runs map[string]*Run)
		en   string
		want bool
	}{
		{"checks", func(r map[string]*Run) {}, "the table is the whole", true},
		{"bad-output", func(r map[string]*Run) { d := drill(r); d.Output = slices.Clone(d.Output); d.Output[0] += 1 }, "the table is the whole", false},
		{"masks", func(r map[string]*Run) {}, "causal mask (因果掩码) does it: it hides the", true},
		{"no-mask", func(r map[string]*Run) { drill(r).Masked = 0 }, "causal mask (因果掩码) does it: it hides the", false},
		{"prefill", func(r map[string]*Run) {}, "so it belongs to the **prefill**", true},
		{"no-prefill", func(r map[string]*Run) { drill(r).Masked = 0 }, "so it belongs to the **prefill**", false},
		{"sums", func(r map[string]*Run) {}, "the logit.", true},
		{"no-sum", func(r map[string]*Run) { attr(r).Logit += 5 }, "recording is inconsistent", true},
		{"negative", heads([]float64{9, -2, 1, 1}), "pushed it down most", true},
		{"positive", heads([]float64{1, 1, 1, 1}), "pushed it down most", false},
		{"top-negative", heads([]float64{-9, 1, 1, 1}), "pushes the token *down*", true},
		{"top-negative-once", heads([]float64{-9, 1, 1, 1}), "pushed it down most", false},
		{"top-positive", heads([]float64{9, -2, 1, 1}), "pushing the token up", true},
		{"hand-run", func(r map[string]*Run) {}, "pushes the token *down*", true},
		{"prev-head", func(r map[string]*Run) { prev(r, 0.9) }, "That is above the", true},
		{"chance", func(r map[string]*Run) { prev(r, 0) }, "at chance level", true},
		{"not-chance", func(r map[string]*Run) { prev(r, 0.9) }, "at chance level", false},
		{"no-prev-head", func(r map[string]*Run) { prev(r, 0.1) }, "That is above the", false},
		{"no-prev-head2", func(r map[string]*Run) { prev(r, 0.1) }, "no\nhead here is a clear previous-token head", true},
	} {
		runs := handLessonRuns()
		tc.edit(runs)
		text := renderLesson(t, "attention", "en", runs)
		if got := strings.Contains(text, tc.en); got != tc.want {
			t.Errorf("%s: %q present %v, want %v", tc.name, tc.en, got, tc.want)
		}
	}
}

// TestWindowFacts: lesson 10 says the window overflowed, and that the
// turn with the name was gone before the answer, exactly when the run's
// evictions say so; the turns table maps each line to its tokens.
func TestWindowFacts(t *testing.T) {
	t.Parallel()
	evict := func(r map[string]*Run, upTo, step int) {
		tr := *r["dialogue"].Trace
		// One token per line, the last holding the rest.
		tr.Tokens = slices.Clone(tr.Tokens)
		lines := strings.SplitAfter(tr.Prompt, "\n")
		for i := range tr.PromptLen {
			text := lines[i]
			if i == tr.PromptLen-1 {
				text = strings.Join(lines[i:], "")
			}
			tr.Tokens[i].Text = text
		}
		tr.Evictions = nil
		for p := 0; p < upTo; p++ {
			tr.Evictions = append(tr.Evictions, trace.Eviction{Step: step, Position: p, ID: tr.Tokens[p].ID})
		}
		r["dialogue"] = &Run{Trace: &tr, Command: r["dialogue"].Command}
	}
	for _, tc := range []struct {
		name string
		edit func(runs map[string]*Run)
		en   string
		want bool
	}{
		{"fits", func(r map[string]*Run) { evict(r, 0, 0) }, "The whole dialogue fits", true},
		{"fits-name", func(r map[string]*Run) { evict(r, 0, 0) }, "is still in the window", true},
		{"gone-before", func(r map[string]*Run) { evict(r, 3, 0) }, "had already left the window", true},
		{"gone-before2", func(r map[string]*Run) { evict(r, 3, 0) }, "The prompt alone was longer than the window", true},
		{"gone-later", func(r map[string]*Run) { evict(r, 3, 2) }, "left the window during generation", true},
		{"gone-later2", func(r map[string]*Run) { evict(r, 3, 2) }, "The prompt alone was longer than the window", false},
		{"second", func(r map[string]*Run) { evict(r, 2, 0) }, "had already left the window", true},
		// The policy paragraph follows the run's policy and its numbers.
		{"slide", func(r map[string]*Run) { evict(r, 3, 2) }, "This run used **exact sliding**", true},
		{"slide-not-block", func(r map[string]*Run) { evict(r, 3, 2) }, "This run used **block eviction**", false},
		{"block", func(r map[string]*Run) { evict(r, 3, 2); r["dialogue"].Trace.Settings.Overflow = trace.OverflowBlock }, "This run used **block eviction**", true},
		{"block-count", func(r map[string]*Run) { evict(r, 3, 2); r["dialogue"].Trace.Settings.Overflow = trace.OverflowBlock },
			"found the window full once, at step\n2.", true},
		{"block-sum", func(r map[string]*Run) { evict(r, 3, 2); r["dialogue"].Trace.Settings.Overflow = trace.OverflowBlock }, "dropped\nbefore the first step plus", false},
		{"no-policy", func(r map[string]*Run) { evict(r, 3, 0) }, "This run used", false},
		// The control: the whole name clearly more likely with it in view.
		{"control-same", func(r map[string]*Run) { nameOutOfView(r) }, "hardly more likely", true},
		{"control-in-view", func(r map[string]*Run) {}, "Here the name is still in view in the long dialogue too", true},
		{"control-in-view2", func(r map[string]*Run) {}, "hardly more likely", false},
		{"control-out-of-view", func(r map[string]*Run) { nameOutOfView(r) }, "Here the name is still in view", false},
		{"control-same2", func(r map[string]*Run) { nameOutOfView(r) }, "times as likely as after the eviction", false},
		{"control-over", func(r map[string]*Run) { nameOutOfView(r); nameMoreLikely(r["dialogue-control"].Trace) }, "4 times as likely as after the eviction", true},
		{"control-over2", func(r map[string]*Run) { nameOutOfView(r); nameMoreLikely(r["dialogue-control"].Trace) }, "hardly more likely", false},
		{"control-none", func(r map[string]*Run) { r["dialogue-control"].Trace.Continuation = nil }, "hardly more likely", false},
		{"control-not-top", func(r map[string]*Run) {
			nameOutOfView(r)
			tr := r["dialogue-control"].Trace
			topAfterPrompt(tr, (tr.Continuation.Tokens[0].ID+1)%tr.Model.Config.VocabSize)
		}, "Even in the control the name is not", true},
		{"control-top", func(r map[string]*Run) {
			nameOutOfView(r)
			tr := r["dialogue-control"].Trace
			topAfterPrompt(tr, tr.Continuation.Tokens[0].ID)
		}, "Even in the control the name is not", false},
	} {
		runs := handLessonRuns()
		tc.edit(runs)
		text := renderLesson(t, "window-full", "en", runs)
		if got := strings.Contains(text, tc.en); got != tc.want {
			t.Errorf("%s: %q present %v, want %v", tc.name, tc.en, got, tc.want)
		}
	}
	// turns on a hand-made tokenization: "ab\ncd\n" as a, b\n, c, d\n.
	tr := &trace.Trace{Prompt: "ab\ncd\n", PromptLen: 4, Tokens: []trace.Token{{Text: "a"}, {Text: "b\n"}, {Text: "c"}, {Text: "d\n"}},
		Evictions: []trace.Eviction{{Step: 0, Position: 0}, {Step: 1, Position: 1}, {Step: 1, Position: 2}}}
	ts, err := turns(tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].from != 0 || ts[0].to != 2 || ts[0].goneAt != 1 || ts[0].firstGone != 0 || ts[1].from != 2 || ts[1].to != 4 ||
		ts[1].goneAt != -1 || !ts[1].partly || ts[1].evicted != 1 || ts[1].firstGone != 1 {
		t.Errorf("turns: %+v", ts)
	}
	// The status column: a turn split between the prefill and a step says
	// so (it is not "evicted at step 1").
	e := &Env{Lang: "en"}
	for _, tc := range []struct {
		tn   turn
		want string
	}{
		{turn{from: 0, to: 3, goneAt: -1, firstGone: -1}, "in the window"},
		{turn{from: 0, to: 3, goneAt: 0, firstGone: 0, evicted: 3}, "evicted before the prefill (step 0)"},
		{turn{from: 0, to: 3, goneAt: 2, firstGone: 2, evicted: 3}, "evicted at step 2"},
		{ts[0], "partly evicted before the prefill (step 0), the rest at step 1"},
		{ts[1], "1 of 2 tokens evicted at step 1, the rest in the window"},
	} {
		if got := turnStatus(e, tc.tn); got != tc.want {
			t.Errorf("turnStatus(%+v) = %q, want %q", tc.tn, got, tc.want)
		}
	}
	if got := namePositions(&trace.Trace{Prompt: "My Isaac, Isaac", PromptLen: 4, Tokens: []trace.Token{{Text: "My "}, {Text: "Isa"}, {Text: "ac, "}, {Text: "Isaac"}}}); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("namePositions = %v", got)
	}
}

// nameOutOfView makes the dialogue's prompt one token per line (the last
// holding the rest) and its answer scored with one token of context, so
// that the name, in the first two lines, is out of view.
func nameOutOfView(r map[string]*Run) {
	tr := r["dialogue"].Trace
	tr.Tokens = slices.Clone(tr.Tokens)
	lines := strings.SplitAfter(tr.Prompt, "\n")
	for i := range tr.PromptLen {
		tr.Tokens[i].Text = lines[i]
		if i == tr.PromptLen-1 {
			tr.Tokens[i].Text = strings.Join(lines[i:], "")
		}
	}
	c := *tr.Continuation
	c.Scores = slices.Clone(c.Scores)
	c.Scores[0].Context = 1
	tr.Continuation = &c
}

// topAfterPrompt sets the top candidate of the prediction after the
// prompt to id, on copies of the steps.
func topAfterPrompt(tr *trace.Trace, id int) {
	tr.Steps = slices.Clone(tr.Steps)
	for i, st := range tr.Steps {
		if st.Next != nil && st.Next.Position == tr.PromptLen-1 {
			nx := *st.Next
			nx.Top = slices.Clone(nx.Top)
			nx.Top[0].ID = id
			tr.Steps[i].Next = &nx
			return
		}
	}
	panic("no prediction after the prompt")
}

// nameMoreLikely makes a hand-made run's continuation 4 times as likely:
// its last token's probability ×4.
func nameMoreLikely(tr *trace.Trace) {
	c := tr.Continuation
	sc := &c.Scores[len(c.Scores)-1]
	sc.Prob *= 4
	sc.Surprisal -= 2
	c.Log2Prob += 2
	c.BitsPerToken = -c.Log2Prob / float64(len(c.Tokens))
}

// longTraining replaces the training run by one whose prompt has 12
// tokens, enough rows for head scores (findings.MinKeys, MinRows).
// Every head spreads its attention evenly over the keys it sees, so that
// no head starts as a first-token head.
func longTraining(r map[string]*Run) {
	run := handRuns(viztest.Trace(viztest.Options{NLayer: 3, NHead: 4, DHead: 4, NPositions: 64, Prompt: 12, Steps: 5, TopK: 3, Seed: 7}))["training"]
	t := *run.Trace.Training
	t.Snapshots = slices.Clone(t.Snapshots)
	for i := range t.Snapshots {
		st := t.Snapshots[i].Prefill
		st.Attention = slices.Clone(st.Attention)
		for l := range st.Attention {
			la := st.Attention[l]
			la.Probs = make([][][]float32, len(st.Attention[l].Probs))
			for h, rows := range st.Attention[l].Probs {
				la.Probs[h] = make([][]float32, len(rows))
				for q, row := range rows {
					qk := st.QueryStart + q - st.WindowStart
					la.Probs[h][q] = make([]float32, len(row))
					for k := 0; k <= qk && k < len(row); k++ {
						la.Probs[h][q][k] = 1 / float32(qk+1)
					}
				}
			}
			st.Attention[l] = la
		}
		t.Snapshots[i].Prefill = st
	}
	tr := *run.Trace
	tr.Training = &t
	r["training"] = &Run{Trace: &tr, Command: run.Command}
}

// sinkAt makes head 0.0 of snapshot i put all its attention on the
// window's first token (a copy: the snapshots share their steps).
func sinkAt(t *trace.Training, i int) {
	st := t.Snapshots[i].Prefill
	st.Attention = slices.Clone(st.Attention)
	la := st.Attention[0]
	la.Probs = slices.Clone(la.Probs)
	rows := make([][]float32, len(la.Probs[0]))
	for q, r := range la.Probs[0] {
		rows[q] = make([]float32, len(r))
		rows[q][0] = 1
	}
	la.Probs[0] = rows
	st.Attention[0] = la
	t.Snapshots[i].Prefill = st
}

// certainNext makes a hand-made run's one-token continuation certain.
func certainNext(tr *trace.Trace) {
	c := *tr.Continuation
	c.Scores = slices.Clone(c.Scores)
	c.Scores[0].Prob, c.Scores[0].Surprisal, c.Log2Prob, c.BitsPerToken = 1, 0, 0, 0
	tr.Continuation = &c
}

// TestTrainingFacts: lesson 11's statements appear exactly when their
// facts hold, on hand-made runs.
func TestTrainingFacts(t *testing.T) {
	t.Parallel()
	tedit := func(r map[string]*Run, f func(t *trace.Training)) {
		tr := *r["training"].Trace
		tt := *tr.Training
		tt.Curve = slices.Clone(tt.Curve)
		tt.Snapshots = slices.Clone(tt.Snapshots)
		f(&tt)
		tr.Training = &tt
		r["training"] = &Run{Trace: &tr, Command: r["training"].Command}
	}
	for _, tc := range []struct {
		name string
		edit func(runs map[string]*Run)
		en   string
		want bool
	}{
		{"beats", func(r map[string]*Run) {}, "first beat the trigram at step 200", true},
		{"never", func(r map[string]*Run) { tedit(r, func(t *trace.Training) { t.Curve[2].ValLoss = 4 }) }, "never beat the trigram", true},
		{"overfits", func(r map[string]*Run) {}, "overfitting", true},
		{"no-overfit", func(r map[string]*Run) { tedit(r, func(t *trace.Training) { t.Curve[2].TrainLoss = 2 }) }, "overfitting", false},
		{"same-model", func(r map[string]*Run) { r["training"].Trace.Model.Name = "gptviz-default" }, "It is also the model the run below used.", true},
		{"other-model", func(r map[string]*Run) {}, "its training history is not available", true},
		{"no-improve", func(r map[string]*Run) {}, "did not fall", true},
		// Units and sizes.
		{"nats", func(r map[string]*Run) {}, "nats per token on\nthe same validation text", true},
		{"passes-unknown", func(r map[string]*Run) {}, "passes over it", false},
		{"passes", func(r map[string]*Run) { tedit(r, func(t *trace.Training) { t.TrainTokens = 500 }) }, "about 4 passes over it", true},
		// The baselines learn from another text (each paragraph once): its
		// size says nothing of the model's passes.
		{"passes-not-baselines", func(r map[string]*Run) {
			tedit(r, func(t *trace.Training) { b := *t.Baselines; b.TrainTokens = 500; t.Baselines = &b })
		}, "passes over it", false},
		{"worse-than-uniform", func(r map[string]*Run) {
			tedit(r, func(t *trace.Training) { t.Curve[0].ValLoss = math.Log(float64(t.Config.VocabSize)) + 0.1 })
		}, "a little worse than that uniform guess", true},
		{"better-than-uniform", func(r map[string]*Run) {
			tedit(r, func(t *trace.Training) { t.Curve[0].ValLoss = math.Log(float64(t.Config.VocabSize)) - 0.1 })
		}, "a little worse than that uniform guess", false},
		// The first-token head: said to fade only when it peaked in the
		// middle and fell below half; said to form only when it ends high.
		{"sink-flat", func(r map[string]*Run) { longTraining(r) }, "The first-token head does something else", false},
		{"sink-flat2", func(r map[string]*Run) { longTraining(r) }, "A first-token head formed during training", false},
		{"sink-fades", func(r map[string]*Run) { longTraining(r); tedit(r, func(t *trace.Training) { sinkAt(t, 1) }) }, "a peak of 100% at step\n100", true},
		{"sink-fades2", func(r map[string]*Run) { longTraining(r); tedit(r, func(t *trace.Training) { sinkAt(t, 1) }) }, "A first-token head formed during training", false},
		{"sink-forms", func(r map[string]*Run) { longTraining(r); tedit(r, func(t *trace.Training) { sinkAt(t, 2) }) }, "A first-token head formed during training", true},
		{"sink-forms2", func(r map[string]*Run) { longTraining(r); tedit(r, func(t *trace.Training) { sinkAt(t, 2) }) }, "The first-token head does something else", false},
		// A warm restart of the learning rate, and the loss after it; the
		// warm-up's rise is none.
		{"no-restart", func(r map[string]*Run) {}, "warm restart", false},
		{"warmup-not-restart", func(r map[string]*Run) { restartCurve(r, 1.9, 0, 1e-4, 1e-3, 5e-4, 2e-4) }, "warm restart", false},
		{"restart", func(r map[string]*Run) { restartCurve(r, 1.9) }, "it had fallen\nfrom 0\\.001 at step 100 to 0\\.0001 at step\n200, and at step 300 it was back up\nat 0\\.0005", true},
		{"restart-recovers", func(r map[string]*Run) { restartCurve(r, 1.9) }, "went up from 2 to\n2\\.5 (the bump in the curve) and was below\n2 again by step 400.", true},
		{"restart-stays-up", func(r map[string]*Run) { restartCurve(r, 2.2) }, "never got back below\n2.", true},
		{"restart-stays-up2", func(r map[string]*Run) { restartCurve(r, 2.2) }, "again by step", false},
		{"restart-no-rise", func(r map[string]*Run) {
			restartCurve(r, 1.9)
			tedit(r, func(t *trace.Training) { t.Curve[3].ValLoss = 1.95 })
		}, "The validation loss did not go up: 2 before,\n1\\.95 after.", true},
		// Later restarts: one more is described; several are counted.
		{"restart-once", func(r map[string]*Run) { restartCurve(r, 1.9) }, "restarted once more", false},
		{"restart-twice", func(r map[string]*Run) { restartCurve(r, 1.9, 0, 1e-3, 1e-4, 5e-4, 2e-4, 3e-4) }, "The rate was restarted once more: from 0\\.0002 at step\n400 to 0\\.0003 at step\n500, and the validation loss went from\n1\\.9 to 1\\.95.", true},
		{"restart-twice-not-many", func(r map[string]*Run) { restartCurve(r, 1.9, 0, 1e-3, 1e-4, 5e-4, 2e-4, 3e-4) }, "times in all", false},
		{"restart-many", func(r map[string]*Run) { restartCurve(r, 1.9, 0, 1e-3, 1e-4, 5e-4, 2e-4, 3e-4, 1e-4, 2e-4) }, "The rate was restarted 3 times in all; the last time from\n0\\.0001 at step 600 to\n0\\.0002 at step 700", true},
		// Behind the trigram (2.773 here) again after beating it at step
		// 200: ahead again later, or not.
		{"lapse-none", func(r map[string]*Run) { restartCurve(r, 1.9) }, "fell behind the trigram again", false},
		{"lapse-regained", func(r map[string]*Run) {
			restartCurve(r, 1.9)
			tedit(r, func(t *trace.Training) { t.Curve[3].ValLoss = 3 })
		}, "It fell behind the trigram again at step 300\n(3 nats per token) and was ahead of it again at step\n400.", true},
		{"lapse-stays", func(r map[string]*Run) {
			restartCurve(r, 3)
			tedit(r, func(t *trace.Training) { t.Curve[3].ValLoss = 2.9 })
		}, "It fell behind the trigram again at step 300\n(2\\.9 nats per token) and did not get ahead of it again.", true},
		{"improves", func(r map[string]*Run) {
			tedit(r, func(t *trace.Training) {
				sc := slices.Clone(t.Snapshots[2].Scores)
				for i := range sc {
					sc[i].Surprisal /= 2
				}
				t.Snapshots[2].Scores = sc
			})
		}, "mean surprisal fell from", true},
	} {
		runs := handLessonRuns()
		tr := *runs["training"].Trace
		runs["training"] = &Run{Trace: &tr, Command: runs["training"].Command}
		tc.edit(runs)
		text := renderLesson(t, "training", "en", runs)
		if got := strings.Contains(text, tc.en); got != tc.want {
			t.Errorf("%s: %q present %v, want %v", tc.name, tc.en, got, tc.want)
		}
	}
}

// TestSnapshotsTableValLoss: a snapshot taken between two evaluations (the
// default model's steps 100 and 500, evaluated every 2,000) has no
// validation loss of its own; the table says so instead of repeating the
// last evaluation's.
func TestSnapshotsTableValLoss(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		curveAt1 int // step of the curve's second evaluation
		want     []string
	}{
		{"evaluated", 100, []string{"6", "3", "2"}},
		{"between", 150, []string{"6", "not evaluated", "2"}},
	} {
		runs := handLessonRuns()
		tr := *runs["training"].Trace
		tt := *tr.Training
		tt.Curve = slices.Clone(tt.Curve)
		tt.Curve[1].Step = c.curveAt1
		tr.Training = &tt
		tab, err := snapshotsTable(&Env{Lang: "en"}, nil, &tr)
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range tab.Rows {
			if row[1] != c.want[i] {
				t.Errorf("%s: step %s validation loss %q, want %q", c.name, row[0], row[1], c.want[i])
			}
		}
	}
}

// TestCacheCostSplit: lesson 7's split of an uncached step is exact: what
// is left after attnFLOPs is linear in the window (the weight products),
// and the page states the totals summed from the run's steps.
func TestCacheCostSplit(t *testing.T) {
	t.Parallel()
	for _, c := range arch.GPT2Sizes {
		rest := func(n int) int64 { return c.ForwardFLOPs(n, 0) - attnFLOPs(c, n) }
		step := rest(2) - rest(1)
		for n := 2; n < 300; n += 37 {
			if d := rest(n+1) - rest(n); d != step {
				t.Fatalf("n_embd %d: rest grows by %d at n=%d, %d at n=1: not linear", c.NEmbd, d, n, step)
			}
		}
	}
	runs := handLessonRuns()
	cc := runs["cache"].Trace.CacheCost
	var cached, uncached int64
	for _, s := range cc.Steps {
		cached += s.CachedFLOPs
		uncached += s.UncachedFLOPs
	}
	text := renderLesson(t, "kv-cache", "en", runs)
	for _, want := range []string{thousands(cached), thousands(uncached)} {
		if want = strings.ReplaceAll(want, ",", "\\,"); !strings.Contains(text, want) {
			t.Errorf("lesson 7 does not state %q", want)
		}
	}
	if strings.Contains(text, "cost grows with the square of the window") {
		t.Error("lesson 7 still says the per-step cost grows with the square of the window")
	}
	// The hand-made run's uncached steps grow far less than its window
	// and its attention part is under CostAttnSmall: the page says so.
	for want, ok := range map[string]bool{"about in proportion to the window": false, "less than in\nproportion": true, "almost straight": false} {
		if strings.Contains(text, want) != ok {
			t.Errorf("lesson 7: %q present %v, want %v", want, !ok, ok)
		}
	}
	// The chart's y axis is logarithmic, so the page compares the growth
	// with the square of the window's in numbers, not by a line's shape.
	w := float64(cc.Steps[len(cc.Steps)-1].Context) / float64(cc.Steps[0].Context)
	if want := "not the " + strings.ReplaceAll(num(w*w, 3), ".", "\\.") + " times"; !strings.Contains(strings.ReplaceAll(text, "\n", " "), want) {
		t.Errorf("lesson 7 does not compare the uncached growth with the window's square: no %q", want)
	}
}

// TestTokensFacts: lesson 2 compares the mean surprisal with a uniform
// guess over the vocabulary, and says the chart's bars are too short to
// see, exactly when the run's numbers say so.
func TestTokensFacts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		bits float64
		en   string
		want bool
	}{
		{"worse", 50, "worse than guessing", true},
		{"better", 0.5, "worse than guessing", false},
		{"tiny", 50, "too\nshort to see", true},
		{"visible", 0.5, "too\nshort to see", false},
		{"perplexity", 0.5, "gives the *perplexity*", true},
		{"non-hanzi", 0.5, "The characters that are not Chinese are “G”\\, “P”\\, “T”\\, “。”.", true},
	} {
		runs := handLessonRuns()
		setSurprisal(runs["tokens-zh"].Trace, tc.bits)
		text := renderLesson(t, "tokens", "en", runs)
		if got := strings.Contains(text, tc.en); got != tc.want {
			t.Errorf("%s: %q present %v, want %v", tc.name, tc.en, got, tc.want)
		}
	}
}

// TestProbabilityTwoPerplexities: lesson 3 names the prompt's perplexity
// (the chart's subtitle) and the continuation's, each with its value.
func TestProbabilityTwoPerplexities(t *testing.T) {
	t.Parallel()
	runs := handLessonRuns()
	text := renderLesson(t, "probability", "en", runs)
	ppl, n := viz.Perplexity(runs["chain"].Trace.Scores)
	want := "over those " + itoa(n) + " scored tokens, " + escMD(num(ppl, 4))
	if !strings.Contains(text, want) || !strings.Contains(text, "This is the continuation's perplexity; the chart\nabove gave the prompt's, "+escMD(num(ppl, 4))) {
		t.Errorf("lesson 3 does not name the prompt's perplexity %q beside the continuation's", want)
	}
}

// TestLoopChosenFell: lesson 9 explains a chosen token that lost
// probability to the filters only when one did, by the temperature the
// run used.
func TestLoopChosenFell(t *testing.T) {
	t.Parallel()
	set := func(tr *trace.Trace, temp float64, fell bool) {
		tr.Settings.Temperature = temp
		tr.Steps = slices.Clone(tr.Steps)
		for i := range tr.Steps {
			if p := tr.Steps[i].Next; p != nil {
				c := *p
				c.Greedy = false
				c.Chosen.SampleProb = min(1, c.Chosen.Prob*1.5)
				if fell {
					c.Chosen.SampleProb = c.Chosen.Prob / 2
				}
				tr.Steps[i].Next = &c
			}
		}
	}
	for _, tc := range []struct {
		name string
		temp float64
		fell bool
		en   string
		want bool
	}{
		{"fell", 0.8, true, "A kept token can still lose probability", true},
		{"kept", 0.8, false, "A kept token can still lose probability", false},
		{"sharpens", 0.8, true, "is below 1: it moves probability\ntowards", true},
		{"flattens", 1.5, true, "is above 1: it moves probability\naway", true},
		{"flattens-not-sharpens", 1.5, true, "is below 1", false},
	} {
		runs := handLessonRuns()
		set(runs["sample"].Trace, tc.temp, tc.fell)
		text := renderLesson(t, "generation-loop", "en", runs)
		if got := strings.Contains(text, tc.en); got != tc.want {
			t.Errorf("%s: %q present %v, want %v", tc.name, tc.en, got, tc.want)
		}
	}
}

// TestMemorySteps200: lesson 1 says a 200-step run overflows the window
// exactly when prompt + 200 tokens exceed it.
func TestMemorySteps200(t *testing.T) {
	t.Parallel()
	for _, np := range []int{64, 1024} {
		runs := handLessonRuns()
		tr := *runs["light"].Trace
		tr.Model.Config.NPositions = np
		runs["light"] = &Run{Trace: &tr, Command: runs["light"].Command}
		text := renderLesson(t, "working-memory", "en", runs)
		want := tr.PromptLen+200 > np
		if got := strings.Contains(text, "look for evictions"); got != want {
			t.Errorf("window %d: evictions promised %v, want %v", np, got, want)
		}
	}
}

// TestProbText: a probability just short of 1 is not printed as certainty.
func TestProbText(t *testing.T) {
	for p, want := range map[float64]string{0.9996: "0.9996", 0.99996: "0.99996", 1: "1", 0.25: "0.25", 0.99949: "0.999"} {
		if got := probText(p); got != want {
			t.Errorf("probText(%v) = %q, want %q", p, got, want)
		}
	}
}

// TestAttentionPartsCounted: lesson 6's breakdown of the attribution's
// parts adds up to the number of parts it states.
func TestAttentionPartsCounted(t *testing.T) {
	t.Parallel()
	runs := handLessonRuns()
	a := runs["drill"].Trace.Attribution
	heads := 0
	for _, l := range a.Heads {
		heads += len(l)
	}
	total := heads + 2*len(a.Heads) + 2
	text := renderLesson(t, "attention", "en", runs)
	want := "All " + itoa(total) + " parts (" + itoa(heads) + " heads, " + itoa(len(a.Heads)) + " attention"
	if !strings.Contains(text, want) {
		t.Errorf("lesson 6 lacks %q", want)
	}
}

// restartCurve gives the training run a curve: learning rates 0, 1e-3,
// 1e-4, 5e-4, 2e-4 (a warm restart at step 300; lrs replaces them, and a
// longer lrs adds evaluations) and validation losses 6, 3, 2, 2.5, last,
// then alternately last+0.05 and last.
func restartCurve(r map[string]*Run, last float64, lrs ...float64) {
	if lrs == nil {
		lrs = []float64{0, 1e-3, 1e-4, 5e-4, 2e-4}
	}
	tr := *r["training"].Trace
	tt := *tr.Training
	tt.Curve = nil
	// Evaluations after the fifth (when lrs is longer) stay near last.
	vals := []float64{6, 3, 2, 2.5, last}
	for len(vals) < len(lrs) {
		vals = append(vals, last+0.05*float64(len(vals)%2))
	}
	for i, v := range vals {
		tt.Curve = append(tt.Curve, trace.LossPoint{Step: 100 * i, Tokens: int64(1000 * i), ValLoss: v, TrainLoss: v, LR: lrs[i]})
	}
	tr.Training = &tt
	r["training"] = &Run{Trace: &tr, Command: r["training"].Command}
}

// TestTrainingRestartZh: the Chinese lesson states the warm restart and
// the loss's recovery from the same values as the English one, and a
// second restart.
func TestTrainingRestartZh(t *testing.T) {
	t.Parallel()
	runs := handLessonRuns()
	restartCurve(runs, 1.9)
	text := renderLesson(t, "training", "zh", runs)
	for _, want := range []string{"它从第 100 步的 0\\.001 降到第 200 步的 0\\.0001，到第 300 步又回升到 0\\.0005", "热重启", "验证损失从 2 升到 2\\.5（曲线上的那个凸起），到第 400 步又回到 2 以下。"} {
		if !strings.Contains(text, want) {
			t.Errorf("zh lesson lacks %q", want)
		}
	}
	restartCurve(runs, 1.9, 0, 1e-3, 1e-4, 5e-4, 2e-4, 3e-4)
	text = renderLesson(t, "training", "zh", runs)
	if want := "学习率后来又重启了一次：第 400 步时是 0\\.0002，到第 500 步升到 0\\.0003；验证损失从 1\\.9 变为 1\\.95"; !strings.Contains(text, want) {
		t.Errorf("zh lesson lacks %q", want)
	}
	tedit := *runs["training"].Trace.Training
	tedit.Curve = slices.Clone(tedit.Curve)
	tedit.Curve[3].ValLoss = 3
	tr := *runs["training"].Trace
	tr.Training = &tedit
	runs["training"] = &Run{Trace: &tr, Command: runs["training"].Command}
	text = renderLesson(t, "training", "zh", runs)
	if want := "它在第 300 步又落后于三元模型（3 nat/token），到第 400 步再次领先。"; !strings.Contains(text, want) {
		t.Errorf("zh lesson lacks %q", want)
	}
}
