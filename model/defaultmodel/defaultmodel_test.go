package defaultmodel

import (
	"io/fs"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/ngram"
	"github.com/gptviz/gptviz/model/train"
)

// recorded reads the embedded run's train_state.json: what the run was
// trained with (config, seed, planned snapshots, corpus) and how far.
// The tests check the embedded files against it rather than pinning
// numbers that change with every retraining.
func recorded(t *testing.T) train.State {
	t.Helper()
	st, err := runState()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestLoad(t *testing.T) {
	t.Parallel()
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	st := recorded(t)
	if m.Name != Name || m.Config != st.Options.Config {
		t.Errorf("loaded %s %+v, the run recorded %+v", m.Name, m.Config, st.Options.Config)
	}
	if n := m.Config.NumParams(); n < 1_000_000 {
		t.Errorf("%d parameters, want ≥ 1M", n)
	}
	if m.Tokenizer == nil || m.Tokenizer.VocabSize() != m.Config.VocabSize {
		t.Fatal("no tokenizer, or its vocabulary differs from the config")
	}
	const s = "The Rays of Light are refracted by the Prism — 你好"
	if got := string(m.Tokenizer.Decode(m.Tokenizer.Encode(s))); got != s {
		t.Errorf("tokenizer round trip: %q", got)
	}
	if st.Corpus == nil || st.Corpus.Name != corpus.MixName {
		t.Errorf("the run recorded corpus %+v, want %q (MODEL_CARD.md)", st.Corpus, corpus.MixName)
	}
}

// TestTokenizer pins the facts of the embedded tokenizer (the mixed
// corpus's 8,192-token BPE) that MODEL_CARD.md and issue 13 state, with the
// values measured on it: the pangram takes 14 tokens (issue 13's target;
// "fox" and "jumps" are still too rare in the corpus to be tokens), common
// English words and common Chinese characters are one token.
func TestTokenizer(t *testing.T) {
	t.Parallel()
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tok := m.Tokenizer
	for _, c := range []struct {
		s    string
		want int
	}{
		{"The quick brown fox jumps over the lazy dog.", 14},
		{"床前明月光，疑是地上霜。", 12},
		{"The", 1}, {" the", 1}, {" Light", 1}, {" LORD", 1}, {" observed", 1},
		{"明", 1}, {"月", 1}, {"明月", 1}, {"床", 2},
	} {
		if got := len(tok.Encode(c.s)); got != c.want {
			t.Errorf("%q: %d tokens, want %d", c.s, got, c.want)
		}
	}
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	st := recorded(t)
	got := Snapshots()
	if !slices.Equal(got, st.Snapshots) || got[0] != 0 || len(got) < 3 {
		t.Fatalf("Snapshots() = %v, the run recorded %v; want step 0 and at least two trained snapshots", got, st.Snapshots)
	}
	for _, s := range got {
		m, err := LoadSnapshot(s)
		if err != nil {
			t.Errorf("snapshot %d: %v", s, err)
			continue
		}
		if m.Config != st.Options.Config {
			t.Errorf("snapshot %d: config %+v, the run's %+v", s, m.Config, st.Options.Config)
		}
	}
	if _, err := LoadSnapshot(7); err == nil {
		t.Error("LoadSnapshot(7) succeeded without such a snapshot")
	}
}

// TestEmbeddedSize keeps the embedded files within issue 13's budget of
// 25 MB (F16, snapshots included).
func TestEmbeddedSize(t *testing.T) {
	t.Parallel()
	var total int64
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The final weights alone are over 2 MB (F16, ≥ 1M parameters): a
	// smaller total means the walk missed the checkpoint.
	if total < 2_000_000 {
		t.Errorf("embedded files total %d bytes; the walk missed the checkpoint", total)
	}
	if total > 25_000_000 {
		t.Errorf("embedded files total %d bytes, budget 25,000,000", total)
	}
}

// TestBeatsBaselines is the acceptance criterion of MODEL_CARD.md: on the
// validation text of the mixed corpus (split seed 1, as the run), the
// embedded model's cross-entropy (engine, F16 weights) is at least
// minMargin nats/token (issue 13's target) below the
// Kneser–Ney trigram's, trained on the run's training paragraphs, each
// once (corpus.MixBaselineTrain: repeats would weaken it), on the same
// tokens. To keep the test to seconds
// it scores every 4th window of n_positions+1 tokens (overlapping by one)
// of the whole validation text, a quarter of each source; the n-gram
// reads the two tokens before each scored token, the model its window.
func TestBeatsBaselines(t *testing.T) {
	t.Parallel()
	const minMargin = 0.194
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	seed := recorded(t).Corpus.SplitSeed
	_, valText, err := corpus.Mix(seed)
	if err != nil {
		t.Fatal(err)
	}
	trainText, err := corpus.MixBaselineTrain(seed)
	if err != nil {
		t.Fatal(err)
	}
	train, val := m.Tokenizer.Encode(trainText), m.Tokenizer.Encode(valText)
	kn, err := ngram.NewKneserNey(3, m.Config.VocabSize, train)
	if err != nil {
		t.Fatal(err)
	}
	T, V := m.Config.NPositions, m.Config.VocabSize
	var model, trigram float64
	var n int
	for off := 0; off+1 < len(val); off += 4 * T {
		w := val[off:min(off+T+1, len(val))]
		logits, err := m.Logits(w[:len(w)-1])
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(w); i++ {
			model += crossEntropy(logits[i*V:(i+1)*V], w[i+1])
			j := off + i + 1
			trigram -= math.Log(kn.Prob(val[max(0, j-2):j], val[j]))
			n++
		}
	}
	model, trigram = model/float64(n), trigram/float64(n)
	t.Logf("%d tokens: model %.4f nats/token, %s %.4f; margin %.4f", n, model, kn.Name(), trigram, trigram-model)
	if !(trigram-model >= minMargin) {
		t.Errorf("model %.4f nats/token, not %.3f below the %s's %.4f", model, minMargin, kn.Name(), trigram)
	}
}

// crossEntropy is −ln softmax(row)[next], nats.
func crossEntropy(row []float32, next int) float64 {
	mx := slices.Max(row)
	var z float64
	for _, v := range row {
		z += math.Exp(float64(v - mx))
	}
	return math.Log(z) - float64(row[next]-mx)
}

// TestTrainTokens: TrainTokens is what the model's tokenizer makes of
// corpus.Mix's training text (sources repeated by their model weights),
// which is longer than the baselines' text (each paragraph once): lesson
// 11 counts its passes over the former.
func TestTrainTokens(t *testing.T) {
	t.Parallel()
	n, err := TrainTokens()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	seed := recorded(t).Corpus.SplitSeed
	text, _, err := corpus.Mix(seed)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(m.Tokenizer.Encode(text)); n != want {
		t.Errorf("TrainTokens() = %d, want %d (corpus.Mix(%d) in the model's tokens)", n, want, seed)
	}
	base, err := corpus.MixBaselineTrain(seed)
	if err != nil {
		t.Fatal(err)
	}
	if b := len(m.Tokenizer.Encode(base)); n <= b {
		t.Errorf("TrainTokens() = %d, not more than the baselines' %d: the weights repeat sources", n, b)
	}
	t.Logf("%d training tokens; %d tokens seen = %.1f passes", n, recorded(t).Tokens, float64(recorded(t).Tokens)/float64(n))
}

// TestFlatAfterRandomTokens pins the card's "flaw of the recipe": a run
// trained on random repeats with the first draws in the loss predicts
// almost uniformly (≥ 95% of log2 vocab_size bits, on average over 50
// contexts of 8 uniformly drawn tokens) whenever its context looks random;
// a run with --mask-random-prefix should not (if it does, the card's
// account is wrong).
func TestFlatAfterRandomTokens(t *testing.T) {
	t.Parallel()
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	st := recorded(t)
	V := m.Config.VocabSize
	r := rand.New(rand.NewPCG(1, 2))
	var sum float64
	const n = 50
	for range n {
		ids := make([]int, 8)
		for i := range ids {
			ids[i] = r.IntN(V)
		}
		lg, err := m.Logits(ids)
		if err != nil {
			t.Fatal(err)
		}
		s, err := model.NewSampler(model.SamplingParams{Temperature: 1, TopP: 1}, 1)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Sample(lg[len(lg)-V:])
		if err != nil {
			t.Fatal(err)
		}
		sum += res.Entropy() // as the report's entropy column
	}
	mean, flat := sum/n, 0.95*math.Log2(float64(V))
	unmasked := st.Options.RandomRepeatFrac > 0 && !st.Options.MaskRandomPrefix
	if (mean >= flat) != unmasked {
		t.Errorf("mean entropy after 8 random tokens %.3f bits (flat from %.3f); the run's random_repeat_frac %g, mask_random_prefix %v: MODEL_CARD.md's account no longer holds",
			mean, flat, st.Options.RandomRepeatFrac, st.Options.MaskRandomPrefix)
	}
}
