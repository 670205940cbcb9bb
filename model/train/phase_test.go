package train

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func f64(v float64) *float64 { return &v }

// TestResumeWithChangesRecordsPhases: a resumed run may lower its dropout
// and repeat fractions for the steps to come; the trainer then trains with
// the new values, train_state.json records the run's phases (the starting
// values from step 0, the new ones from the change), a later resume
// returns them, and a second change adds a phase.
func TestResumeWithChangesRecordsPhases(t *testing.T) {
	t.Parallel()
	o := tinyOptions(4)
	o.Dropout, o.RepeatFrac, o.RandomRepeatFrac = 0.2, 0.3, 0.2
	dir := t.TempDir()
	tr, err := New(o, ckptData())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), tr, RunOptions{OutDir: dir, EvalEvery: 2}); err != nil {
		t.Fatal(err)
	}
	if st, err := ReadState(dir); err != nil || st.Phases != nil {
		t.Fatalf("unchanged run: phases %v, %v; want none", st.Phases, err)
	}

	same, ro, err := ResumeWith(dir, ckptData(), Changes{Steps: 6, Dropout: f64(0.2)})
	if err != nil || ro.Phases != nil || same.Opts.Dropout != 0.2 {
		t.Fatalf("resume with the same dropout: phases %v, %v", ro.Phases, err)
	}

	res, ro, err := ResumeWith(dir, ckptData(), Changes{Steps: 6, Dropout: f64(0.1), RandomRepeatFrac: f64(0.1)})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Opts; got.Dropout != 0.1 || got.RandomRepeatFrac != 0.1 || got.RepeatFrac != 0.3 || got.Steps != 6 {
		t.Fatalf("resumed options: dropout %g, random %g, repeat %g, steps %d", got.Dropout, got.RandomRepeatFrac, got.RepeatFrac, got.Steps)
	}
	want := []Phase{{0, 0.2, 0.3, 0.2}, {4, 0.1, 0.3, 0.1}}
	if !slices.Equal(ro.Phases, want) {
		t.Fatalf("phases %v, want %v", ro.Phases, want)
	}
	if _, err := Run(context.Background(), res, ro); err != nil {
		t.Fatal(err)
	}
	st, err := ReadState(dir)
	if err != nil || !slices.Equal(st.Phases, want) || st.Options.Dropout != 0.1 {
		t.Fatalf("recorded phases %v, dropout %g, %v; want %v, 0.1", st.Phases, st.Options.Dropout, err, want)
	}

	_, ro, err = ResumeWith(dir, ckptData(), Changes{Steps: 8, RepeatFrac: f64(0)})
	want = append(want, Phase{6, 0.1, 0, 0.1})
	if err != nil || !slices.Equal(ro.Phases, want) {
		t.Fatalf("second change: phases %v, %v; want %v", ro.Phases, err, want)
	}
	if _, _, err := ResumeWith(dir, ckptData(), Changes{Dropout: f64(1)}); err == nil || !strings.Contains(err.Error(), "dropout") {
		t.Errorf("dropout 1: %v, want an error naming the dropout", err)
	}
}

// TestResumeWithSameStepChange: a change resumed at the step of the last
// phase replaces that phase, and going back to the values before it drops
// it (the run then has trained with them throughout).
func TestResumeWithSameStepChange(t *testing.T) {
	t.Parallel()
	st := State{Options: tinyOptions(10), Step: 4, Phases: []Phase{{0, 0.2, 0, 0}, {4, 0.1, 0, 0}}}
	st.Options.Dropout = 0.1
	if got, want := st.change(Changes{Dropout: f64(0.05)}), []Phase{{0, 0.2, 0, 0}, {4, 0.05, 0, 0}}; !slices.Equal(got, want) {
		t.Errorf("change at the last phase's step: %v, want %v", got, want)
	}
	st.Options.Dropout = 0.1
	if got := st.change(Changes{Dropout: f64(0.2)}); got != nil {
		t.Errorf("back to the starting values at the last phase's step: %v, want none", got)
	}
}
