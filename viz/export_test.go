package viz

import "github.com/gptviz/gptviz/model/trace"

// StagesForTest returns, for each candidate CompareSteps shows of p, its
// probability after each sampling stage (raw, temperature, top-k, top-p).
func StagesForTest(p *trace.Prediction, temp float64) [][4]float64 {
	s, err := stagesOf(p, temp)
	if err != nil {
		return nil
	}
	var out [][4]float64
	for _, c := range s.cands {
		out = append(out, c.p)
	}
	return out
}
