package viz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz"
)

// comparison runs the default model with four settings × two seeds.
func comparison(t testing.TB) *trace.Comparison {
	t.Helper()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	settings := []model.SamplingParams{{TopP: 1}, {Temperature: 0.7, TopP: 1}, {Temperature: 1, TopK: 5, TopP: 1}, {Temperature: 1.3, TopP: 0.8}}
	runs, err := model.Compare(context.Background(), m, model.CompareOptions{
		Prompt: "The light", Steps: 8, Settings: settings, Seeds: []uint64{1, 2},
		// Every logit, so that a test can recompute the sampler.
		Trace: model.TraceOptions{NoAttention: true, NoLogitLens: true, KVLayers: []int{}, TopLogits: 1 << 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := trace.NewComparison("gptviz compare", []string{"greedy", "temperature=0.7", "temperature=1,top-k=5", "temperature=1.3,top-p=0.8"}, runs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCompareCharts: every comparison chart builds in English and Chinese
// with a static form, and refuses bad indices.
func TestCompareCharts(t *testing.T) {
	t.Parallel()
	c := comparison(t)
	a, b := 0, -1
	for i := 1; i < len(c.Settings); i++ {
		if c.Diverges[i][0] > 0 {
			b = i
			break
		}
	}
	if b < 0 {
		t.Fatal("no setting diverges from greedy with seed 1")
	}
	for _, lang := range []string{"en", "zh"} {
		build := []func() (*viz.Chart, error){
			func() (*viz.Chart, error) { return viz.CompareSteps(c, 0, viz.Lang(lang)) },
			func() (*viz.Chart, error) { return viz.CompareSteps(c, 1, viz.Lang(lang), viz.FigureStep(3)) },
			func() (*viz.Chart, error) { return viz.CompareLines(c, 1, viz.Lang(lang)) },
			func() (*viz.Chart, error) { return viz.CompareSummary(c, viz.Lang(lang)) },
			func() (*viz.Chart, error) { return viz.CompareDivergence(c, a, b, 0, viz.Lang(lang)) },
		}
		for _, f := range build {
			ch, err := f()
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(ch.Option) {
				t.Errorf("%s: option is not JSON", ch.ID)
			}
			if lang == "zh" && !regexp.MustCompile(`\p{Han}`).MatchString(ch.Title) {
				t.Errorf("%s: no Chinese title", ch.ID)
			}
			for _, format := range []string{"svg", "png"} {
				var buf bytes.Buffer
				if err := ch.Static(&buf, format); err != nil || buf.Len() == 0 {
					t.Errorf("%s: static %s: %v", ch.ID, format, err)
				}
			}
		}
	}
	for _, f := range []func() error{
		func() error { _, err := viz.CompareSteps(c, 2); return err },
		func() error { _, err := viz.CompareSteps(c, 0, viz.FigureStep(9)); return err },
		func() error { _, err := viz.CompareLines(c, -1); return err },
		func() error { _, err := viz.CompareDivergence(c, 0, 0, 0); return err },
		func() error { _, err := viz.CompareDivergence(c, 0, 9, 0); return err },
	} {
		if err := f(); !errors.Is(err, viz.ErrRange) {
			t.Errorf("%v, want ErrRange", err)
		}
	}
}

// TestCompareStages: the stage probabilities CompareSteps shows are the
// sampler's: after temperature, softmax(logits / T) over the whole
// vocabulary (the default model's recorded logits are all of them); after
// top-k, renormalised over the K kept; after top-p, the recorded
// SampleProb.
func TestCompareStages(t *testing.T) {
	t.Parallel()
	c := comparison(t)
	for i, set := range c.Settings {
		if set.Temperature == 0 {
			continue
		}
		for _, st := range c.Runs[i][0].Steps[1:] {
			p := st.Next
			if p.Logits == nil || len(p.Logits.IDs) != c.Runs[i][0].Model.Config.VocabSize {
				t.Fatalf("the default model's logits are not all recorded")
			}
			// The sampler's tempered distribution, from all the logits.
			mx := float64(p.Logits.Values[0])
			var z float64
			for _, v := range p.Logits.Values {
				z += math.Exp((float64(v) - mx) / set.Temperature)
			}
			var keptK float64
			k := len(p.Logits.IDs)
			if set.TopK > 0 {
				k = set.TopK
			}
			for _, v := range p.Logits.Values[:k] {
				keptK += math.Exp((float64(v)-mx)/set.Temperature) / z
			}
			stages := viz.StagesForTest(p, set.Temperature)
			for ci, cd := range p.Top {
				pt := math.Exp((float64(cd.Logit)-mx)/set.Temperature) / z
				if d := math.Abs(stages[ci][1] - pt); d > 1e-9 {
					t.Errorf("%s step %d %q: after temperature %v, want %v", set.Spec, st.Index, cd.Text, stages[ci][1], pt)
				}
				wantK := 0.0
				if ci < k {
					wantK = pt / keptK
				}
				if d := math.Abs(stages[ci][2] - wantK); d > 1e-9 {
					t.Errorf("%s step %d %q: after top-k %v, want %v", set.Spec, st.Index, cd.Text, stages[ci][2], wantK)
				}
				if stages[ci][3] != cd.SampleProb || stages[ci][0] != cd.Prob {
					t.Errorf("%s step %d: raw/final %v %v, want %v %v", set.Spec, st.Index, stages[ci][0], stages[ci][3], cd.Prob, cd.SampleProb)
				}
			}
		}
	}
}

// TestCompareDivergenceStep: the divergence chart names the first step at
// which the two runs' tokens differ, for every pair that differs.
func TestCompareDivergenceStep(t *testing.T) {
	t.Parallel()
	c := comparison(t)
	n := 0
	for a := range c.Settings {
		for b := range c.Settings {
			for j := range c.Seeds {
				if a == b {
					continue
				}
				ta, tb := c.Runs[a][j], c.Runs[b][j]
				want := 0
				for k := ta.PromptLen; k < len(ta.Tokens); k++ {
					if ta.Tokens[k].ID != tb.Tokens[k].ID {
						want = k - ta.PromptLen + 1
						break
					}
				}
				ch, err := viz.CompareDivergence(c, a, b, j)
				if want == 0 {
					if !errors.Is(err, viz.ErrNoData) {
						t.Errorf("%d vs %d, seed %d: agree everywhere but %v", a, b, c.Seeds[j], err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
				if prefix := "step " + strconv.Itoa(want) + ", seed " + strconv.FormatUint(c.Seeds[j], 10) + ":"; !strings.HasPrefix(ch.Subtitle, prefix) {
					t.Errorf("%d vs %d: subtitle %q, want it to start %q", a, b, ch.Subtitle, prefix)
				}
				checkDivergenceMarks(t, ch)
			}
		}
	}
	if n == 0 {
		t.Error("no pair differs")
	}
}

// checkDivergenceMarks: in a divergence chart, exactly one bar of A's
// series is marked ▼A and one of B's ▼B, at different tokens (the two
// chose differently), and the axis labels are the plain tokens.
func checkDivergenceMarks(t *testing.T, ch *viz.Chart) {
	t.Helper()
	var o struct {
		XAxis  struct{ Data []string }
		Series []struct{ Data []json.RawMessage }
	}
	if err := json.Unmarshal(ch.Option, &o); err != nil {
		t.Fatal(err)
	}
	at := map[string][]int{}
	for si, mark := range map[int]string{1: "▼A", 2: "▼B"} {
		for i, item := range o.Series[si].Data {
			var bar struct{ Label struct{ Formatter string } }
			if json.Unmarshal(item, &bar) == nil && bar.Label.Formatter != "" {
				if bar.Label.Formatter != mark {
					t.Errorf("series %d bar %d marked %q, want %q", si, i, bar.Label.Formatter, mark)
				}
				at[mark] = append(at[mark], i)
			}
		}
	}
	if len(at["▼A"]) != 1 || len(at["▼B"]) != 1 || at["▼A"][0] == at["▼B"][0] {
		t.Errorf("marked bars %v; want one ▼A and one ▼B at different tokens", at)
	}
	for _, l := range o.XAxis.Data {
		if strings.Contains(l, "◀") {
			t.Errorf("axis label %q carries a mark", l)
		}
	}
}

// TestCompareSummaryTitle: the summary chart's title speaks of a mean over
// the seeds only when there are several; with one it names the seed.
func TestCompareSummaryTitle(t *testing.T) {
	t.Parallel()
	c := comparison(t)
	one, err := c.Seed(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    *trace.Comparison
		want string
	}{{c, "mean over the seeds"}, {one, "(seed 1)"}} {
		ch, err := viz.CompareSummary(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ch.Title, tc.want) {
			t.Errorf("%d seeds: title %q, want it to contain %q", len(tc.c.Seeds), ch.Title, tc.want)
		}
	}
}
