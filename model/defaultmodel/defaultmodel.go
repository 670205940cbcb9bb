// Package defaultmodel embeds gptviz's own small GPT-2, trained by
// `gptviz train --corpus mix` (train-mix.sh) on seven public-domain texts
// (Newton's Opticks, the King James Bible, The Devil's Dictionary, the
// Jargon File, Tom Sawyer, Sherlock Holmes, Tang and Song poems), so that gptviz runs offline with no
// --model. MODEL_CARD.md describes its data, training, losses against n-gram
// baselines, samples and what its attention heads do.
//
// The checkpoint is a Hugging Face GPT-2 folder (config.json,
// model.safetensors in F16, vocab.json, merges.txt) plus the run's loss
// curve (loss.csv) and options (train_state.json). Snapshots of the same run
// at earlier steps are embedded too, for the lesson on how training builds
// working memory; the untrained step-0 weights are regenerated from the seed.
package defaultmodel

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/train"
)

// Name is the default model's name, as shown in reports and --model help.
const Name = "gptviz-default"

//go:embed gptviz-default
var files embed.FS

// dir is the checkpoint's folder inside files.
const dir = "gptviz-default"

// FS returns the embedded checkpoint folder: config.json,
// model.safetensors, vocab.json, merges.txt, loss.csv and train_state.json
// at its root, snapshots/step-NNNNNN/ (each a checkpoint folder) below.
func FS() fs.FS {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // dir is a constant that go:embed guarantees
	}
	return sub
}

// Load returns the default model, with its tokenizer, decoded from the
// embedded files (F16 weights widened to float32). It fails only if the
// embedded checkpoint is corrupt.
func Load() (*model.Model, error) {
	m, err := model.LoadFS(FS(), Name)
	if err != nil {
		return nil, fmt.Errorf("default model: %w", err)
	}
	m.Name = Name
	return m, nil
}

// Snapshots returns the training steps at which the default model's run
// can be loaded with LoadSnapshot, in increasing order: 0 (the random
// initialisation, regenerated from the run's seed rather than stored) and
// the embedded snapshots. The final model is Load's.
func Snapshots() []int {
	steps := []int{0}
	ents, err := fs.ReadDir(files, path.Join(dir, "snapshots"))
	if err != nil {
		return steps
	}
	for _, e := range ents {
		if s, ok := strings.CutPrefix(e.Name(), "step-"); ok {
			if n, err := strconv.Atoi(s); err == nil && n > 0 {
				steps = append(steps, n)
			}
		}
	}
	slices.Sort(steps)
	return steps
}

// LoadSnapshot returns the default model as it was after step optimizer
// steps (one of Snapshots), named "gptviz-default@step-N". It returns an
// error for a step without a snapshot.
func LoadSnapshot(step int) (*model.Model, error) {
	if !slices.Contains(Snapshots(), step) {
		return nil, fmt.Errorf("default model: no snapshot at step %d (have %v)", step, Snapshots())
	}
	sub, err := fs.Sub(files, path.Join(dir, "snapshots", fmt.Sprintf("step-%06d", step)))
	if err != nil {
		return nil, fmt.Errorf("default model: snapshot %d: %w", step, err)
	}
	name := fmt.Sprintf("%s@step-%d", Name, step)
	if step == 0 {
		return initial(name)
	}
	m, err := model.LoadFS(sub, name)
	if err != nil {
		return nil, fmt.Errorf("default model: %w", err)
	}
	m.Name = name
	return m, nil
}

// TrainTokens returns the length, in the default model's tokens, of the
// text it was trained on: corpus.Mix's training text for the run's split
// seed (train_state.json), each source repeated as its model weight says
// (2,271,980 for the shipped run). The n-gram baselines learn from less,
// each paragraph once. The first call encodes that text (about 8 MB, a
// second or two); later calls return the same result.
var TrainTokens = sync.OnceValues(func() (int, error) {
	st, err := runState()
	if err != nil {
		return 0, err
	}
	if st.Corpus == nil || st.Corpus.Name != corpus.MixName {
		return 0, fmt.Errorf("default model: %s names no %q corpus", train.StateFile, corpus.MixName)
	}
	text, _, err := corpus.Mix(st.Corpus.SplitSeed)
	if err != nil {
		return 0, fmt.Errorf("default model: %w", err)
	}
	m, err := Load()
	if err != nil {
		return 0, err
	}
	return len(m.Tokenizer.Encode(text)), nil
})

// initial rebuilds the run's step-0 weights from its options
// (train_state.json: config and seed) with the tokenizer of the final model.
func initial(name string) (*model.Model, error) {
	st, err := runState()
	if err != nil {
		return nil, err
	}
	w, c, err := train.InitialWeights(st.Options)
	if err != nil {
		return nil, fmt.Errorf("default model: %s: %w", train.StateFile, err)
	}
	final, err := Load()
	if err != nil {
		return nil, err
	}
	return &model.Model{Name: name, Config: c, Weights: w, Tokenizer: final.Tokenizer}, nil
}

// runState reads the embedded run's train_state.json: its options, how
// far it went and the corpus it trained on.
func runState() (train.State, error) {
	var st train.State
	b, err := fs.ReadFile(files, path.Join(dir, train.StateFile))
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		return train.State{}, fmt.Errorf("default model: %s: %w", train.StateFile, err)
	}
	return st, nil
}
