package lessons

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/viz"
)

// Lesson 2, tokens: characters, UTF-8 bytes and tokens of a prompt.
func init() {
	runValue("chars", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return itoa(utf8.RuneCountInString(tr.Prompt)), nil
	})
	runValue("bytes", func(e *Env, a *Args, tr *trace.Trace) (string, error) { return itoa(len(tr.Prompt)), nil })
	// The characters that are not Han, quoted: "“。”".
	runValue("non-hanzi", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		var q []string
		for _, r := range tr.Prompt {
			if !unicode.Is(unicode.Han, r) {
				q = append(q, "“"+string(r)+"”")
			}
		}
		return strings.Join(q, ", "), nil
	})
	runFact("has-non-hanzi", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		return len(hanzi(tr.Prompt)) < utf8.RuneCountInString(tr.Prompt), nil
	})
	runValue("hanzi", func(e *Env, a *Args, tr *trace.Trace) (string, error) { return itoa(len(hanzi(tr.Prompt))), nil })
	runValue("tokens-per-char", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return num(float64(tr.PromptLen)/float64(max(1, utf8.RuneCountInString(tr.Prompt))), 3), nil
	})
	runValue("positions-left", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return itoa(max(0, tr.Model.Config.NPositions-tr.PromptLen)), nil
	})
	runValue("byte-tokens", func(e *Env, a *Args, tr *trace.Trace) (string, error) { return itoa(byteTokens(tr)), nil })
	// The first Chinese character of the prompt, its UTF-8 bytes in hex,
	// and how many tokens hold a piece of it.
	runValue("first-hanzi", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		h, err := firstHanzi(tr)
		return h.char, err
	})
	runValue("first-hanzi-bytes", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		h, err := firstHanzi(tr)
		return h.hex, err
	})
	runValue("first-hanzi-tokens", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		h, err := firstHanzi(tr)
		return itoa(h.tokens), err
	})
	runValue("ppl", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		ppl, n := viz.Perplexity(tr.Scores)
		if n == 0 {
			return "", fmt.Errorf("the run scored no tokens")
		}
		return num(ppl, 4), nil
	})
	runValue("mean-surprisal", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		m, n := meanSurprisal(tr.Scores)
		if n == 0 {
			return "", fmt.Errorf("the run scored no tokens")
		}
		return num(m, 3), nil
	})
	// The same in nats (Score.Surprisal is recorded in bits).
	runValue("mean-surprisal-nats", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		m, n := meanSurprisal(tr.Scores)
		if n == 0 {
			return "", fmt.Errorf("the run scored no tokens")
		}
		return num(m*math.Ln2, 3), nil
	})
	runValue("uniform-nats", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return num(math.Log(float64(tr.Model.Config.VocabSize)), 3), nil
	})
	// A uniform guess over the vocabulary costs log2(vocab_size) bits: a
	// mean surprisal above it is worse than guessing.
	runValue("uniform-bits", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return num(math.Log2(float64(tr.Model.Config.VocabSize)), 3), nil
	})
	runFact("worse-than-uniform", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		m, n := meanSurprisal(tr.Scores)
		return n > 0 && m > math.Log2(float64(tr.Model.Config.VocabSize)), nil
	})
	// Bars too short to see in the prompt-probs chart: P below TinyProb.
	runValue("tiny-probs", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		n, _, _ := tinyProbs(tr.Scores)
		return itoa(n), nil
	})
	runValue("scored", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		_, n := meanSurprisal(tr.Scores)
		return itoa(n), nil
	})
	runValue("min-prob", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		_, _, m := tinyProbs(tr.Scores)
		return sci(m), nil
	})
	runFact("mostly-tiny", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		n, all, _ := tinyProbs(tr.Scores)
		return all > 0 && 2*n > all, nil
	})
	values["tiny-prob"] = func(e *Env, a *Args) (string, error) { return num(TinyProb, 2), nil }
	runFact("more-tokens-than-chars", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		return tr.PromptLen > utf8.RuneCountInString(tr.Prompt), nil
	})
	// Most of the prompt's tokens are single raw bytes of a multi-byte
	// character: the model reads the text byte by byte.
	runFact("bytewise", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		return 2*byteTokens(tr) > tr.PromptLen, nil
	})
	runFact("hanzi-split", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		h, err := firstHanzi(tr)
		return h.tokens > 1, err
	})
}

// hanzi returns the Han characters of s.
func hanzi(s string) []rune {
	var out []rune
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			out = append(out, r)
		}
	}
	return out
}

// byteTokens counts the prompt tokens that are not whole UTF-8 text (a
// piece of a multi-byte character).
func byteTokens(tr *trace.Trace) int {
	n := 0
	for _, t := range tr.Tokens[:tr.PromptLen] {
		if !utf8.ValidString(t.Text) {
			n++
		}
	}
	return n
}

type hanziInfo struct {
	char, hex string
	tokens    int
}

// firstHanzi finds the prompt's first Han character and the tokens that
// hold its bytes (token texts laid end to end are the prompt's bytes).
func firstHanzi(tr *trace.Trace) (hanziInfo, error) {
	start := strings.IndexFunc(tr.Prompt, func(r rune) bool { return unicode.Is(unicode.Han, r) })
	if start < 0 {
		return hanziInfo{}, fmt.Errorf("the prompt has no Chinese character")
	}
	r, size := utf8.DecodeRuneInString(tr.Prompt[start:])
	var hex []string
	for _, b := range []byte(tr.Prompt[start : start+size]) {
		hex = append(hex, fmt.Sprintf("%02X", b))
	}
	h := hanziInfo{char: string(r), hex: strings.Join(hex, " ")}
	off := 0
	for _, t := range tr.Tokens[:tr.PromptLen] {
		end := off + len(t.Text)
		if end > start && off < start+size {
			h.tokens++
		}
		off = end
	}
	if off != len(tr.Prompt) {
		return hanziInfo{}, fmt.Errorf("the tokens' bytes (%d) are not the prompt's (%d)", off, len(tr.Prompt))
	}
	return h, nil
}

// meanSurprisal is the mean surprisal in bits of the scored tokens.
// TinyProb is the probability under which lesson 2 calls a bar of the
// prompt-probs chart (0..1 axis) too short to see.
const TinyProb = 0.01

// tinyProbs counts the scored tokens with P < TinyProb, of all scored
// tokens, and the smallest P.
func tinyProbs(scores []trace.Score) (n, all int, smallest float64) {
	smallest = 1
	for _, s := range scores {
		if s.NoContext {
			continue
		}
		all++
		if s.Prob < TinyProb {
			n++
		}
		smallest = min(smallest, s.Prob)
	}
	return n, all, smallest
}

func meanSurprisal(scores []trace.Score) (float64, int) {
	var sum float64
	n := 0
	for _, s := range scores {
		if !s.NoContext {
			sum += s.Surprisal
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}
