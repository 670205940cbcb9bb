package trace

import "math"

// Summary is what a comparison of sampling settings shows about one run's
// generated text (the tokens after the prompt), computed from the Trace
// alone.
type Summary struct {
	// Generated is the number of generated tokens.
	Generated int `json:"generated"`
	// MeanLogProb is the mean natural log of P(w_i | w_<i) of the generated
	// tokens under the model at temperature 1 (the raw softmax, whatever
	// the settings sampled with), nats per token; 0 when nothing was
	// generated. A probability that underflowed to 0 counts as the
	// smallest positive float64 (−744.4 nats), as surprisal does.
	MeanLogProb float64 `json:"mean_log_prob"`
	// Perplexity is exp(−MeanLogProb): 1 when every token had probability
	// 1, and the number of equally likely choices the model saw on average;
	// capped at the largest float64, so that it stays finite (and JSON).
	Perplexity float64 `json:"perplexity"`
	// Distinct1 and Distinct2 are the distinct unigrams and bigrams of the
	// generated token ids over all of them (Li et al. 2016, "A
	// Diversity-Promoting Objective Function for Neural Conversation
	// Models"), 0..1; 0 when there are none.
	Distinct1 float64 `json:"distinct_1"`
	Distinct2 float64 `json:"distinct_2"`
	// Repetition is the share of the generated text's 4-grams (of token
	// ids) that repeat an earlier 4-gram of it, 0..1; 0 with fewer than 5
	// generated tokens (one 4-gram or none cannot repeat).
	Repetition float64 `json:"repetition"`
}

// Summarize computes the Summary of tr's generated tokens. The
// probabilities come from each decode step's chosen candidate
// (Prediction.Chosen.Prob); tr must be valid (Validate).
func Summarize(tr *Trace) Summary {
	gen := tr.Tokens[tr.PromptLen:]
	ids := make([]int, len(gen))
	for i, t := range gen {
		ids[i] = t.ID
	}
	s := Summary{Generated: len(ids), Perplexity: 1}
	var sum float64
	var n int
	for _, st := range tr.Steps[1:] {
		if st.Next == nil {
			continue
		}
		sum += logProb(st.Next.Chosen.Prob)
		n++
	}
	if n > 0 {
		s.MeanLogProb = sum / float64(n)
		s.Perplexity = min(math.Exp(-s.MeanLogProb), math.MaxFloat64)
	}
	s.Distinct1 = distinct(ids, 1)
	s.Distinct2 = distinct(ids, 2)
	if d4 := distinct(ids, 4); len(ids) >= 4 {
		s.Repetition = 1 - d4
	}
	return s
}

// logProb is ln p, with p ≤ 0 read as the smallest positive float64
// (2^−1074). Subnormal p go through Log2, which is exact on them.
func logProb(p float64) float64 {
	const minNormal = 0x1p-1022
	switch {
	case p <= 0:
		return -1074 * math.Ln2
	case p < minNormal:
		return math.Log2(p) * math.Ln2
	}
	return math.Log(p)
}

// distinct returns the number of distinct n-grams of ids over the number of
// n-grams, or 0 when there is none.
func distinct(ids []int, n int) float64 {
	total := len(ids) - n + 1
	if total <= 0 {
		return 0
	}
	seen := make(map[[4]int]bool, total)
	for i := 0; i < total; i++ {
		var g [4]int
		copy(g[:], ids[i:i+n])
		seen[g] = true
	}
	return float64(len(seen)) / float64(total)
}

// Divergence returns the first decode step at which a and b chose
// different tokens: k ≥ 1 when the token of step k (at position
// PromptLen+k−1) differs, 0 when their prompts' tokens already differ, and
// ok false when they agree on every step both have.
func Divergence(a, b *Trace) (step int, ok bool) {
	if a.PromptLen != b.PromptLen {
		return 0, true
	}
	for i := 0; i < a.PromptLen; i++ {
		if a.Tokens[i].ID != b.Tokens[i].ID {
			return 0, true
		}
	}
	n := min(len(a.Tokens), len(b.Tokens))
	for i := a.PromptLen; i < n; i++ {
		if a.Tokens[i].ID != b.Tokens[i].ID {
			return i - a.PromptLen + 1, true
		}
	}
	return 0, false
}
