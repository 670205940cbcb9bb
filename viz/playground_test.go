package viz

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/viz/viztest"
)

// TestSamplingPlayground: the playground's data holds every decode step's
// recorded logits bit for bit (float32 written shortest, so Math.fround
// restores them), the run's settings, labels for the tokens it names and
// every word the page's script uses in both languages; a trace without
// logits is ErrNoData, one with some steps missing says so.
func TestSamplingPlayground(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Steps: 4, TopLogits: 16, Temperature: 0.7, TopK: 5, TopP: 0.8})
	for _, lang := range []string{"en", "zh"} {
		pg, err := SamplingPlayground(tr, Lang(lang))
		if err != nil {
			t.Fatal(err)
		}
		if pg.ID != PlaygroundID || pg.Steps != 4 || pg.N != 16 || pg.Vocab != 50257 || pg.Exact || len(pg.Notes) != 0 {
			t.Errorf("%s: %+v", lang, pg)
		}
		if strings.ContainsAny(string(pg.Data), "<>&") {
			t.Errorf("%s: data holds raw <, > or &", lang)
		}
		var d PlaygroundData
		if err := json.Unmarshal(pg.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Version != 1 || d.Vocab != 50257 || d.Run != (PlaygroundSettings{Temperature: 0.7, TopK: 5, TopP: 0.8}) {
			t.Errorf("%s: version %d, vocab %d, run %+v", lang, d.Version, d.Vocab, d.Run)
		}
		k := 0
		for _, st := range tr.Steps {
			if st.Next == nil || !st.Kind.Generates() {
				continue
			}
			got := d.Steps[k]
			tl := st.Next.Logits
			if got.Step != st.Index || got.Position != st.Next.Position || got.Chosen != st.Next.Chosen.ID || got.LogSumExp != tl.LogSumExp {
				t.Errorf("%s: step %d: %+v", lang, st.Index, got)
			}
			for i := range tl.IDs {
				if got.IDs[i] != tl.IDs[i] || got.Logits[i] != tl.Values[i] {
					t.Errorf("%s: step %d, rank %d: %d %v, recorded %d %v", lang, st.Index, i, got.IDs[i], got.Logits[i], tl.IDs[i], tl.Values[i])
				}
			}
			if _, ok := d.Labels[strconv.Itoa(got.Chosen)]; !ok {
				t.Errorf("%s: step %d: no label for the chosen token %d", lang, st.Index, got.Chosen)
			}
			k++
		}
		if d.TokensFrom+len(d.Tokens) != len(tr.Tokens) || d.TokensFrom > d.Steps[0].Position {
			t.Errorf("%s: tokens from %d, %d of them, for a run of %d", lang, d.TokensFrom, len(d.Tokens), len(tr.Tokens))
		}
		for key := range playgroundWords {
			w, ok := d.Words[key]
			if _, known := phrases[key]; !known || !ok || w == key {
				t.Errorf("%s: word %q missing", lang, key)
			}
		}
		if lang == "zh" && d.Words["pg.temperature"] == phrases["pg.temperature"][0] {
			t.Error("zh: the words are English")
		}
	}

	// The whole vocabulary recorded: exact for every setting.
	small := viztest.Trace(viztest.Options{Steps: 2, TopLogits: 16})
	small.Model.Config.VocabSize = 16
	if pg, err := SamplingPlayground(small); err != nil || !pg.Exact || pg.N != 16 {
		t.Errorf("whole vocabulary: %+v, %v", pg, err)
	}
	// No logits: nothing to play with.
	if _, err := SamplingPlayground(viztest.Trace(viztest.Options{Steps: 3})); !errors.Is(err, ErrNoData) {
		t.Errorf("no logits: error %v, want ErrNoData", err)
	}
	if _, err := SamplingPlayground(viztest.Trace(viztest.Options{Steps: 0, TopLogits: 4})); !errors.Is(err, ErrNoData) {
		t.Errorf("no steps: error %v, want ErrNoData", err)
	}
	// Some steps without logits: the others are shown, and a note says so.
	some := viztest.Trace(viztest.Options{Steps: 3, TopLogits: 8})
	some.Steps[2].Next.Logits = nil
	pg, err := SamplingPlayground(some)
	if err != nil || pg.Steps != 2 || len(pg.Notes) != 1 || !strings.Contains(pg.Notes[0], "1 of the decode steps") {
		t.Errorf("a step without logits: %+v, %v", pg, err)
	}
	// Logits that do not fit the vocabulary are an inconsistent trace.
	bad := viztest.Trace(viztest.Options{Steps: 1, TopLogits: 8})
	bad.Steps[1].Next.Logits.Values = bad.Steps[1].Next.Logits.Values[:3]
	if _, err := SamplingPlayground(bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("3 values for 8 ids: error %v, want ErrInvalid", err)
	}
}
