package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

// TestLessonMeasuresRoundTrip: a trace with every lesson measurement
// survives JSON and validates; each measurement of the wrong shape is
// refused with an error naming it.
func TestLessonMeasuresRoundTrip(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tr, err := model.Run(ctx, m, model.RunOptions{Prompt: "The Rays of Light are", Steps: 1, Sampling: model.SamplingParams{TopP: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Baselines(m, tr, true); err != nil {
		t.Fatal(err)
	}
	if err := model.Inspect(m, tr, &model.DrillAt{Layer: 0, Head: 1, Query: 2}); err != nil {
		t.Fatal(err)
	}
	if err := model.MeasureCache(ctx, m, tr, 3); err != nil {
		t.Fatal(err)
	}
	good, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	back, err := trace.Read(bytes.NewReader(good), "good.json")
	if err != nil {
		t.Fatal(err)
	}
	if back.Attribution.Sum() != tr.Attribution.Sum() || len(back.Drill.Keys) != 3 || len(back.CacheCost.Steps) != 3 {
		t.Error("the measurements did not survive JSON")
	}
	for _, tc := range []struct {
		name string
		edit func(tr *trace.Trace)
		want string
	}{
		{"baselines", func(tr *trace.Trace) { tr.Baselines.Models[0].Surprisal = nil }, "baselines.models[0]"},
		{"attribution", func(tr *trace.Trace) { tr.Attribution.Heads = tr.Attribution.Heads[:1] }, "attribution"},
		{"attribution token", func(tr *trace.Trace) { tr.Attribution.Token = -1 }, "attribution"},
		{"drill keys", func(tr *trace.Trace) { tr.Drill.Keys = tr.Drill.Keys[:1] }, "drill"},
		{"drill query", func(tr *trace.Trace) { tr.Drill.Query = 1 << 20 }, "drill"},
		{"drill layer", func(tr *trace.Trace) { tr.Drill.Layer = 99 }, "drill"},
		{"cache cost", func(tr *trace.Trace) { tr.CacheCost.Steps[0].Context = 0 }, "cache_cost"},
		{"training", func(tr *trace.Trace) { tr.Training = &trace.Training{Snapshots: []trace.Snapshot{{Step: 1}}} }, "training.snapshots[0]"},
		{"training tokens", func(tr *trace.Trace) { tr.Training = &trace.Training{TrainTokens: -1} }, "train_tokens"},
	} {
		bad, err := trace.Read(bytes.NewReader(good), "t.json")
		if err != nil {
			t.Fatal(err)
		}
		tc.edit(bad)
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
}
