package trace_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

func TestComparison(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	settings := []model.SamplingParams{{Temperature: 0, TopP: 1}, {Temperature: 1, TopP: 1}}
	compare := func() *trace.Comparison {
		runs, err := model.Compare(context.Background(), m, model.CompareOptions{Prompt: "The light", Steps: 6, Settings: settings, Seeds: []uint64{4, 5}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := trace.NewComparison("gptviz compare", []string{"greedy", "temperature=1"}, runs)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := compare()
	if c.Steps != 6 || c.Prompt != "The light" || len(c.Seeds) != 2 || c.Seeds[1] != 5 || c.Settings[1].Temperature != 1 || c.Settings[0].Spec != "greedy" {
		t.Fatalf("comparison %+v", c)
	}
	for j := range c.Seeds {
		if c.Diverges[0][j] != 0 {
			t.Errorf("the first setting diverges from itself at %d", c.Diverges[0][j])
		}
		step, _ := trace.Divergence(c.Runs[0][j], c.Runs[1][j])
		if c.Diverges[1][j] != step || c.Summaries[1][j] != trace.Summarize(c.Runs[1][j]) {
			t.Errorf("seed %d: diverges %d, want %d; summary %+v", c.Seeds[j], c.Diverges[1][j], step, c.Summaries[1][j])
		}
	}
	for _, tc := range []struct {
		name string
		edit func(c *trace.Comparison)
		want string
	}{
		{"version", func(c *trace.Comparison) { c.Version = 2 }, "version 2"},
		{"no seeds", func(c *trace.Comparison) { c.Seeds = nil }, "settings, seeds: 2 and 0"},
		{"missing row", func(c *trace.Comparison) { c.Runs = c.Runs[:1] }, "runs: 1 rows"},
		{"short row", func(c *trace.Comparison) { c.Runs[1] = c.Runs[1][:1] }, "runs[1]: 1 runs"},
		{"swapped seeds", func(c *trace.Comparison) { c.Seeds[0], c.Seeds[1] = c.Seeds[1], c.Seeds[0] }, "runs[0][0]: seed 4, want 5"},
		{"seed twice", func(c *trace.Comparison) { c.Seeds[1] = c.Seeds[0] }, "seeds[1]: 4 given twice"},
		{"wrong setting", func(c *trace.Comparison) { c.Settings[1].TopK = 3 }, "runs[1][0]: temperature 1, top_k 0"},
		{"wrong prompt", func(c *trace.Comparison) { c.Prompt = "x" }, `runs[0][0]: prompt "The light"`},
		{"divergence out of range", func(c *trace.Comparison) { c.Diverges[1][1] = 7 }, "diverges[1][1]: 7 outside"},
		{"invalid run", func(c *trace.Comparison) { c.Runs[1][1].PromptLen = 0 }, "runs[1][1]: prompt_len 0"},
	} {
		c := compare()
		tc.edit(c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := trace.NewComparison("", []string{"greedy"}, nil); err == nil {
		t.Error("no runs: no error")
	}
	// One seed of the comparison: its runs, summaries and divergence steps.
	one, err := c.Seed(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Seeds) != 1 || one.Seeds[0] != 5 || one.Runs[1][0] != c.Runs[1][1] ||
		one.Summaries[1][0] != c.Summaries[1][1] || one.Diverges[1][0] != c.Diverges[1][1] || one.Command != "" {
		t.Errorf("Seed(1) = %+v", one)
	}
	if _, err := c.Seed(2); err == nil {
		t.Error("Seed(2) of 2 seeds: no error")
	}
}
