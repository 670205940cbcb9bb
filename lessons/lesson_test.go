package lessons

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz/viztest"
)

func TestLessonsParse(t *testing.T) {
	t.Parallel()
	ls, err := Lessons()
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) == 0 {
		t.Fatal("no lessons embedded")
	}
	reserved := map[int]bool{4: true, 6: true, 7: true, 10: true, 11: true} // branch lext
	for _, l := range ls {
		if l.Title("en") == "" || l.Title("zh") == "" || l.Title("en") == l.Title("zh") {
			t.Errorf("lesson %d: titles %q / %q", l.Number, l.Title("en"), l.Title("zh"))
		}
		_ = reserved
		for _, key := range []string{l.ID, l.Name()[:2]} {
			if f, err := Find(key); err != nil || f != l {
				t.Errorf("Find(%q) = %v, %v", key, f, err)
			}
		}
	}
	if _, err := Find("nope"); err == nil || !strings.Contains(err.Error(), "working-memory") {
		t.Errorf("Find(nope) = %v, want the list of lessons", err)
	}
	for name := range structural {
		if _, ok := blocks[name]; ok {
			t.Errorf("block directive %q shadows a structural one", name)
		}
	}
}

// TestLessonsRenderHandMade renders every lesson in both languages on
// small hand-made traces, one with evictions, as HTML and ipynb.
func TestLessonsRenderHandMade(t *testing.T) {
	t.Parallel()
	ls, err := Lessons()
	if err != nil {
		t.Fatal(err)
	}
	traces := map[string]viztest.Options{
		"fits":    {NLayer: 3, NHead: 4, DHead: 4, NPositions: 64, Prompt: 6, Steps: 5, TopK: 3, Seed: 7},
		"evicted": {NLayer: 2, NHead: 2, DHead: 4, NPositions: 8, Prompt: 6, Steps: 5, Seed: 3},
	}
	for tname, o := range traces {
		for _, l := range ls {
			for _, lang := range []string{"en", "zh"} {
				t.Run(tname+"/"+l.Name()+"/"+lang, func(t *testing.T) {
					nb, err := l.Render(LessonOptions{Lang: lang, Runs: handRuns(viztest.Trace(o)), Static: []string{"svg"}})
					if err != nil {
						t.Fatal(err)
					}
					checkPage(t, nb)
				})
			}
		}
	}
}

// checkPage writes nb as HTML and ipynb and checks what every lesson page
// must have: a command, a try-it cell, 2–3 questions with folded answers,
// charts, maths that rendered.
func checkPage(t *testing.T, nb *output.Notebook) {
	t.Helper()
	var page, nbf bytes.Buffer
	if err := output.WriteHTML(&page, nb); err != nil {
		t.Fatal(err)
	}
	if err := output.WriteIPYNB(&nbf, nb); err != nil {
		t.Fatal(err)
	}
	h := page.String()
	h = h[strings.Index(h, "<main"):strings.Index(h, "<footer")]
	if strings.Contains(h, `class="math-error"`) || strings.Contains(h, "{{") {
		t.Error("page has a formula that did not render or an unexpanded value")
	}
	code, folded, charts := 0, 0, 0
	for _, c := range nb.Cells {
		switch {
		case c.Kind == output.KindCode:
			code++
		case c.Summary != "":
			folded++
		case c.Kind == output.KindChart:
			charts++
		}
	}
	if code < 2 || folded < 2 || folded > 3 || charts < 1 {
		t.Errorf("%d code cells, %d folded answers, %d charts: want ≥ 2 (command, try), 2–3, ≥ 1", code, folded, charts)
	}
}
