package train

import (
	"math"
	"testing"
)

// FuzzParseCurveCSV feeds arbitrary bytes to the loss-curve reader: it must
// never panic, and what it accepts must survive a write/read round trip.
func FuzzParseCurveCSV(f *testing.F) {
	f.Add([]byte("step,tokens,lr,train_loss,grad_norm,train_eval_loss,val_loss,elapsed_s\n0,0,,,,6.2,6.3,0.0\n1,2048,0.001,5.9,1.2,,,1.5\n"))
	f.Add([]byte(""))
	f.Add([]byte("header\n1,2,3\n"))
	f.Add([]byte("h\nx,0,,,,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, err := ParseCurveCSV(data)
		if err != nil {
			return
		}
		back, err := ParseCurveCSV(CurveCSV(pts))
		if err != nil {
			t.Fatalf("re-reading our own CSV: %v", err)
		}
		if len(back) != len(pts) {
			t.Fatalf("round trip: %d rows, want %d", len(back), len(pts))
		}
		for i := range pts {
			if back[i].Step != pts[i].Step || back[i].Tokens != pts[i].Tokens ||
				math.IsNaN(back[i].ValLoss) != math.IsNaN(pts[i].ValLoss) {
				t.Fatalf("row %d: %+v became %+v", i, pts[i], back[i])
			}
		}
	})
}
