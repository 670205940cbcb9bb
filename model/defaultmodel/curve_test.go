package defaultmodel

import (
	"math"
	"testing"
)

// TestLossCurve: the shipped curve starts untrained (within 0.5 nats of
// ln vocab_size, the loss of uniform guessing), ends at the run's last
// step well below it, is in step order, and carries the learning rate:
// none at step 0, the schedule's floor (lr × min_lr_frac) at the end.
func TestLossCurve(t *testing.T) {
	t.Parallel()
	c, err := LossCurve()
	if err != nil {
		t.Fatal(err)
	}
	st := recorded(t)
	uniform := math.Log(float64(st.Options.Config.VocabSize))
	if len(c) < 3 || c[0].Step != 0 || math.Abs(c[0].ValLoss-uniform) > 0.5 ||
		c[len(c)-1].Step != st.Step || c[len(c)-1].ValLoss > uniform-2 {
		t.Fatalf("curve: %d points, first %+v, last %+v; want step 0 near ln %d = %.3f and step %d below %.3f",
			len(c), c[0], c[len(c)-1], st.Options.Config.VocabSize, uniform, st.Step, uniform-2)
	}
	for i := 1; i < len(c); i++ {
		if c[i].Step <= c[i-1].Step {
			t.Errorf("point %d: step %d after %d", i, c[i].Step, c[i-1].Step)
		}
	}
	floor := st.Options.LR * st.Options.MinLRFrac
	if c[0].LR != 0 || math.Abs(c[len(c)-1].LR-floor) > 1e-5*floor {
		t.Errorf("learning rate at step 0 %g, at the end %g; want 0 and %g", c[0].LR, c[len(c)-1].LR, floor)
	}
	if _, err := lossPoints([]byte("step,tokens\n1,2\n")); err == nil {
		t.Error("a loss.csv without val_loss: no error")
	}
}
