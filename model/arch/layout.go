package arch

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The file names of a Hugging Face GPT-2 checkpoint folder: the config, the
// weights (one file, or an index naming shards) and the tokenizer.
const (
	ConfigFile  = "config.json"
	WeightsFile = "model.safetensors"
	IndexFile   = "model.safetensors.index.json"
	VocabFile   = "vocab.json"
	MergesFile  = "merges.txt"
)

// MaxConfigBytes is the largest config.json readers accept, 1 MiB (GPT-2's
// is under 1 KB); readers bound their reads by it.
const MaxConfigBytes = 1 << 20

// MaxIndexBytes is the largest model.safetensors.index.json ParseIndex is
// meant for, 64 MiB (gpt2-xl's is about 30 KB); readers bound their reads by it.
const MaxIndexBytes = 64 << 20

// Index is a parsed model.safetensors.index.json: which shard holds each
// tensor (names as stored, with or without the "transformer." prefix).
type Index struct {
	WeightMap map[string]string // tensor name → shard file name
	Shards    []string          // the distinct shard file names, sorted
}

// ParseIndex reads a model.safetensors.index.json ({"weight_map": {tensor:
// shard file}}, as transformers' save_pretrained writes it). Every shard must
// pass ValidFileName and end in ".safetensors". Errors begin "parse index:" and quote the
// offending entry, shortened to 80 bytes.
func ParseIndex(data []byte) (*Index, error) {
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("parse index: %w", err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, errors.New("parse index: weight_map is missing or empty")
	}
	var shards []string
	for tensor, f := range idx.WeightMap {
		if !ValidFileName(f) || !strings.HasSuffix(f, ".safetensors") {
			return nil, fmt.Errorf("parse index: tensor %q: shard %q is not a plain .safetensors file name",
				shorten(tensor, 80), shorten(f, 80))
		}
		shards = append(shards, f)
	}
	slices.Sort(shards)
	return &Index{WeightMap: idx.WeightMap, Shards: slices.Compact(shards)}, nil
}

// ValidFileName reports whether name is a plain file name that is safe to
// join onto a folder on every OS: ASCII letters, digits, "_", "-" and ".",
// starting with a letter, digit or "_", no "..", at most 255 bytes. Shard
// names from an index (and the hub's blob names) must pass it.
func ValidFileName(name string) bool {
	if name == "" || len(name) > 255 || !isWordByte(name[0]) || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isWordByte(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
