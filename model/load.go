package model

import (
	"errors"
	"io/fs"

	"github.com/gptviz/gptviz/model/bpe"
)

// Model is a loaded GPT-2 checkpoint: its architecture, its weights as
// float32, and its tokenizer (nil when the folder has no vocab.json and
// merges.txt).
type Model struct {
	Name      string
	Config    Config
	Weights   Weights
	Tokenizer *bpe.Tokenizer
}

// Load reads a Hugging Face GPT-2 checkpoint folder. (Placeholder.)
func Load(dir string) (*Model, error) {
	return nil, errors.New("model: Load not implemented yet")
}

// LoadFS reads a checkpoint from the root of fsys (for example an embedded
// file system). (Placeholder.)
func LoadFS(fsys fs.FS, name string) (*Model, error) {
	return nil, errors.New("model: LoadFS not implemented yet")
}
