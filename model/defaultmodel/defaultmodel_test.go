package defaultmodel

import (
	"io/fs"
	"math"
	"slices"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/ngram"
)

// The config MODEL_CARD.md states.
var cardConfig = struct{ vocab, positions, embd, layer, head int }{384, 128, 128, 6, 4}

// cardSnapshots are the snapshot steps MODEL_CARD.md lists (0%, 5%, 25% of
// 3,000 steps).
var cardSnapshots = []int{0, 150, 750}

func TestLoad(t *testing.T) {
	t.Parallel()
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if m.Name != Name || c.VocabSize != cardConfig.vocab || c.NPositions != cardConfig.positions ||
		c.NEmbd != cardConfig.embd || c.NLayer != cardConfig.layer || c.NHead != cardConfig.head {
		t.Errorf("loaded %s %+v, the model card says %+v", m.Name, c, cardConfig)
	}
	if n := c.NumParams(); n < 1_000_000 {
		t.Errorf("%d parameters, want ≥ 1M", n)
	}
	if m.Tokenizer == nil || m.Tokenizer.VocabSize() != c.VocabSize {
		t.Fatal("no tokenizer, or its vocabulary differs from the config")
	}
	const s = "The Rays of Light are refracted by the Prism — 你好"
	if got := string(m.Tokenizer.Decode(m.Tokenizer.Encode(s))); got != s {
		t.Errorf("tokenizer round trip: %q", got)
	}
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	if got := Snapshots(); !slices.Equal(got, cardSnapshots) {
		t.Fatalf("Snapshots() = %v, want %v", got, cardSnapshots)
	}
	for _, s := range cardSnapshots {
		m, err := LoadSnapshot(s)
		if err != nil {
			t.Errorf("snapshot %d: %v", s, err)
			continue
		}
		if m.Config.NLayer != cardConfig.layer {
			t.Errorf("snapshot %d: %d layers", s, m.Config.NLayer)
		}
	}
	if _, err := LoadSnapshot(7); err == nil {
		t.Error("LoadSnapshot(7) succeeded without such a snapshot")
	}
}

// TestEmbeddedSize keeps the embedded files within the 10 MB budget.
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
	// The final weights alone are over 1 MB (F16, ≥ 1M parameters): a
	// smaller total means the walk missed the checkpoint.
	if total < 2_000_000 {
		t.Errorf("embedded files total %d bytes; the walk missed the checkpoint", total)
	}
	if total > 10_000_000 {
		t.Errorf("embedded files total %d bytes, budget 10,000,000", total)
	}
}

// TestBeatsBaselines is the acceptance criterion: on the validation split,
// the embedded model's cross-entropy (engine, F16 weights, windows of
// n_positions+1 tokens overlapping by one) is below the best n-gram
// baseline's on the same tokens.
func TestBeatsBaselines(t *testing.T) {
	t.Parallel()
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	trainText, valText, err := corpus.Opticks(1)
	if err != nil {
		t.Fatal(err)
	}
	train, val := m.Tokenizer.Encode(trainText), m.Tokenizer.Encode(valText)
	rs, err := ngram.Baselines(m.Config.VocabSize, train, val)
	if err != nil {
		t.Fatal(err)
	}
	best := ngram.Best(rs)
	ce := validationLoss(t, m, val)
	t.Logf("model %.4f nats/token; best baseline %s %.4f; margin %.4f", ce, best.Name, best.CrossEntropy, best.CrossEntropy-ce)
	if !(ce < best.CrossEntropy) {
		t.Errorf("model %.4f nats/token, not below %s's %.4f", ce, best.Name, best.CrossEntropy)
	}
}

func validationLoss(t *testing.T, m *model.Model, val []int) float64 {
	T, V := m.Config.NPositions, m.Config.VocabSize
	var sum float64
	var cnt int
	for off := 0; off+1 < len(val); off += T {
		w := val[off:min(off+T+1, len(val))]
		logits, err := m.Logits(w[:len(w)-1])
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(w); i++ {
			row := logits[i*V : (i+1)*V]
			mx := slices.Max(row)
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v - mx))
			}
			sum += math.Log(z) - float64(row[w[i+1]]-mx)
			cnt++
		}
	}
	return sum / float64(cnt)
}
