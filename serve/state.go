package serve

import (
	"github.com/gptviz/gptviz/model/trace"
)

// stateJSON is a session as the page sees it after each action.
type stateJSON struct {
	ID         string      `json:"id"`
	Prompt     string      `json:"prompt"`
	PromptLen  int         `json:"prompt_len"`
	Tokens     []tokenJSON `json:"tokens"`
	Steps      int         `json:"steps"`
	MaxSteps   int         `json:"max_steps"`
	NPositions int         `json:"n_positions"`
	NLayer     int         `json:"n_layer"`
	NHead      int         `json:"n_head"`
	// WindowStart is the absolute position of the oldest token in the
	// context window; tokens before it were evicted.
	WindowStart int     `json:"window_start"`
	Temperature float64 `json:"temperature"`
	TopK        int     `json:"top_k"`
	TopP        float64 `json:"top_p"`
	Seed        uint64  `json:"seed"`
	Layer       int     `json:"layer"`
	Head        int     `json:"head"`
	// Reproducible: every step sampled with one setting, none forced, so
	// `gptviz report` reruns it (Command).
	Reproducible bool `json:"reproducible"`
	// Candidates for the next token under the current settings, most
	// probable first: P (softmax of the logits) and the probability the
	// sampler would draw it with after temperature, top-k and top-p.
	Candidates []candJSON `json:"candidates"`
	Entropy    float64    `json:"entropy_bits"`
	// Last is what the last forward pass (the prefill, or the last step)
	// did for the newest token.
	Last      lastJSON  `json:"last"`
	Evictions []evJSON  `json:"evictions"`
	KV        kvJSON    `json:"kv"`
	Chosen    *candJSON `json:"chosen,omitempty"` // how the last step's token was chosen
}

type candJSON struct {
	ID         int     `json:"id"`
	Display    string  `json:"display"`
	Prob       float64 `json:"prob"`
	SampleProb float64 `json:"sample_prob"`
	RemovedBy  string  `json:"removed_by,omitempty"`
}

type evJSON struct {
	Step     int    `json:"step"`
	Position int    `json:"position"`
	Display  string `json:"display"`
}

type lensJSON struct {
	Display string  `json:"display"`
	Prob    float64 `json:"prob"`
}

// lastJSON is the newest token's row of the last forward pass.
type lastJSON struct {
	Step int    `json:"step"`
	Kind string `json:"kind"`
	// Attention is the newest token's attention over the keys of the
	// window, [n_layer][n_head][keys] (averaged over KeyStride keys when
	// the window is longer than the trace records in full).
	Attention [][][]float32 `json:"attention"`
	KeyStride int           `json:"key_stride"`
	Lens      []lensJSON    `json:"lens"` // per layer: the logit lens's top token
}

// kvJSON is the KV cache now: its size and the chosen layer and head's
// newest rows.
type kvJSON struct {
	Positions int         `json:"positions"`
	Bytes     int64       `json:"bytes"`
	Keys      [][]float32 `json:"keys"`   // the last ≤ kvRows rows, [row][d_head]
	Values    [][]float32 `json:"values"` // the same rows
	From      int         `json:"from"`   // absolute position of Keys[0]
}

// kvRows is how many of the newest cache rows a state carries.
const kvRows = 16

// stateOf returns ss's state (ss held locked).
func (s *Server) stateOf(ss *session) (*stateJSON, error) {
	l := ss.live
	run := l.Runner()
	c := s.opt.Model.Config
	t := s.opt.Model.Tokenizer
	_, repro := ss.reproducible()
	st := &stateJSON{ID: ss.id, Prompt: ss.prompt, PromptLen: l.PromptLen(), Steps: l.Steps(), MaxSteps: s.lim.Steps,
		NPositions: c.NPositions, NLayer: c.NLayer, NHead: c.NHead, WindowStart: run.WindowStart(),
		Temperature: ss.params.Temperature, TopK: ss.params.TopK, TopP: ss.params.TopP, Seed: ss.seed,
		Layer: ss.layer, Head: ss.head, Reproducible: repro, Candidates: []candJSON{}, Evictions: []evJSON{}}
	for i, tok := range l.Tokens() {
		st.Tokens = append(st.Tokens, tokenJSON{ID: tok.ID, Display: tok.Display, Prompt: tok.Prompt,
			Forced: i >= l.PromptLen() && l.Forced(i-l.PromptLen()+1), Evicted: i < run.WindowStart()})
	}
	// The next token's candidates, from a copy of the sampler (the run's
	// random stream does not move).
	res, err := ss.sampler.Clone().Sample(run.LastLogits())
	if err != nil {
		return nil, err
	}
	st.Entropy = finite(res.Entropy())
	probs := res.Probs()
	for _, id := range res.Ranked(10) {
		st.Candidates = append(st.Candidates, candJSON{ID: int(id), Display: t.Display(int(id)), Prob: finite(probs[id]),
			SampleProb: finite(res.Final(int(id))), RemovedBy: res.RemovedBy(int(id))})
	}
	for _, e := range run.Evictions() {
		st.Evictions = append(st.Evictions, evJSON{Step: e.Step, Position: e.Position, Display: t.Display(e.ID)})
	}
	last := l.LastStep()
	st.Last = lastJSON{Step: last.Index, Kind: string(last.Kind), KeyStride: 1}
	for _, la := range last.Attention {
		heads := make([][]float32, len(la.Probs))
		for h, rows := range la.Probs {
			if len(rows) > 0 {
				heads[h] = rows[len(rows)-1]
			}
		}
		st.Last.Attention = append(st.Last.Attention, heads)
		if la.KeyStride > 1 {
			st.Last.KeyStride = la.KeyStride
		}
	}
	for _, rows := range last.LogitLens {
		if len(rows) > 0 {
			e := rows[len(rows)-1]
			st.Last.Lens = append(st.Last.Lens, lensJSON{Display: e.Display, Prob: finite(e.Prob)})
		}
	}
	if p := last.Next; p != nil && last.Kind != trace.Prefill {
		st.Chosen = &candJSON{ID: p.Chosen.ID, Display: p.Chosen.Display, Prob: finite(p.Chosen.Prob), SampleProb: finite(p.Chosen.SampleProb), RemovedBy: p.Chosen.RemovedBy}
	}
	kc := run.Cache()
	st.KV = kvJSON{Positions: kc.Len, Bytes: kc.Bytes()}
	k, v := kc.Head(ss.layer, ss.head)
	from := max(kc.Len-kvRows, 0)
	st.KV.Keys, st.KV.Values = rows(k, kc.DHead)[from:], rows(v, kc.DHead)[from:]
	st.KV.From = run.WindowStart() + from
	return st, nil
}
