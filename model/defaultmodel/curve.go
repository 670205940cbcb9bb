package defaultmodel

import (
	"encoding/csv"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/gptviz/gptviz/model/trace"
)

// LossCurve returns the evaluations recorded in the training run's
// loss.csv: every row with a validation loss (train_eval_loss and
// val_loss, nats/token), in step order.
func LossCurve() ([]trace.LossPoint, error) {
	b, err := fs.ReadFile(FS(), "loss.csv")
	if err != nil {
		return nil, fmt.Errorf("default model: %w", err)
	}
	return parseLossCSV(string(b))
}

// parseLossCSV reads the columns step, tokens, train_eval_loss and
// val_loss of a loss.csv by their header names.
func parseLossCSV(s string) ([]trace.LossPoint, error) {
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("default model: loss.csv: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"step", "tokens", "train_eval_loss", "val_loss"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("default model: loss.csv: no column %s", h)
		}
	}
	var out []trace.LossPoint
	for n, r := range rows[1:] {
		if len(r) != len(rows[0]) || r[col["val_loss"]] == "" {
			continue
		}
		step, e1 := strconv.Atoi(r[col["step"]])
		tok, e2 := strconv.ParseInt(r[col["tokens"]], 10, 64)
		tl, e3 := strconv.ParseFloat(r[col["train_eval_loss"]], 64)
		vl, e4 := strconv.ParseFloat(r[col["val_loss"]], 64)
		for _, e := range []error{e1, e2, e3, e4} {
			if e != nil {
				return nil, fmt.Errorf("default model: loss.csv line %d: %w", n+2, e)
			}
		}
		out = append(out, trace.LossPoint{Step: step, Tokens: tok, TrainLoss: tl, ValLoss: vl})
	}
	return out, nil
}
