package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/train"
)

// TestTrainMixCorpus trains two steps on the built-in mixed corpus, checks
// that the run records the mix by name and by the SHA-256 of its manifest,
// that its tokenizer learned from the tokenizer text (each source at its
// TokenizerWeight, not at the model's Weight), and that --resume reads the
// recorded mix again.
func TestTrainMixCorpus(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("tokenizes the 4 MB mixed corpus")
	}
	dir := t.TempDir()
	stdout, stderr, code := gptviz(t, "train", "--corpus", "mix", "--out", dir, "--steps", "2", "--vocab-size", "300",
		"--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--n-positions", "16", "--batch", "2", "--eval-every", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "corpus mix:") || !strings.Contains(stdout, "done: step 2") {
		t.Errorf("stdout:\n%s", stdout)
	}
	st, err := train.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := corpus.MixManifest()
	if err != nil {
		t.Fatal(err)
	}
	if st.Corpus == nil || st.Corpus.Name != "mix" || st.Corpus.SHA256 != sha256Hex(manifest) {
		t.Errorf("recorded corpus %+v, want mix with the manifest's SHA-256 %s", st.Corpus, sha256Hex(manifest))
	}
	tokText, err := corpus.MixTokenizerTrain(1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := bpe.Train(tokText, 300)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, arch.MergesFile)); err != nil || !bytes.Equal(got, want.MergesText()) {
		t.Errorf("the run's merges (%v) are not those learned from corpus.MixTokenizerTrain:\n%.300s\nwant\n%.300s", err, got, want.MergesText())
	}
	stdout, stderr, code = gptviz(t, "train", "--out", dir, "--resume", "--steps", "3")
	if code != 0 || !strings.Contains(stdout, "corpus mix:") || !strings.Contains(stdout, "done: step 3") {
		t.Errorf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
}
