package lessons

import (
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
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
