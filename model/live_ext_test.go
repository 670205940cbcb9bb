package model_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

// traceJSON is tr as JSON with the wall-clock timings left out.
func traceJSON(t *testing.T, tr *trace.Trace) []byte {
	t.Helper()
	c := *tr
	c.Steps = slices.Clone(tr.Steps)
	c.ClearTimings()
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newSampler(t *testing.T, p model.SamplingParams, seed uint64) *model.Sampler {
	t.Helper()
	s, err := model.NewSampler(p, seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLiveEqualsRun: a live run stepped n times with one sampler records
// the Trace that Run records for the same prompt, steps, settings and seed,
// also when the window fills (block and slide) and after undoing steps and
// taking them again (the cache truncated, not recomputed), and in a fork.
func TestLiveEqualsRun(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		prompt   string
		steps    int
		p        model.SamplingParams
		seed     uint64
		overflow model.Overflow
		undo     []int // after step i (index), undo this many steps and redo them
	}{
		{"greedy", "The light", 6, model.SamplingParams{TopP: 1}, 1, "", []int{0, 0, 2, 0, 0, 3}},
		{"sampled", "Once upon a time", 8, model.SamplingParams{Temperature: 0.9, TopK: 40, TopP: 0.95}, 7, "", []int{1, 0, 0, 4, 0, 0, 0, 8}},
		{"block overflow", "Light is reflected from the surface of the glass", 120, model.SamplingParams{Temperature: 1, TopP: 1}, 3, model.OverflowBlock, nil},
		{"slide overflow", "Light is reflected from the surface of the glass", 110, model.SamplingParams{Temperature: 1, TopP: 1}, 3, model.OverflowSlide, nil},
		{"empty prompt", "", 3, model.SamplingParams{Temperature: 1, TopP: 1}, 0, "", []int{0, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := model.Run(context.Background(), m, model.RunOptions{Prompt: tc.prompt, Steps: tc.steps, Sampling: tc.p, Seed: tc.seed, Overflow: tc.overflow})
			if err != nil {
				t.Fatal(err)
			}
			l, err := model.NewLive(m, model.LiveOptions{Prompt: tc.prompt, MaxSteps: tc.steps, Overflow: tc.overflow})
			if err != nil {
				t.Fatal(err)
			}
			s := newSampler(t, tc.p, tc.seed)
			var snaps []*model.Sampler // the sampler before each step
			for i := range tc.steps {
				snaps = append(snaps, s.Clone())
				if _, err := l.Step(s); err != nil {
					t.Fatal(err)
				}
				if i < len(tc.undo) && tc.undo[i] > 0 {
					n := tc.undo[i]
					for range n {
						if err := l.Undo(); err != nil {
							t.Fatalf("undo after step %d: %v", i+1, err)
						}
					}
					s = snaps[i+1-n].Clone()
					snaps = snaps[:i+1-n]
					for j := i + 1 - n; j <= i; j++ {
						snaps = append(snaps, s.Clone())
						if _, err := l.Step(s); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			f, err := l.Fork()
			if err != nil {
				t.Fatal(err)
			}
			settings := trace.Settings{Temperature: tc.p.Temperature, TopK: tc.p.TopK, TopP: tc.p.TopP, Seed: tc.seed}
			for name, run := range map[string]*model.Live{"live": l, "fork": f} {
				got, err := run.Trace(settings)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := traceJSON(t, got), traceJSON(t, want); !bytes.Equal(g, w) {
					t.Errorf("%s: the trace differs from Run's (%d vs %d bytes)", name, len(g), len(w))
				}
			}
		})
	}
}

// TestLiveUndoForceFork: forcing a token appends it with the sampler's
// distribution recorded and the sampler untouched; undo restores the
// logits bit for bit; an eviction step cannot be undone; a fork is
// independent of its parent.
func TestLiveUndoForceFork(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	l, err := model.NewLive(m, model.LiveOptions{Prompt: "The light"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Undo(); err == nil {
		t.Error("undo with no step: no error")
	}
	before := slices.Clone(l.Runner().LastLogits())
	s := newSampler(t, model.SamplingParams{Temperature: 1, TopP: 1}, 5)
	ref := s.Clone()
	res, err := l.Force(s, 42)
	if err != nil {
		t.Fatal(err)
	}
	if res.Chosen != 42 || l.Runner().Tokens()[len(l.Runner().Tokens())-1] != 42 || !l.Forced(1) {
		t.Errorf("forced 42: chosen %d, tokens %v", res.Chosen, l.Runner().Tokens())
	}
	a, _ := s.Sample(before)
	b, _ := ref.Sample(before)
	if a.Chosen != b.Chosen {
		t.Error("Force advanced the sampler")
	}
	if _, err := l.Force(s, m.Config.VocabSize); err == nil {
		t.Error("forcing an id outside the vocabulary: no error")
	}
	if err := l.Undo(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Runner().LastLogits(), before) {
		t.Error("undo back to the prefill: logits differ")
	}
	if l.Runner().Cache().Len != l.PromptLen() {
		t.Errorf("cache holds %d positions after undo, want %d", l.Runner().Cache().Len, l.PromptLen())
	}
	f, err := l.Fork()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := f.Step(s); err != nil {
			t.Fatal(err)
		}
	}
	if l.Steps() != 0 || f.Steps() != 3 {
		t.Errorf("after stepping the fork: parent %d steps, fork %d", l.Steps(), f.Steps())
	}
	// Fill the window (128 positions): the step that evicts cannot be undone.
	for f.Runner().WindowStart() == 0 {
		if _, err := f.Step(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Undo(); !errors.Is(err, model.ErrUndoEvicted) {
		t.Errorf("undo of an eviction step: %v, want ErrUndoEvicted", err)
	}
}

// TestKVCacheTruncate: truncating the cache and appending again gives the
// logits of a fresh run, bit for bit.
func TestKVCacheTruncate(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	l, err := model.NewLive(m, model.LiveOptions{Prompt: "To be or not to be"})
	if err != nil {
		t.Fatal(err)
	}
	s := newSampler(t, model.SamplingParams{TopP: 1}, 0)
	var logits [][]float32
	for range 5 {
		if _, err := l.Step(s); err != nil {
			t.Fatal(err)
		}
		logits = append(logits, slices.Clone(l.Runner().LastLogits()))
	}
	for range 3 {
		if err := l.Undo(); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(l.Runner().LastLogits(), logits[1]) {
		t.Error("after undoing 3 of 5 steps: logits differ from step 2's")
	}
	for i := 2; i < 5; i++ {
		if _, err := l.Step(s); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.Runner().LastLogits(), logits[i]) {
			t.Errorf("step %d again: logits differ", i+1)
		}
	}
}
