package findings_test

import (
	"math"
	"testing"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz/viztest"
)

// all calls every finding of tr.
func all(tr *trace.Trace) {
	hs := findings.Heads(tr)
	findings.HeadRoles(tr)
	findings.Strongest(hs)
	findings.FarthestReader(hs)
	findings.MeanBeyond(hs)
	if l, ok := findings.LogitLens(tr); ok {
		l.Last()
	}
	findings.PromptPerplexity(tr)
	findings.MostSurprising(tr)
	findings.PromptOutOfDistribution(tr)
	findings.KVWindow(tr)
	findings.Overflow(tr)
	findings.ContinuationLead(tr)
	findings.CacheSpeed(tr)
	findings.FirstResidual(tr)
	findings.Failed(findings.Checks(tr))
}

// FuzzFindings: synthetic runs of any shape, with rows cut short, layers
// of the logit lens or residual norms missing, block averaging claimed
// without a stride and values that are not numbers, never make a finding
// panic.
func FuzzFindings(f *testing.F) {
	f.Add(uint8(2), uint8(2), uint8(6), uint8(3), uint8(64), uint8(0), uint64(1))
	f.Add(uint8(1), uint8(1), uint8(1), uint8(0), uint8(8), uint8(0xff), uint64(2))
	f.Add(uint8(3), uint8(2), uint8(20), uint8(9), uint8(8), uint8(0x15), uint64(3))
	f.Fuzz(func(t *testing.T, nl, nh, prompt, steps, npos, mut uint8, seed uint64) {
		o := viztest.Options{NLayer: int(nl%4) + 1, NHead: int(nh%4) + 1, DHead: 2, Prompt: int(prompt%40) + 1,
			Steps: int(steps % 12), NPositions: int(npos%40) + 4, MaxAttention: int(npos%16) + 2, MaxQueries: int(prompt%9) + 1, Seed: seed,
			Words: []string{"a", "b", "\xe4", "a"}}
		tr := viztest.Trace(o)
		all(tr)
		for si := range tr.Steps {
			st := &tr.Steps[si]
			for l := range st.Attention {
				if mut&1 != 0 {
					st.Attention[l].Summarised, st.Attention[l].KeyStride = true, 0
				}
				for h := range st.Attention[l].Probs {
					for q, row := range st.Attention[l].Probs[h] {
						if mut&2 != 0 && len(row) > 0 {
							st.Attention[l].Probs[h][q] = row[:len(row)/2]
						}
						if mut&4 != 0 && len(row) > 0 {
							row[0] = float32(math.NaN())
						}
					}
				}
			}
			if mut&8 != 0 && len(st.LogitLens) > 1 {
				st.LogitLens[0] = st.LogitLens[0][:0]
			}
			if mut&16 != 0 && len(st.ResidualNorm) > 1 {
				st.ResidualNorm[1] = nil
			}
		}
		if mut&32 != 0 {
			tr.PromptLen = -1
			tr.Scores = nil
		}
		if mut&64 != 0 {
			tr.Model.Config.VocabSize = 0
		}
		all(tr)
	})
}
