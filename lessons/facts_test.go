package lessons

import (
	"context"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz/viztest"
)

// TestFactTexts: every role and check the findings name has its texts
// (their keys are built, so TestTexts cannot see them).
func TestFactTexts(t *testing.T) {
	t.Parallel()
	for _, r := range findings.Roles {
		keys := []string{roleKey("role.h.", r)}
		if r != findings.Induction { // Strongest names only the fixed-key roles
			keys = append(keys, roleKey("role.name.", r))
		}
		for _, k := range keys {
			if _, ok := texts[k]; !ok {
				t.Errorf("role %v: text %q missing", r, k)
			}
		}
	}
	for _, c := range findings.Checks(viztest.Trace(viztest.Options{})) {
		if _, ok := texts[checkKey(c.Name)]; !ok {
			t.Errorf("check %v: text %q missing", c.Name, checkKey(c.Name))
		}
	}
}

// reportText is the markdown and notes of tr's report in lang.
func reportText(t *testing.T, tr *trace.Trace, lang string) string {
	t.Helper()
	nb, err := Report(tr, ReportOptions{Lang: lang})
	if err != nil {
		t.Fatal(err)
	}
	return markdownText(nb)
}

// tx is the longest run of the text of key in lang without a formatting
// verb: a fragment that is present exactly when the sentence is.
func tx(lang, key string) string {
	best := ""
	for _, part := range verb.Split(texts[key].In(i18n.ParseLang(lang)), -1) {
		if len(part) > len(best) {
			best = part
		}
	}
	return best
}

var verb = regexp.MustCompile(`%(\[\d+\])?[a-z%]`)

// setAttention gives every head of every step the row f(qk, nk).
func setAttention(tr *trace.Trace, f func(qk, nk int) []float32) {
	for si := range tr.Steps {
		st := &tr.Steps[si]
		for l := range st.Attention {
			for h := range st.Attention[l].Probs {
				for q, row := range st.Attention[l].Probs[h] {
					st.Attention[l].Probs[h][q] = f(st.QueryStart+q-st.WindowStart, len(row))
				}
			}
		}
	}
}

func even(qk, nk int) []float32 {
	row := make([]float32, nk)
	for k := 0; k <= qk; k++ {
		row[k] = 1 / float32(qk+1)
	}
	return row
}

// TestReportFactSentences: each sentence about the run appears when its
// fact holds and is absent when it does not, in both languages.
func TestReportFactSentences(t *testing.T) {
	t.Parallel()
	base := func() *trace.Trace {
		return viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, NPositions: 64, Prompt: 12, Steps: 3, Seed: 5, Words: []string{"a", "b", "c", "d"}})
	}
	for _, tc := range []struct {
		name     string
		tr       func() *trace.Trace
		has, not []string // text keys
		hasText  []string // exact fragments (English)
	}{
		{"previous-token head", func() *trace.Trace {
			tr := base()
			setAttention(tr, even)
			for si := range tr.Steps {
				st := &tr.Steps[si]
				for q, row := range st.Attention[1].Probs[0] {
					qk := st.QueryStart + q - st.WindowStart
					row = make([]float32, len(row))
					row[max(qk-1, 0)] = 1
					st.Attention[1].Probs[0][q] = row
				}
			}
			return tr
		}, []string{"role.h.previous-token", "attn.dist"}, []string{"roles.none", "role.h.first-token", "role.h.self", "role.h.induction", "attn.dist.sink"},
			[]string{"layer 1, head 0 (100%)"}},
		{"no head role", func() *trace.Trace {
			tr := base()
			setAttention(tr, even)
			return tr
		}, []string{"roles.none"}, []string{"role.h.previous-token", "role.h.first-token", "role.h.self", "role.h.induction"}, nil},
		{"attention sink", func() *trace.Trace {
			tr := base()
			setAttention(tr, func(_, nk int) []float32 { r := make([]float32, nk); r[0] = 1; return r })
			return tr
		}, []string{"role.h.first-token", "attn.dist.sink"}, []string{"roles.none", "role.h.previous-token"}, []string{"layer 0, head 0 (100%), layer 0, head 1 (100%)",
			"puts 100% of its attention on the oldest token"}},
		{"window kept", base, []string{"kv.kept"}, []string{"kv.rewritten", "kv.dropped"}, nil},
		{"window slid", func() *trace.Trace {
			return viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, NPositions: 8, Prompt: 6, Steps: 5, Seed: 5})
		}, []string{"kv.rewritten"}, []string{"kv.kept"}, []string{"3 steps recomputed the whole window (the first at step 3)"}},
		{"logit lens", base, []string{"lens.settle"}, nil, nil},
		{"no logit lens", func() *trace.Trace {
			tr := base()
			for i := range tr.Steps {
				tr.Steps[i].LogitLens = nil
			}
			return tr
		}, nil, []string{"lens.settle"}, nil},
		{"residual sink", base, []string{"resid.sink"}, nil, nil},
		{"no residual sink", func() *trace.Trace {
			tr := base()
			for l := range tr.Steps[0].ResidualNorm {
				tr.Steps[0].ResidualNorm[l][0] = tr.Steps[0].ResidualNorm[l][1]
			}
			return tr
		}, nil, []string{"resid.sink"}, nil},
		{"checks pass", base, []string{"checks.ok"}, []string{"checks.failed"}, nil},
		{"a check fails", func() *trace.Trace {
			tr := base()
			tr.Checks.MaxCausalLeak = 0.01
			return tr
		}, []string{"checks.failed"}, []string{"checks.ok"}, []string{"1 check failed"}},
		{"in distribution", base, []string{"probs.surprise", "probs.ppl.choices"}, []string{"ood.h", "probs.ppl.worse"}, nil},
		{"out of distribution", func() *trace.Trace {
			tr := base()
			tr.Model.Config.VocabSize, tr.Model.Config.BOSTokenID, tr.Model.Config.EOSTokenID = 384, 383, 383
			for i := range tr.PromptLen {
				tr.Tokens[i].Text, tr.Tokens[i].Display = "\ufffd", "<e5>"
				if s := &tr.Scores[i]; !s.NoContext {
					s.Surprisal, s.Prob = 36, math.Exp2(-36)
				}
			}
			return tr
		}, []string{"ood.h", "ood.bytes", "ood.surprisal", "probs.ppl.worse"}, []string{"probs.ppl.choices"},
			[]string{"12 of its 12 tokens (100%) are raw bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, lang := range []string{"en", "zh"} {
				text := reportText(t, tc.tr(), lang)
				for _, k := range tc.has {
					if !strings.Contains(text, tx(lang, k)) {
						t.Errorf("%s: %s missing (%q)", lang, k, tx(lang, k))
					}
				}
				for _, k := range tc.not {
					if strings.Contains(text, tx(lang, k)) {
						t.Errorf("%s: %s stated, but it does not hold (%q)", lang, k, tx(lang, k))
					}
				}
				if lang == "en" {
					for _, s := range tc.hasText {
						if !strings.Contains(text, s) {
							t.Errorf("en: %q missing", s)
						}
					}
				}
			}
		})
	}
}

// falseHints are the canned sentences the report used to show whatever
// the run (issue 10): the hint to look for a bright first column, keys and
// values that "never change" even after the window slid, and a perplexity
// read as a number of choices beyond the vocabulary.
var falseHints = []string{
	"a bright first column (many heads park attention",
	"明亮的第一列（很多头",
	"Keys and values of past tokens never change",
	"过去 token 的键和值不会再变",
	"Its size grows by one position per step",
}

// TestReportDefaultModelHonest runs the embedded default model (trained on
// English texts and classical Chinese poems) on an English prompt long
// enough to slide the window, on a line of a Tang poem (in distribution:
// its characters are tokens), on modern Chinese (mostly characters the
// poems lack, so raw bytes) and on English spelt in Cyrillic letters (raw
// bytes the model cannot predict: worse than a uniform guess), and checks
// that the report states what holds and none of the false hints.
func TestReportDefaultModelHonest(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	run := func(prompt string, steps int) *trace.Trace {
		tr, err := model.Run(context.Background(), m, model.RunOptions{
			Prompt: prompt, Steps: steps, Sampling: model.SamplingParams{Temperature: 0, TopP: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	en := run("The quick brown fox jumps over the lazy dog.", m.Config.NPositions)
	poem := run("床前明月光，疑是地上霜。", 3)
	zh := run("工作记忆是什么？它像缓存一样", 3)
	cyr := run("Зе квик браун фокс джампс овер зе лэйзи дог.", 3)
	for _, tc := range []struct {
		name     string
		tr       *trace.Trace
		has, not []string
	}{
		{"english, window slid", en, []string{"kv.rewritten", "probs.ppl.choices"}, []string{"kv.kept", "ood.h", "probs.ppl.worse"}},
		{"tang poem", poem, []string{"probs.ppl.choices", "kv.kept"}, []string{"ood.h", "probs.ppl.worse", "kv.rewritten"}},
		{"modern chinese", zh, []string{"ood.h", "ood.bytes", "kv.kept"}, []string{"kv.rewritten"}},
		// Worse than uniform or not depends on the weights (12.5 vs 12.58
		// bits on an earlier, 20,000-step model): checked against the finding below.
		{"english in cyrillic", cyr, []string{"ood.h", "ood.bytes", "kv.kept"}, []string{"kv.rewritten"}},
	} {
		ood, ok := findings.PromptOutOfDistribution(tc.tr)
		switch {
		case tc.tr == poem && ok:
			t.Errorf("%s: out of distribution %+v: want in distribution (its characters are tokens)", tc.name, ood)
		case tc.tr == zh && (!ok || !ood.ByBytes):
			t.Errorf("%s: out of distribution %+v, %v: want most tokens raw bytes", tc.name, ood, ok)
		case tc.tr == cyr && (!ok || !ood.ByBytes || ood.MedianProb > 1e-3):
			t.Errorf("%s: out of distribution %+v, %v: want raw bytes, median P ≤ 1e-3", tc.name, ood, ok)
		}
		if tc.tr == cyr {
			// The surprisal sentences are there exactly when the finding says
			// the prompt was worse than uniform.
			worse, better := []string{"ood.surprisal", "probs.ppl.worse"}, []string{"probs.ppl.choices"}
			if !ood.BySurprisal {
				worse, better = better, worse
			}
			tc.has, tc.not = append(tc.has, worse...), append(tc.not, better...)
		}
		for _, lang := range []string{"en", "zh"} {
			text := reportText(t, tc.tr, lang)
			for _, h := range falseHints {
				if strings.Contains(text, h) {
					t.Errorf("%s, %s: the report still says %q", tc.name, lang, h)
				}
			}
			for _, k := range tc.has {
				if !strings.Contains(text, tx(lang, k)) {
					t.Errorf("%s, %s: %s missing", tc.name, lang, k)
				}
			}
			for _, k := range tc.not {
				if strings.Contains(text, tx(lang, k)) {
					t.Errorf("%s, %s: %s stated, but it does not hold", tc.name, lang, k)
				}
			}
			// The default model has no attention sink: the report must not
			// claim one.
			if hs := findings.HeadRoles(tc.tr); len(hs) == 0 && !strings.Contains(text, tx(lang, "roles.none")) {
				t.Errorf("%s, %s: no head role found, but the report does not say so", tc.name, lang)
			}
		}
	}
}

// TestReportCacheCheckAndRecompute: the cache check says "float32
// rounding" only when the difference is within the tolerance, and the
// new-token attention paragraph says when steps recomputed every row.
func TestReportCacheCheckAndRecompute(t *testing.T) {
	t.Parallel()
	slid := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, NPositions: 8, Prompt: 6, Steps: 5, Seed: 5})
	kept := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, NPositions: 64, Prompt: 6, Steps: 5, Seed: 5})
	bad := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, NPositions: 64, Prompt: 6, Steps: 5, Seed: 5})
	bad.Checks.CacheVsRecompute = 0.5
	for _, tc := range []struct {
		name     string
		tr       *trace.Trace
		has, not []string
	}{
		{"slid", slid, []string{"attn.new.recompute", "kv.check"}, []string{"kv.check.fail"}},
		{"kept", kept, []string{"kv.check"}, []string{"attn.new.recompute", "kv.check.fail"}},
		{"cache differs", bad, []string{"kv.check.fail", "checks.failed"}, []string{"kv.check", "checks.ok"}},
	} {
		for _, lang := range []string{"en", "zh"} {
			text := reportText(t, tc.tr, lang)
			for _, k := range tc.has {
				if !strings.Contains(text, tx(lang, k)) {
					t.Errorf("%s, %s: %s missing", tc.name, lang, k)
				}
			}
			for _, k := range tc.not {
				if strings.Contains(text, tx(lang, k)) {
					t.Errorf("%s, %s: %s stated, but it does not hold", tc.name, lang, k)
				}
			}
		}
	}
}

// TestReportBlockEvictionHonest: under the block policy the window holds
// fewer than n_positions tokens after an eviction and tokens move by a
// whole block: the report says how many it was reading at the end, not
// "the most recent n_positions", and never "one position earlier".
func TestReportBlockEvictionHonest(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := model.Run(context.Background(), m, model.RunOptions{
		Prompt: "The light", Steps: m.Config.NPositions + 4, Sampling: model.SamplingParams{Temperature: 0, TopP: 1},
		Overflow: model.OverflowBlock,
	})
	if err != nil {
		t.Fatal(err)
	}
	last := tr.Steps[len(tr.Steps)-1]
	inWindow := last.QueryStart + last.NQuery - last.WindowStart
	if inWindow >= m.Config.NPositions {
		t.Fatalf("the window holds %d tokens at the end: want fewer than %d for this test", inWindow, m.Config.NPositions)
	}
	text := reportText(t, tr, "en")
	for _, bad := range []string{"one position earlier", "It kept reading the most recent"} {
		if strings.Contains(text, bad) {
			t.Errorf("the report says %q", bad)
		}
	}
	if want := "At the end it was reading the most recent " + strconv.Itoa(inWindow) + " tokens."; !strings.Contains(text, want) {
		t.Errorf("the report lacks %q", want)
	}
}

// TestFlatStepsText: the report says that the next-token distribution was
// almost flat exactly when some step's entropy reaches 95% of log2
// vocab_size, with the run's steps and entropies, in both languages (the
// embedded model at temperature 1 fell into such a state on the README's
// fox prompt and never left it).
func TestFlatStepsText(t *testing.T) {
	t.Parallel()
	base := viztest.Options{NLayer: 1, NHead: 1, DHead: 4, NPositions: 16, Prompt: 3, Steps: 5, Seed: 1}
	for _, tc := range []struct {
		name string
		bits []float64 // the decode steps' entropies
		key  string    // the sentence expected, "" for none
		want []string  // fragments of it (en)
	}{
		{"never flat", []float64{2, 3, 4, 5, 6}, "", nil},
		{"just below 95% of 15.6 bits", []float64{2, 3, 14.8, 14.8, 14.8}, "", nil},
		{"flat from step 3 on", []float64{2, 3, 14.9, 15.5, 15.6}, "gen.flat.from", []string{"From step 3 on", "those 3 of the 5", "14.9–15.6 bits", "log₂ 50,257 = 15.6 bits", "among 30,574 tokens"}},
		{"flat at two steps", []float64{15.6, 2, 14.9, 3, 4}, "gen.flat.at", []string{"At 2 of the 5 decode steps (steps 1, 3)", "14.9–15.6 bits"}},
	} {
		tr := viztest.Trace(base) // GPT-2's 50,257 tokens: 95% of 15.617 bits is 14.84
		i := 0
		for si := range tr.Steps {
			if tr.Steps[si].Next != nil {
				tr.Steps[si].Next.Entropy = tc.bits[i]
				i++
			}
		}
		if i != len(tc.bits) {
			t.Fatalf("%s: the fixture has %d decode steps, want %d", tc.name, i, len(tc.bits))
		}
		for _, lang := range []string{"en", "zh"} {
			text := reportText(t, tr, lang)
			// A fragment only each sentence has (tx finds one they share).
			marks := map[string]map[string]string{
				"gen.flat.from": {"en": "the run never left that state", "zh": "再也没有离开这种状态"},
				"gen.flat.at":   {"en": "decode steps (steps", "zh": "个解码步中有"},
			}
			for k, m := range marks {
				if got := strings.Contains(strings.ReplaceAll(text, "\n", " "), m[lang]); got != (k == tc.key) {
					t.Errorf("%s, %s: sentence %s present %v", tc.name, lang, k, got)
				}
			}
			if lang != "en" {
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(strings.ReplaceAll(text, "\n", " "), w) {
					t.Errorf("%s: report does not say %q", tc.name, w)
				}
			}
		}
	}
}

// TestTopGuessesSeparator: the top guesses are kept apart by " · ", so
// that comma and dash tokens stay readable (a new user read "- 0.0775, ,
// 0.0644").
func TestTopGuessesSeparator(t *testing.T) {
	t.Parallel()
	got := topGuesses([]trace.Candidate{{Display: "␣window", Prob: 0.0841}, {Display: "-", Prob: 0.0775}, {Display: ",", Prob: 0.0644}, {Display: "x", Prob: 0.01}}, 3)
	if want := "␣window 0.0841 · - 0.0775 · , 0.0644"; got != want {
		t.Errorf("topGuesses = %q, want %q", got, want)
	}
}

// TestSummaryGeneratedText: the summary table gives the continuation as
// plain text (a reader once had to piece the sentence together from the
// token chips), with a character cut between tokens shown as U+FFFD.
func TestSummaryGeneratedText(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, DHead: 4, NPositions: 16, Prompt: 3, Steps: 3, Seed: 1})
	gen := tr.Tokens[tr.PromptLen:]
	gen[0].Text, gen[1].Text, gen[2].Text = " light", "\xe4\xbd", " is"
	nb, err := Report(tr, ReportOptions{Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	want := " light\uFFFD is"
	// Read back from JSON each bad byte is a U+FFFD of its own: the same text.
	if got := plainText(" light\uFFFD\uFFFD is"); got != want {
		t.Errorf("plainText of a trace read back: %q, want %q", got, want)
	}
	for _, c := range nb.Cells {
		if c.Table == nil || c.Table.Caption != tx("en", "summary.caption") {
			continue
		}
		for _, row := range c.Table.Rows {
			if row[0] == texts["f.generated"].In(i18n.ParseLang("en")) {
				if row[1] != want {
					t.Errorf("generated text %q, want %q", row[1], want)
				}
				return
			}
		}
	}
	t.Error("the summary table has no generated-text row")
}

// TestStepTableSampledProb: where temperature or a filter changed the
// distribution drawn from, the step table gives the chosen token's
// probability there beside the raw one (a reader saw only "P (T = 1)" for
// a run at temperature 0.7, top-k 40); a run at temperature 1 without
// filters keeps the table as it was.
func TestStepTableSampledProb(t *testing.T) {
	t.Parallel()
	for _, filtered := range []bool{false, true} {
		tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, DHead: 4, NPositions: 16, Prompt: 3, Steps: 3, Seed: 1})
		for i := range tr.Steps {
			if n := tr.Steps[i].Next; n != nil {
				n.Greedy = false
				n.Chosen.SampleProb = n.Chosen.Prob * (1 + 1e-14) // rounding, as a T = 1 run records it
				if filtered {
					n.Chosen.SampleProb = 0.5
				}
			}
		}
		nb, err := Report(tr, ReportOptions{Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		var tab *output.Table
		for _, c := range nb.Cells {
			if c.Table != nil && c.Table.Caption == tx("en", "gen.caption") {
				tab = c.Table
			}
		}
		if tab == nil {
			t.Fatal("no step table")
		}
		k := slices.Index(tab.Header, texts["col.psampled"].In(i18n.ParseLang("en")))
		if (k >= 0) != filtered {
			t.Errorf("filtered %v: header %q", filtered, tab.Header)
			continue
		}
		for _, row := range tab.Rows {
			if len(row) != len(tab.Header) || filtered && row[k] != "0.5" {
				t.Errorf("filtered %v: row %q under header %q", filtered, row, tab.Header)
			}
		}
	}
}

// TestFlatTailText: after the flat-steps sentence, a run that sampled
// from the whole distribution and drew a token below TailProb before the
// flat stretch is told so, with that step and P; a run with top-k, or
// whose draws were all likelier, is not.
func TestFlatTailText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		topK int
		p1   float64 // the chosen token's P at step 1
		want string
	}{
		{"tail draw", 0, 2e-5, "(step 1: P = 2e-05)"},
		{"likely draws", 0, 0.2, ""},
		{"top-k", 40, 2e-5, ""},
	} {
		tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, DHead: 4, NPositions: 16, Prompt: 3, Steps: 4, Seed: 1})
		tr.Settings.Temperature, tr.Settings.TopK, tr.Settings.TopP = 1, tc.topK, 1
		for i, bits := range []float64{3, 4, 15.5, 15.6} {
			n := tr.Steps[i+1].Next
			n.Entropy, n.Greedy = bits, false
			n.Chosen.Prob = 0.5
		}
		tr.Steps[1].Next.Chosen.Prob = tc.p1
		text := strings.ReplaceAll(reportText(t, tr, "en"), "\n", " ")
		if got := strings.Contains(text, "drew a token from the tail"); got != (tc.want != "") || !strings.Contains(text, tc.want) {
			t.Errorf("%s: tail sentence present %v, want %q", tc.name, got, tc.want)
		}
	}
}
