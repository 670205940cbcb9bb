// Command analyze prints the measured facts of a checkpoint for its model
// card: attention-head statistics, in-context copying, baselines and sample
// generations. Usage: go run ./model/defaultmodel/internal/analyze/cmd DIR
package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/defaultmodel/internal/analyze"
	"github.com/gptviz/gptviz/model/ngram"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "analyze:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: analyze CHECKPOINT_DIR")
	}
	m, err := model.Load(args[0])
	if err != nil {
		return err
	}
	trainText, valText, err := corpus.Opticks(1)
	if err != nil {
		return err
	}
	tok := m.Tokenizer
	train, val := tok.Encode(trainText), tok.Encode(valText)
	fmt.Printf("config: %+v\nparameters: %d\n", m.Config, m.Config.NumParams())
	fmt.Printf("tokens: train %d, validation %d; bytes/token %.3f\n", len(train), len(val), float64(len(valText))/float64(len(val)))

	// Validation loss of the loaded weights with the engine, on the windows
	// train.Trainer.Evaluate uses: SeqLen+1 tokens, overlapping by one.
	T := m.Config.NPositions
	var sum float64
	var cnt int
	for off := 0; off+1 < len(val); off += T {
		w := val[off:min(off+T+1, len(val))]
		logits, err := m.Logits(w[:len(w)-1])
		if err != nil {
			return err
		}
		V := m.Config.VocabSize
		for i := 0; i+1 < len(w); i++ {
			row := logits[i*V : (i+1)*V]
			mx := row[0]
			for _, v := range row {
				mx = max(mx, v)
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v - mx))
			}
			sum += math.Log(z) - float64(row[w[i+1]]-mx)
			cnt++
		}
	}
	fmt.Printf("validation loss (engine, these weights): %.4f nats/token over %d tokens\n", sum/float64(cnt), cnt)

	rs, err := ngram.Baselines(m.Config.VocabSize, train, val)
	if err != nil {
		return err
	}
	fmt.Println("\n## Baselines (validation, nats/token)")
	for _, r := range rs {
		k := ""
		if r.K > 0 {
			k = fmt.Sprintf(" (k=%g)", r.K)
		}
		fmt.Printf("| %s%s | %.4f |\n", r.Name, k, r.CrossEntropy)
	}

	stats, copyLoss, err := analyze.Heads(m, val, 40, 1)
	if err != nil {
		return err
	}
	fmt.Println("\n## Heads (mean attention probability)")
	fmt.Println("| layer | head | to previous token | to first token | to itself | induction, repeated random tokens | induction, repeated text |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, s := range stats {
		fmt.Printf("| %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f |\n", s.Layer, s.Head, s.PrevToken, s.FirstToken, s.Self, s.Induction, s.InductionText)
	}
	fmt.Printf("\nrepeated random tokens: loss on first copy %.3f nats/token, on second copy %.3f\n", copyLoss[0].First, copyLoss[0].Second)
	fmt.Printf("repeated text: loss on first copy %.3f nats/token, on second copy %.3f\n", copyLoss[1].First, copyLoss[1].Second)

	fmt.Println("\n## Samples")
	for _, c := range []struct {
		prompt string
		p      model.SamplingParams
		seed   uint64
	}{
		{"The Rays of Light", model.SamplingParams{Temperature: 0, TopP: 1}, 1},
		{"If the Sun's Light", model.SamplingParams{Temperature: 0, TopP: 1}, 1},
		{"The Rays of Light", model.SamplingParams{Temperature: 0.8, TopK: 40, TopP: 1}, 1},
		{"I took a Prism of Glass", model.SamplingParams{Temperature: 0.8, TopK: 40, TopP: 1}, 2},
		{"And these Colours", model.SamplingParams{Temperature: 1, TopP: 0.9}, 3},
	} {
		tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: c.prompt, Steps: 60, Sampling: c.p, Seed: c.seed})
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, t := range tr.Tokens {
			b.WriteString(t.Text)
		}
		fmt.Printf("- prompt %q, temperature %g, top-k %d, top-p %g, seed %d:\n  %q\n", c.prompt, c.p.Temperature, c.p.TopK, c.p.TopP, c.seed, b.String())
	}
	return nil
}
