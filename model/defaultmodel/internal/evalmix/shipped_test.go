package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/defaultmodel"
)

// TestShippedOpticksPerByte pins the model card's Opticks figure against
// issue 13's target: on the held-out Opticks paragraphs (split seed 1, the
// same 63 as every earlier default model) the embedded model scores below
// 1.024 nats/byte, the Opticks-only default's figure (card: 0.948).
func TestShippedOpticksPerByte(t *testing.T) {
	t.Parallel()
	const target = 1.024
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	parts, err := corpus.MixSplit(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if p.Source.Name != "opticks" {
			continue
		}
		text := corpus.Join(p.Val)
		ids := m.Tokenizer.Encode(text)
		ce, err := modelLoss(m, ids)
		if err != nil {
			t.Fatal(err)
		}
		// modelLoss scores every token but the first: per byte of those
		// tokens, as evalmix reports it.
		nb := len(text) - len(m.Tokenizer.Decode(ids[:1]))
		perByte := ce * float64(len(ids)-1) / float64(nb)
		t.Logf("opticks: %d tokens, %d bytes, %.4f nats/token, %.4f nats/byte", len(ids), len(text), ce, perByte)
		if perByte >= target {
			t.Errorf("opticks: %.4f nats/byte, want < %.3f", perByte, target)
		}
		return
	}
	t.Fatal("no opticks source in corpus.MixSplit")
}

// TestShippedSamples pins the model card's sample facts for the 10
// standard prompts (30 tokens, seed 1): at temperature 0.7 none loops and
// the English ones are valid UTF-8; greedy, both Chinese poem lines
// continue in at least 90% CJK characters and valid UTF-8; and over seeds
// 1–40 at temperature 0.7 with top-k 40 (the README's setting) each
// continues in at least 95% CJK characters on average, with at most 6 of
// the 40 not valid UTF-8 (the card reports 4 and 1). Sampled at
// temperature 0.7 without top-k, 5 and 13 of the 40 seeds give invalid
// UTF-8 (a byte token out of its character), seed 1 among them for 苏轼's
// line: the card reports it; no test pins it.
func TestShippedSamples(t *testing.T) {
	t.Parallel()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range Prompts {
		cont, ids, err := continuation(m, pr.Text, model.SamplingParams{Temperature: 0.7, TopP: 1})
		if err != nil {
			t.Fatal(err)
		}
		if at := loopAt(ids); at >= 0 {
			t.Errorf("%s, T 0.7: loops from token %d: %q", pr.Name, at, cont)
		}
		if !pr.Chinese {
			if !utf8.ValidString(cont) {
				t.Errorf("%s, T 0.7: invalid UTF-8 %q", pr.Name, cont)
			}
			continue
		}
		cont, _, err = continuation(m, pr.Text, model.SamplingParams{Temperature: 0, TopP: 1})
		if err != nil {
			t.Fatal(err)
		}
		if cjk, _ := cjkShare(strings.TrimSpace(cont)); cjk < 0.9 || !utf8.ValidString(cont) {
			t.Errorf("%s, greedy: %.0f%% CJK in %q (valid UTF-8 %v), want ≥ 90%% and valid", pr.Name, 100*cjk, cont, utf8.ValidString(cont))
		}
		st, err := chineseOverSeeds(m, pr.Text, ChineseSampling[1])
		if err != nil {
			t.Fatal(err)
		}
		if st.MeanCJK < 0.95 || st.Invalid > 6 {
			t.Errorf("%s, %s over %d seeds: mean CJK %.3f, %d invalid UTF-8; want ≥ 0.95 and ≤ 6",
				pr.Name, model.FormatSampling(ChineseSampling[1]), chineseSeeds, st.MeanCJK, st.Invalid)
		}
	}
}
