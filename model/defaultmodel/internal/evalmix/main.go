// Command evalmix measures a checkpoint trained on the mixed corpus
// (`gptviz train --corpus mix`, model/defaultmodel/train-mix.sh) for its
// model card, against the targets of issue 13:
//
//   - the tokenizer: tokens of the pangram, share of the 1,000 most frequent
//     corpus words that are one token, share of the 500 most frequent Chinese
//     characters that are one token, bytes per token;
//   - validation cross-entropy per source and overall, in nats/token,
//     nats/byte and bits/byte, scored in windows as the trainer does and
//     with a stride of half a window (stridedLoss), against the Kneser–Ney
//     bigram and trigram of
//     package ngram trained on the run's training paragraphs, each once
//     (corpus.MixBaselineTrain: the repeats the run trains on would weaken
//     Kneser–Ney's discounts);
//   - samples: 10 standard prompts (English and Chinese), greedy (distinct-2,
//     share of words found in the corpus) and at temperature 0.7 with seed 1
//     (whether it falls into a loop within 30 tokens); the Chinese prompts'
//     share of CJK characters and UTF-8 validity, at seed 1 and over
//     seeds 1–40 (T 0.7, alone and with top-k 40);
//   - the attention heads (analyze.Heads) on the first 40 of 8 windows per
//     source's validation text (so the first five sources) and on
//     repeated random tokens.
//
// Usage (from the repository root):
//
//	go run ./model/defaultmodel/internal/evalmix [-quick | -opticks] CHECKPOINT_DIR
//
// -quick scores only the first 1,024 validation tokens of each source (to
// check the tool, not to report). -opticks measures instead a model trained
// on --corpus opticks, such as the default model before issue 13, by the
// validation table's two measures on that corpus.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/defaultmodel/internal/analyze"
	"github.com/gptviz/gptviz/model/ngram"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "evalmix:", err)
		os.Exit(1)
	}
}

// Prompts are the standard prompts: name, text, and whether the
// continuation should be Chinese.
var Prompts = []struct {
	Name, Text string
	Chinese    bool
}{
	{"Newton", "The Rays of Light", false},
	{"Newton 2", "I took a Prism of Glass", false},
	{"Bible", "And God said unto Moses,", false},
	{"Bible 2", "In the beginning", false},
	{"Devil's Dictionary", "LAWYER, n.", false},
	{"Jargon File", "A hacker is", false},
	{"plain English", "The quick brown fox", false},
	{"mixed", "The hacker looked through the Prism and said unto the Lord,", false},
	{"Tang poem (李白《夜思》, validation)", "床前明月光，", true},
	{"Song poem (苏轼, validation)", "东风未肯入东门，", true},
}

func run(args []string) error {
	fs := flag.NewFlagSet("evalmix", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "score only the first 1,024 validation tokens of each source")
	opticks := fs.Bool("opticks", false, "measure a checkpoint trained on --corpus opticks (the default model before issue 13) against the KN trigram on that corpus's split, and nothing else")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: evalmix [-quick | -opticks] CHECKPOINT_DIR")
	}
	args = fs.Args()
	const seed = 1 // the run's --split-seed
	m, err := model.Load(args[0])
	if err != nil {
		return err
	}
	if *opticks {
		return opticksMargins(m, seed)
	}
	tok := m.Tokenizer
	parts, err := corpus.MixSplit(seed)
	if err != nil {
		return err
	}
	trainText, valText, err := corpus.Mix(seed)
	if err != nil {
		return err
	}
	fmt.Printf("# evalmix %s\n\nconfig: %+v\nparameters: %d\n", args[0], m.Config, m.Config.NumParams())

	tokText, err := corpus.MixTokenizerTrain(seed)
	if err != nil {
		return err
	}
	fmt.Println("\n## Tokenizer (on the text it learned from, corpus.MixTokenizerTrain)")
	tokenizerStats(tok, tokText)

	train := tok.Encode(trainText)
	fmt.Printf("\ntraining stream: %d tokens, %d bytes (%.3f bytes/token)\n", len(train), len(trainText), float64(len(trainText))/float64(len(train)))
	V := m.Config.VocabSize
	baseText, err := corpus.MixBaselineTrain(seed)
	if err != nil {
		return err
	}
	base := tok.Encode(baseText)
	fmt.Printf("n-gram baselines: trained on each training paragraph once, %d tokens (corpus.MixBaselineTrain)\n", len(base))
	kn2, err := ngram.NewKneserNey(2, V, base)
	if err != nil {
		return err
	}
	kn3, err := ngram.NewKneserNey(3, V, base)
	if err != nil {
		return err
	}

	fmt.Println("\n## Sources (training tokens include the weight's repeats)")
	fmt.Println("| source | weight (model, tokenizer) | paragraphs train/validation | training tokens | validation tokens | validation bytes/token |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, p := range parts {
		trt := len(tok.Encode(corpus.Join(p.Train)))
		vt := corpus.Join(p.Val)
		vn := len(tok.Encode(vt))
		fmt.Printf("| %s | %d, %d | %d/%d | %d | %d | %.3f |\n", p.Source.Name, p.Source.Weight, p.Source.TokenizerWeight, len(p.Train), len(p.Val), trt*p.Source.Weight, vn, float64(len(vt))/float64(vn))
	}

	fmt.Println("\n## Validation cross-entropy (each source's held-out paragraphs)")
	// The second measure: windows every half window, so that every token
	// after the first window's is predicted from at least n_positions/2
	// tokens of context.
	stride := max(m.Config.NPositions/2, 1)
	fmt.Printf("| text | tokens | bytes | model nats/token | KN bigram | KN trigram | margin over KN trigram | model nats/byte | model bits/byte | KN trigram bits/byte | model, stride %d | margin, stride %d |\n", stride, stride)
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	var heads []int
	for _, p := range append(parts, corpus.MixPart{Source: corpus.MixSource{Name: "all (mixed)"}}) {
		text := corpus.Join(p.Val)
		if p.Source.Name == "all (mixed)" {
			text = valText
		}
		val := tok.Encode(text)
		if *quick {
			val = val[:min(len(val), 1024)]
			text = string(tok.Decode(val))
		}
		if p.Source.Name != "all (mixed)" {
			heads = append(heads, val[:min(len(val), 8*m.Config.NPositions)]...)
		}
		ce, err := modelLoss(m, val)
		if err != nil {
			return err
		}
		ces, err := stridedLoss(m, val, stride)
		if err != nil {
			return err
		}
		c2, c3 := ngram.CrossEntropy(kn2, val), ngram.CrossEntropy(kn3, val)
		// bytes of the scored tokens (every token after the first)
		nb := len(text) - len(tok.Decode(val[:1]))
		n := float64(len(val) - 1)
		fmt.Printf("| %s | %d | %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", p.Source.Name, len(val), len(text), ce, c2, c3, c3-ce,
			ce*n/float64(nb), ce*n/float64(nb)/math.Ln2, c3*n/float64(nb)/math.Ln2, ces, c3-ces)
	}

	corpusWords := wordSet(trainText + "\n\n" + valText)
	fmt.Println("\n## Samples (30 tokens; greedy, and temperature 0.7 with seed 1)")
	var d2sum, wsum float64
	var nEnglish, loops int
	for _, pr := range Prompts {
		for _, p := range []model.SamplingParams{{Temperature: 0, TopP: 1}, {Temperature: 0.7, TopP: 1}} {
			cont, ids, err := continuation(m, pr.Text, p)
			if err != nil {
				return err
			}
			loop := loopAt(ids)
			line := fmt.Sprintf("- %s, T=%g: %q + %q\n  distinct-2 %.2f", pr.Name, p.Temperature, pr.Text, cont, distinct2(ids))
			if pr.Chinese {
				cjk, han := cjkShare(cont)
				line += fmt.Sprintf("; CJK characters %.0f%% (Han %.0f%%); valid UTF-8 %v", 100*cjk, 100*han, utf8.ValidString(cont))
			} else {
				share, nw := inCorpus(cont, corpusWords)
				line += fmt.Sprintf("; words in corpus %.0f%% of %d", 100*share, nw)
				if p.Temperature == 0 {
					wsum += share
				}
			}
			if loop >= 0 {
				line += fmt.Sprintf("; LOOP from token %d", loop)
				if p.Temperature > 0 {
					loops++
				}
			} else {
				line += "; no loop"
			}
			fmt.Println(line)
			if p.Temperature == 0 {
				d2sum += distinct2(ids)
				if !pr.Chinese {
					nEnglish++
				}
			}
		}
	}
	fmt.Printf("\ngreedy: mean distinct-2 %.3f over %d prompts; mean share of words found in the corpus %.3f over %d English prompts; loops at T=0.7: %d of %d\n",
		d2sum/float64(len(Prompts)), len(Prompts), wsum/float64(nEnglish), nEnglish, loops, len(Prompts))

	fmt.Printf("\nChinese prompts over seeds 1–%d (30 tokens each):\n", chineseSeeds)
	for _, pr := range Prompts {
		if !pr.Chinese {
			continue
		}
		for _, p := range ChineseSampling {
			st, err := chineseOverSeeds(m, pr.Text, p)
			if err != nil {
				return err
			}
			fmt.Printf("- %s, %s: mean CJK %.1f%%; below 90%% in %d of %d; invalid UTF-8 in %d of %d\n",
				pr.Name, model.FormatSampling(p), 100*st.MeanCJK, st.Below90, chineseSeeds, st.Invalid, chineseSeeds)
		}
	}

	fmt.Println("\n## Heads (analyze.Heads: the first 40 windows of 8 per source's validation text, in source order, so the first five sources; repeated random tokens)")
	stats, reps, err := analyze.Heads(m, heads, 40, 1)
	if err != nil {
		return err
	}
	fmt.Println("| layer.head | to i−1 | to first | to itself | induction (random) | induction (text) |")
	fmt.Println("|---|---|---|---|---|---|")
	bp, bi := 0, 0
	for i, s := range stats {
		fmt.Printf("| %d.%d | %.3f | %.3f | %.3f | %.3f | %.3f |\n", s.Layer, s.Head, s.PrevToken, s.FirstToken, s.Self, s.Induction, s.InductionText)
		if s.PrevToken > stats[bp].PrevToken {
			bp = i
		}
		if s.Induction > stats[bi].Induction {
			bi = i
		}
	}
	fmt.Printf("\nstrongest previous-token head %d.%d (%.3f); strongest induction head %d.%d (%.3f)\n",
		stats[bp].Layer, stats[bp].Head, stats[bp].PrevToken, stats[bi].Layer, stats[bi].Head, stats[bi].Induction)
	fmt.Printf("repeated random tokens: first copy %.3f nats/token, second copy %.3f\n", reps[0].First, reps[0].Second)
	fmt.Printf("repeated text: first copy %.3f nats/token, second copy %.3f\n", reps[1].First, reps[1].Second)
	return nil
}

// continuation runs prompt through m for 30 tokens with sampling p and
// seed 1, as the model card's samples are made, and returns the generated
// text and token ids.
func continuation(m *model.Model, prompt string, p model.SamplingParams) (string, []int, error) {
	return continuationSeed(m, prompt, p, 1)
}

// continuationSeed is continuation with another seed.
func continuationSeed(m *model.Model, prompt string, p model.SamplingParams, seed uint64) (string, []int, error) {
	tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: prompt, Steps: 30, Sampling: p, Seed: seed})
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	var ids []int
	for _, t := range tr.Tokens {
		if !t.Prompt {
			b.WriteString(t.Text)
			ids = append(ids, t.ID)
		}
	}
	return b.String(), ids, nil
}

// opticksMargins prints the margin of m over the Kneser–Ney trigram on
// Opticks's validation text (the split of the seed), with the trigram
// trained on the training text, scored in windows (modelLoss) and with a
// stride of half a window (stridedLoss): the measures of the validation
// table, for the default model that issue 13 replaced.
func opticksMargins(m *model.Model, seed uint64) error {
	train, val, err := corpus.Opticks(seed)
	if err != nil {
		return err
	}
	kn3, err := ngram.NewKneserNey(3, m.Config.VocabSize, m.Tokenizer.Encode(train))
	if err != nil {
		return err
	}
	ids := m.Tokenizer.Encode(val)
	c3 := ngram.CrossEntropy(kn3, ids)
	fmt.Printf("Opticks validation text, %d tokens; KN trigram %.4f nats/token\n", len(ids), c3)
	for _, stride := range []int{m.Config.NPositions, max(m.Config.NPositions/2, 1)} {
		ce, err := stridedLoss(m, ids, stride)
		if err != nil {
			return err
		}
		fmt.Printf("stride %d: model %.4f, margin over KN trigram %.4f\n", stride, ce, c3-ce)
	}
	return nil
}

// modelLoss is the mean cross-entropy (nats/token) of m on val, in windows
// of n_positions+1 tokens overlapping by one, as train.Trainer.Evaluate
// scores: every token after the first, once.
func modelLoss(m *model.Model, val []int) (float64, error) {
	return stridedLoss(m, val, m.Config.NPositions)
}

// stridedLoss is the mean cross-entropy (nats/token) of m on val, every
// token after the first scored once, from windows of up to n_positions
// input tokens that begin every stride tokens (1 ≤ stride ≤ n_positions):
// each window scores only the tokens no earlier window scored, so every
// token after the first window's is predicted from at least
// n_positions − stride tokens of context. Stride n_positions is modelLoss;
// a smaller stride is the usual way to score a fixed-context model on a
// long text (Hugging Face's "Perplexity of fixed-length models"), where
// non-overlapping windows predict the first tokens of each from almost no
// context while an n-gram always sees its one or two.
func stridedLoss(m *model.Model, val []int, stride int) (float64, error) {
	T, V := m.Config.NPositions, m.Config.VocabSize
	if stride < 1 || stride > T {
		return 0, fmt.Errorf("stride %d outside [1, %d]", stride, T)
	}
	if len(val) < 2 {
		return 0, fmt.Errorf("%d tokens: nothing to predict", len(val))
	}
	var sum float64
	scored := 0 // the last index of val scored so far
	for begin := 0; scored+1 < len(val); begin += stride {
		end := min(begin+T, len(val)-1) // inputs val[begin:end] predict val[begin+1 : end+1]
		logits, err := m.Logits(val[begin:end])
		if err != nil {
			return 0, err
		}
		for t := scored + 1; t <= end; t++ {
			row := logits[(t-begin-1)*V : (t-begin)*V]
			sum += logSumExp(row) - float64(row[val[t]])
		}
		scored = end
	}
	return sum / float64(len(val)-1), nil
}

// logSumExp is ln Σ e^x over row, computed from the row's maximum.
func logSumExp(row []float32) float64 {
	mx := slices.Max(row)
	var z float64
	for _, v := range row {
		z += math.Exp(float64(v - mx))
	}
	return math.Log(z) + float64(mx)
}

// Pangram is the sentence whose token count issue 13 targets (≤ 14).
const Pangram = "The quick brown fox jumps over the lazy dog."

// TokStats are a tokenizer's measurements on a training text.
type TokStats struct {
	Pangram     []string // the pangram's tokens, decoded
	WordsOne    float64  // share of the 1,000 most frequent words (" word") that are one token
	WordsNot    []string // the first 10 of those words that are not
	CharsOne    float64  // share of the 500 most frequent Han characters that are one token
	AllCharsOne float64  // share of all distinct Han characters that are one token
	DistinctHan int      // distinct Han characters in the text
	BytesPerTok float64  // bytes per token of the text
}

// MeasureTokenizer measures tok on the training text tr. Words are runs of
// Latin letters, counted as GPT-2 pieces with their leading space.
func MeasureTokenizer(tok *bpe.Tokenizer, tr string) TokStats {
	var st TokStats
	for _, id := range tok.Encode(Pangram) {
		st.Pangram = append(st.Pangram, string(tok.Decode([]int{id})))
	}
	words := byFreq(strings.FieldsFunc(tr, func(r rune) bool { return !isLatinLetter(r) }))
	nw, one := min(1000, len(words)), 0
	for _, w := range words[:nw] {
		if len(tok.Encode(" "+w)) == 1 {
			one++
		} else if len(st.WordsNot) < 10 {
			st.WordsNot = append(st.WordsNot, w)
		}
	}
	st.WordsOne = float64(one) / float64(max(nw, 1))
	var han []string
	for _, r := range tr {
		if unicode.Is(unicode.Han, r) {
			han = append(han, string(r))
		}
	}
	chars := byFreq(han)
	st.DistinctHan = len(chars)
	nc, cone, allOne := min(500, len(chars)), 0, 0
	for i, c := range chars {
		if len(tok.Encode(c)) == 1 {
			allOne++
			if i < nc {
				cone++
			}
		}
	}
	st.CharsOne = float64(cone) / float64(max(nc, 1))
	st.AllCharsOne = float64(allOne) / float64(max(len(chars), 1))
	st.BytesPerTok = float64(len(tr)) / float64(len(tok.Encode(tr)))
	return st
}

// tokenizerStats prints the tokenizer's measurements on the training text.
func tokenizerStats(tok *bpe.Tokenizer, tr string) {
	st := MeasureTokenizer(tok, tr)
	fmt.Printf("vocabulary %d; training text %.3f bytes/token\n", tok.VocabSize(), st.BytesPerTok)
	fmt.Printf("pangram %q: %d tokens %q (target ≤ 14)\n", Pangram, len(st.Pangram), st.Pangram)
	fmt.Printf("1,000 most frequent corpus words (letters only, with their leading space): %.1f%% one token (target ≥ 75%%); the first that are not: %q\n", 100*st.WordsOne, st.WordsNot)
	fmt.Printf("500 most frequent Chinese characters: %.1f%% one token; all %d distinct: %.1f%% one token\n", 100*st.CharsOne, st.DistinctHan, 100*st.AllCharsOne)
	for _, s := range []string{"床前明月光，疑是地上霜。", "In the beginning God created the heaven and the earth."} {
		fmt.Printf("%q: %d tokens\n", s, len(tok.Encode(s)))
	}
}

func isLatinLetter(r rune) bool { return r < 0x250 && unicode.IsLetter(r) }

// byFreq returns the distinct items, most frequent first (ties in byte
// order).
func byFreq(items []string) []string {
	freq := map[string]int{}
	for _, w := range items {
		freq[w]++
	}
	out := make([]string, 0, len(freq))
	for w := range freq {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if freq[out[i]] != freq[out[j]] {
			return freq[out[i]] > freq[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// wordSet is the set of lower-cased Latin-letter words of text.
func wordSet(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !isLatinLetter(r) }) {
		set[strings.ToLower(w)] = true
	}
	return set
}

// inCorpus returns the share of the words of s (Latin letters, lower-cased)
// found in the corpus, and their number; a last word cut off by the end of
// the continuation counts too.
func inCorpus(s string, words map[string]bool) (float64, int) {
	ws := strings.FieldsFunc(s, func(r rune) bool { return !isLatinLetter(r) })
	if len(ws) == 0 {
		return 0, 0
	}
	n := 0
	for _, w := range ws {
		if words[strings.ToLower(w)] {
			n++
		}
	}
	return float64(n) / float64(len(ws)), len(ws)
}

// distinct2 is the number of distinct adjacent token pairs over the number
// of pairs (Li et al. 2016).
func distinct2(ids []int) float64 {
	if len(ids) < 2 {
		return 0
	}
	set := map[[2]int]bool{}
	for i := 0; i+1 < len(ids); i++ {
		set[[2]int{ids[i], ids[i+1]}] = true
	}
	return float64(len(set)) / float64(len(ids)-1)
}

// loopAt returns the first position from which ids repeat a block of 1 to
// 10 tokens at least three times in a row (a block of one token: at least
// four times), or −1.
func loopAt(ids []int) int {
	for i := range ids {
		for k := 1; k <= 10; k++ {
			reps := 3
			if k == 1 {
				reps = 4
			}
			if i+reps*k > len(ids) {
				continue
			}
			ok := true
			for j := i + k; j < i+reps*k && ok; j++ {
				ok = ids[j] == ids[j-k]
			}
			if ok {
				return i
			}
		}
	}
	return -1
}

// chineseSeeds is how many seeds chineseOverSeeds samples.
const chineseSeeds = 40

// ChineseSampling are the settings the Chinese prompts are sampled with
// over many seeds: temperature 0.7 alone, and with top-k 40 as the
// README's first command samples.
var ChineseSampling = []model.SamplingParams{{Temperature: 0.7, TopP: 1}, {Temperature: 0.7, TopK: 40, TopP: 1}}

// SeedStats summarises the continuations of one prompt over seeds 1 to
// chineseSeeds: the mean CJK share (cjkShare), how many are below 90%
// CJK, and how many are not valid UTF-8 (a byte token sampled out of a
// character's sequence).
type SeedStats struct {
	MeanCJK          float64
	Below90, Invalid int
}

// chineseOverSeeds samples prompt with p for each seed 1 … chineseSeeds.
func chineseOverSeeds(m *model.Model, prompt string, p model.SamplingParams) (SeedStats, error) {
	var st SeedStats
	for seed := uint64(1); seed <= chineseSeeds; seed++ {
		cont, _, err := continuationSeed(m, prompt, p, seed)
		if err != nil {
			return st, err
		}
		cjk, _ := cjkShare(cont)
		st.MeanCJK += cjk / chineseSeeds
		if cjk < 0.9 {
			st.Below90++
		}
		if !utf8.ValidString(cont) {
			st.Invalid++
		}
	}
	return st, nil
}

// cjkShare returns the share of the non-space characters of s that are CJK
// (Han characters, CJK punctuation and full-width forms such as ，), and of
// Han characters alone.
func cjkShare(s string) (cjk, han float64) {
	var n, c, h int
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		n++
		switch {
		case unicode.Is(unicode.Han, r):
			c++
			h++
		case r >= 0x3000 && r <= 0x303F, r >= 0xFF00 && r <= 0xFFEF:
			c++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(c) / float64(n), float64(h) / float64(n)
}
