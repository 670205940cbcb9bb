// Package analyze measures what the attention heads of a GPT-2 do, with the
// engine of package model, for the default model's card: how much each head
// attends to the previous token, and how much it behaves like an induction
// head on a repeated random token sequence (Olsson et al. 2022, "In-context
// Learning and Induction Heads").
package analyze

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gptviz/gptviz/model"
)

// HeadStats are one head's mean attention probabilities.
type HeadStats struct {
	Layer, Head int
	// PrevToken is the mean attention from position i to i−1 (over i ≥ 1)
	// on natural text.
	PrevToken float64
	// FirstToken is the mean attention to position 0 (over i ≥ 1) on natural
	// text: the "attention sink".
	FirstToken float64
	// Self is the mean attention from i to itself on natural text.
	Self float64
	// Induction is the mean attention, in the second copy of a repeated
	// random sequence, from the current token to the token that followed its
	// previous occurrence.
	Induction float64
	// InductionText is the same on a repeated passage of natural text.
	InductionText float64
}

// Repeat are losses (nats/token) on the first and second copy of a
// repeated sequence: a model that copies in context predicts the second
// copy far better.
type Repeat struct {
	First, Second float64
}

// recorder keeps the attention of one prefill, [layer][head][query][key].
type recorder struct {
	att [][]float32
	nq  int
}

func (r *recorder) BeginForward(info model.ForwardInfo, _ []float32) { r.nq = info.NQuery }
func (r *recorder) Layer(info model.ForwardInfo, l int, rec model.LayerRecord) {
	for len(r.att) <= l {
		r.att = append(r.att, nil)
	}
	r.att[l] = append(r.att[l][:0], rec.Attention...)
}
func (r *recorder) EndForward(model.ForwardInfo, []float32, []float32) {}
func (r *recorder) Sampled(int, *model.SampleResult)                   {}

// attention runs a prefill of ids and returns its attention probabilities,
// [layer][head·T·T] with T = len(ids).
func attention(m *model.Model, ids []int) ([][]float32, error) {
	s, err := model.NewSampler(model.SamplingParams{TopP: 1}, 1)
	if err != nil {
		return nil, err
	}
	rec := &recorder{}
	if err := model.NewRunner(m, s, rec).Prefill(ids); err != nil {
		return nil, err
	}
	return rec.att, nil
}

// Heads measures every head: PrevToken, FirstToken and Self over windows of
// n_positions tokens taken from text (at most maxWindows of them), and
// Induction on a sequence of half-window random tokens (ids below
// vocab_size−1, drawn with seed) repeated twice, and InductionText on the
// first half-window of text repeated twice. It also returns the losses on
// the two copies of each (random, text).
func Heads(m *model.Model, text []int, maxWindows int, seed uint64) ([]HeadStats, [2]Repeat, error) {
	c := m.Config
	T := c.NPositions
	H, L := c.NHead, c.NLayer
	stats := make([]HeadStats, L*H)
	for l := 0; l < L; l++ {
		for h := 0; h < H; h++ {
			stats[l*H+h].Layer, stats[l*H+h].Head = l, h
		}
	}
	nw := 0
	for off := 0; off+T <= len(text) && nw < maxWindows; off += T {
		att, err := attention(m, text[off:off+T])
		if err != nil {
			return nil, [2]Repeat{}, err
		}
		for l := 0; l < L; l++ {
			for h := 0; h < H; h++ {
				a := att[l][h*T*T:]
				var prev, first, self float64
				for q := 1; q < T; q++ {
					prev += float64(a[q*T+q-1])
					first += float64(a[q*T])
					self += float64(a[q*T+q])
				}
				s := &stats[l*H+h]
				s.PrevToken += prev / float64(T-1)
				s.FirstToken += first / float64(T-1)
				s.Self += self / float64(T-1)
			}
		}
		nw++
	}
	if nw == 0 {
		return nil, [2]Repeat{}, fmt.Errorf("analyze: text of %d tokens is shorter than one window (%d)", len(text), T)
	}
	for i := range stats {
		stats[i].PrevToken /= float64(nw)
		stats[i].FirstToken /= float64(nw)
		stats[i].Self /= float64(nw)
	}

	// Induction: [r_0 … r_{n−1}] [r_0 … r_{n−1}], for random r and for text.
	n := T / 2
	r := rand.New(rand.NewPCG(seed, 2))
	random := make([]int, n)
	for i := range random {
		random[i] = r.IntN(c.VocabSize - 1)
	}
	var reps [2]Repeat
	for k, half := range [][]int{random, text[:n]} {
		seq := append(append([]int(nil), half...), half...)
		att, err := attention(m, seq)
		if err != nil {
			return nil, reps, err
		}
		N := 2 * n
		for l := 0; l < L; l++ {
			for h := 0; h < H; h++ {
				a := att[l][h*N*N:]
				var ind float64
				for q := n; q < N-1; q++ {
					ind += float64(a[q*N+q-n+1])
				}
				if k == 0 {
					stats[l*H+h].Induction = ind / float64(N-1-n)
				} else {
					stats[l*H+h].InductionText = ind / float64(N-1-n)
				}
			}
		}
		scores, err := m.Score(seq)
		if err != nil {
			return nil, reps, err
		}
		var loss [2]float64
		var cnt [2]int
		for _, s := range scores {
			part := 0
			if s.Position >= n+1 { // predictable from the earlier occurrence
				part = 1
			} else if s.Position >= n {
				continue
			}
			loss[part] += s.Surprisal * math.Ln2 // bits → nats
			cnt[part]++
		}
		reps[k] = Repeat{First: loss[0] / float64(cnt[0]), Second: loss[1] / float64(cnt[1])}
	}
	return stats, reps, nil
}
