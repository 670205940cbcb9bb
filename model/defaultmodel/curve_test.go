package defaultmodel

import "testing"

// TestLossCurve: the shipped curve starts untrained (about ln 384 nats)
// and ends at the final model's validation loss, in step order.
func TestLossCurve(t *testing.T) {
	t.Parallel()
	c, err := LossCurve()
	if err != nil {
		t.Fatal(err)
	}
	if len(c) < 3 || c[0].Step != 0 || c[0].ValLoss < 5 || c[len(c)-1].ValLoss > 2.5 {
		t.Fatalf("curve: %d points, first %+v, last %+v", len(c), c[0], c[len(c)-1])
	}
	for i := 1; i < len(c); i++ {
		if c[i].Step <= c[i-1].Step {
			t.Errorf("point %d: step %d after %d", i, c[i].Step, c[i-1].Step)
		}
	}
	if _, err := parseLossCSV("step,tokens\n1,2\n"); err == nil {
		t.Error("a loss.csv without val_loss: no error")
	}
}
