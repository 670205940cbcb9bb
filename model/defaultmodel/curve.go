package defaultmodel

import (
	"fmt"
	"io/fs"
	"math"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/model/train"
)

// LossCurve returns the evaluations recorded in the training run's
// loss.csv: every row with a validation loss (train_eval_loss and
// val_loss, nats/token, and the learning rate), in step order.
func LossCurve() ([]trace.LossPoint, error) {
	b, err := fs.ReadFile(FS(), "loss.csv")
	if err != nil {
		return nil, fmt.Errorf("default model: %w", err)
	}
	return lossPoints(b)
}

// lossPoints keeps the evaluated rows of a loss.csv (train.ParseCurveCSV).
func lossPoints(b []byte) ([]trace.LossPoint, error) {
	rows, err := train.ParseCurveCSV(b)
	if err != nil {
		return nil, fmt.Errorf("default model: loss.csv: %w", err)
	}
	var out []trace.LossPoint
	for _, r := range rows {
		if math.IsNaN(r.ValLoss) {
			continue
		}
		p := trace.LossPoint{Step: r.Step, Tokens: r.Tokens, TrainLoss: r.TrainEval, ValLoss: r.ValLoss}
		if !math.IsNaN(r.LR) {
			p.LR = r.LR
		}
		out = append(out, p)
	}
	return out, nil
}
