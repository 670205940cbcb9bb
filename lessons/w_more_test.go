package lessons

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz/viztest"
)

// Tests of lessons 5, 8, 9 and 12: each sentence that depends on a fact
// is present when the fact holds and absent when it does not, on
// hand-made traces.

// lessonText renders lesson key in lang on runs made from tr (every run
// the same hand-made trace, with its prompt) and returns its markdown,
// notes and answers.
func lessonText(t *testing.T, key, lang string, tr *trace.Trace) string {
	t.Helper()
	l, err := Find(key)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := l.Render(LessonOptions{Lang: lang, Runs: handRuns(tr)})
	if err != nil {
		t.Fatal(err)
	}
	return markdownText(nb)
}

// wantText checks that each of want is in text exactly when present.
func wantText(t *testing.T, name, text string, present bool, want ...string) {
	t.Helper()
	for _, w := range want {
		if strings.Contains(text, w) != present {
			t.Errorf("%s: %q present = %v, want %v", name, w, !present, present)
		}
	}
}

// setLens makes every lens row's top token id(layer, nLayer) (display
// "tokID").
func setLens(tr *trace.Trace, id func(layer, nLayer int) int) {
	for si := range tr.Steps {
		st := &tr.Steps[si]
		for l := range st.LogitLens {
			for q := range st.LogitLens[l] {
				v := id(l, len(st.LogitLens))
				st.LogitLens[l][q] = trace.LensEntry{ID: v, Display: "tok" + itoa(v), Prob: 0.5}
			}
		}
	}
}

func TestLensFacts(t *testing.T) {
	t.Parallel()
	o := viztest.Options{NLayer: 4, NHead: 2, DHead: 4, NPositions: 64, Prompt: 5, Steps: 3, Seed: 2}
	for _, tc := range []struct {
		name  string
		id    func(l, n int) int
		early bool // every layer agrees: settles at 0
	}{
		{"all agree", func(l, n int) int { return 7 }, true},
		{"last differs", func(l, n int) int { return 7 + l/(n-1) }, false},
	} {
		tr := viztest.Trace(o)
		setLens(tr, tc.id)
		en, zh := lessonText(t, "logit-lens", "en", tr), lessonText(t, "logit-lens", "zh", tr)
		wantText(t, tc.name, en, tc.early, "the later blocks no longer change which token is on top",
			"the first block alone already pointed", "It was the lens", "had settled by layer 0")
		wantText(t, tc.name, en, !tc.early, "only gets its final answer in the very last block",
			"the answer changed in the last block", "It settled only at the last layer, 3")
		wantText(t, tc.name, zh, tc.early, "后面的层不再改变排第一的 token", "只经过第一层")
		wantText(t, tc.name, zh, !tc.early, "要到最后一层才得到最终答案", "它直到最后一层（第 3 层）才定下来")
	}
}

func TestDecodeStepFacts(t *testing.T) {
	t.Parallel()
	o := viztest.Options{NLayer: 3, NHead: 4, DHead: 32, NPositions: 64, Prompt: 5, Steps: 3, Seed: 2}
	for _, tc := range []struct {
		name             string
		edit             func(c *trace.ModelInfo)
		inner4, embedBig bool
		tanh             bool
	}{
		{"gpt2-like", func(m *trace.ModelInfo) {}, true, true, true},
		{"small vocab, 3x MLP, exact gelu", func(m *trace.ModelInfo) {
			m.Config.VocabSize, m.Config.NInner, m.Config.Activation = 200, 3*m.Config.NEmbd, "gelu"
			m.Config.BOSTokenID, m.Config.EOSTokenID = 199, 199
		}, false, false, false},
	} {
		tr := viztest.Trace(o)
		tc.edit(&tr.Model)
		tr.Model.NumParams = tr.Model.Config.NumParams()
		en, zh := lessonText(t, "decode-step", "en", tr), lessonText(t, "decode-step", "zh", tr)
		wantText(t, tc.name, en, tc.inner4, "That is GPT-2's usual choice")
		wantText(t, tc.name, en, !tc.inner4, "config sets another width")
		wantText(t, tc.name, zh, tc.inner4, "这正是 GPT-2 的惯例")
		wantText(t, tc.name, en, tc.embedBig, "a large vocabulary on a narrow model")
		wantText(t, tc.name, en, !tc.embedBig, "blocks (")
		wantText(t, tc.name, zh, tc.embedBig, "词表大、模型窄")
		wantText(t, tc.name, en, tc.tanh, "tanh approximation")
		wantText(t, tc.name, en, !tc.tanh, "This is the exact form")
		// The numbers are the model's: the MLP's width and parameters.
		c := tr.Model.Config
		wantText(t, tc.name, en, true, thousands(int64(2*c.NEmbd*c.NInner+c.NInner+c.NEmbd)), itoa(c.NEmbd)+" × "+itoa(c.NInner))
	}
}

// TestParamsTableAddsUp: the parameter table's parts add up to the
// model's count, and a trace whose count disagrees is an error.
func TestParamsTableAddsUp(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{})
	e := &Env{Lang: "en"}
	tb, err := paramsTable(e, nil, tr)
	if err != nil {
		t.Fatal(err)
	}
	if got := tb.Rows[len(tb.Rows)-1][2]; got != thousands(int64(tr.Model.NumParams)) {
		t.Errorf("total %s, want %d", got, tr.Model.NumParams)
	}
	tr.Model.NumParams++
	if _, err := paramsTable(e, nil, tr); err == nil {
		t.Error("a count that disagrees: no error")
	}
}

func TestGenerationLoopFacts(t *testing.T) {
	t.Parallel()
	o := viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 64, Prompt: 6, Steps: 4, Seed: 5, Temperature: 0.8, TopK: 5, TopP: 0.9}
	for _, hit := range []bool{false, true} {
		for _, cut := range []bool{false, true} {
			tr := viztest.Trace(o)
			for i := range tr.Scores {
				s := &tr.Scores[i]
				if s.NoContext || len(s.Top) == 0 {
					continue
				}
				s.Top[0].ID = s.ID + 1
				if hit && i == 2 {
					s.Top[0].ID = s.ID
				}
			}
			kept := 5
			if cut {
				kept = 3
			}
			tr.Steps[1].Next.Filters = []trace.FilterResult{{Name: "temperature", Kept: 50257, Mass: 1}, {Name: "top-k", Kept: 5, Mass: 0.8}, {Name: "top-p", Kept: kept, Mass: 0.7}}
			name := "hit=" + strconv.FormatBool(hit) + " cut=" + strconv.FormatBool(cut)
			en, zh := lessonText(t, "generation-loop", "en", tr), lessonText(t, "generation-loop", "zh", tr)
			wantText(t, name, en, hit, "At 1 of those positions the model")
			wantText(t, name, zh, hit, "其中有 1 个位置")
			wantText(t, name, en, cut, "So top-p removed tokens that top-k had kept", "top-k kept 5, and top-p kept\n3")
			wantText(t, name, en, !cut, "So top-p removed nothing more")
			wantText(t, name, zh, cut, "top-p 又去掉了")
			wantText(t, name, zh, !cut, "top-p 没有再去掉什么")
		}
	}
}

// TestLessonAnchors: every in-page link of a lesson (lesson 9 links each
// line of its loop to a chart) points at an element of the page.
func TestLessonAnchors(t *testing.T) {
	t.Parallel()
	ls, err := Lessons()
	if err != nil {
		t.Fatal(err)
	}
	href := regexp.MustCompile(`href="#([^"]+)"`)
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 64, Prompt: 6, Steps: 4, Seed: 5, TopK: 3})
	for _, l := range ls {
		for _, lang := range []string{"en", "zh"} {
			nb, err := l.Render(LessonOptions{Lang: lang, Runs: handRuns(tr)})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := output.WriteHTML(&b, nb); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			for _, m := range href.FindAllStringSubmatch(page, -1) {
				if !strings.Contains(page, `id="`+m[1]+`"`) {
					t.Errorf("%s/%s: link to #%s, no such element", l.Name(), lang, m[1])
				}
			}
		}
	}
}

func TestFAQFacts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		diff                float64
		exact, bad, missing bool
	}{
		{"rounding", 2e-6, true, false, false},
		{"bug", 0.5, false, true, false},
		{"not measured", -1, false, false, true},
	} {
		tr := viztest.Trace(viztest.Options{Steps: 4})
		tr.Checks.CacheVsRecompute = tc.diff
		en, zh := lessonText(t, "faq", "en", tr), lessonText(t, "faq", "zh", tr)
		wantText(t, tc.name, en, tc.exact, "This run checked the last point", "at most 2\\.000e\\-06")
		wantText(t, tc.name, zh, tc.exact, "这次运行验证了最后一点")
		wantText(t, tc.name, en, tc.bad, "a sign\nof a bug", "differed by\n5\\.000e\\-01")
		wantText(t, tc.name, zh, tc.bad, "引擎有 bug")
		wantText(t, tc.name, en, tc.missing, "did not measure")
		wantText(t, tc.name, zh, tc.missing, "没有比较")
	}
}

// TestRunFLOPs: with a cache one step's cost grows by the attention over
// one more key; without it, by a whole forward pass.
func TestRunFLOPs(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 4, Steps: 3})
	c := tr.Model.Config
	cached, uncached, err := runFLOPs(tr)
	if err != nil {
		t.Fatal(err)
	}
	var wc, wu int64
	for n := 5; n <= 7; n++ {
		wc += stepFLOPs(c, n)
		wu += fullFLOPs(c, n)
	}
	if cached != wc || uncached != wu || uncached <= cached {
		t.Errorf("cached %d uncached %d, want %d and %d", cached, uncached, wc, wu)
	}
	if fullFLOPs(c, 1) != stepFLOPs(c, 1) {
		t.Errorf("one token: %d without cache, %d with: want equal", fullFLOPs(c, 1), stepFLOPs(c, 1))
	}
}
