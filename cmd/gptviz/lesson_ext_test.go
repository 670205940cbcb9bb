package main

import (
	"context"
	"testing"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
)

// TestLessonMeasuresValid: the measurements lessons 4, 6, 7 and 11 ask for,
// recorded on the default model, make a Trace that validates (so a page
// may index them without further checks), and lesson 11 has every
// shipped snapshot plus the final model.
func TestLessonMeasuresValid(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	l, err := lessons.Find("training")
	if err != nil {
		t.Fatal(err)
	}
	s := l.Specs()[0]
	tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: s.Prompt, Steps: 1, Sampling: model.SamplingParams{TopP: 1}})
	if err != nil {
		t.Fatal(err)
	}
	s.Prompt = tr.Prompt
	if err := measure(context.Background(), m, tr, s); err != nil {
		t.Fatal(err)
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := len(tr.Training.Snapshots), len(defaultmodel.Snapshots())+1; got != want {
		t.Errorf("%d snapshots, want %d", got, want)
	}
}
