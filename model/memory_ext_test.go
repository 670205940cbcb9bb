package model_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
)

// TestRunKVCacheSizedForRun: with n_positions 2^27 a 3-step run allocated
// the whole context window's KV cache up front (16.9 GB for a one-layer
// model; 824 GB for the default model's shape). The cache now holds only
// the run's positions.
func TestRunKVCacheSizedForRun(t *testing.T) {
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	huge := *m
	huge.Config.NPositions = 1 << 27 // the run uses the first few rows of wpe only
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := model.Run(context.Background(), &huge, model.RunOptions{Prompt: "The light", Steps: 3, Sampling: model.SamplingParams{TopP: 1}}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 256<<20 {
		t.Errorf("a 3-step run allocated %d MB", got>>20)
	}
}
