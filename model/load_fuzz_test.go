package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/gptviz/gptviz/model/safetensors"
)

// FuzzLoad runs Load end to end on a small generated checkpoint folder whose
// config.json, model.safetensors.index.json (when sharded), vocab.json and
// merges.txt come from the fuzzer (empty means absent); the weights are a
// valid tiny GPT-2 in one file or two shards. Load must never panic; a
// model it returns has weights of the shapes its config says; LoadFS on the
// same files agrees on success or failure.
func FuzzLoad(f *testing.F) {
	tensors := tinyTensors("transformer.", safetensors.F32)
	shards := map[string][]safetensors.Tensor{
		"model-00001-of-00002.safetensors": tensors[:7],
		"model-00002-of-00002.safetensors": tensors[7:],
	}
	weightMap := map[string]string{}
	for file, ts := range shards {
		for _, x := range ts {
			weightMap[x.Name] = file
		}
	}
	index, _ := json.Marshal(map[string]any{"weight_map": weightMap})
	f.Add([]byte(tinyConfig), []byte(nil), false, []byte(nil), []byte(nil))
	f.Add([]byte(tinyConfig), index, true, []byte(nil), []byte(nil))
	f.Add([]byte(`{"model_type":"gpt2","vocab_size":10,"n_ctx":3,"n_embd":4,"n_head":2,"n_layer":2}`), index, true, []byte(`{"a":0}`), []byte("#version: 0.2\n"))
	f.Add([]byte(`{"n_embd":1e99}`), []byte(`{"weight_map":{"x":"../a.safetensors"}}`), true, []byte(nil), []byte("a b\n"))

	// The weights, written once: each run links them into its own folder.
	src := f.TempDir()
	files := fstest.MapFS{}
	single := filepath.Join(src, "model.safetensors")
	if err := safetensors.Write(single, tensors, nil); err != nil {
		f.Fatal(err)
	}
	for file, ts := range shards {
		if err := safetensors.Write(filepath.Join(src, file), ts, nil); err != nil {
			f.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		files[e.Name()] = &fstest.MapFile{Data: b}
	}

	f.Fuzz(func(t *testing.T, config, index []byte, sharded bool, vocab, merges []byte) {
		dir := t.TempDir()
		fsys := fstest.MapFS{}
		put := func(name string, data []byte) {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
			fsys[name] = &fstest.MapFile{Data: data}
		}
		put("config.json", config)
		if sharded {
			for file := range shards {
				put(file, files[file].Data)
			}
			put("model.safetensors.index.json", index)
		} else {
			put("model.safetensors", files["model.safetensors"].Data)
		}
		if len(vocab) > 0 {
			put("vocab.json", vocab)
		}
		if len(merges) > 0 {
			put("merges.txt", merges)
		}
		m, err := Load(dir)
		mfs, errFS := LoadFS(fsys, "fuzz")
		if (err == nil) != (errFS == nil) {
			t.Fatalf("Load: %v\nLoadFS: %v", err, errFS)
		}
		if err != nil {
			return
		}
		defer m.Close()
		defer mfs.Close()
		c := m.Config
		if err := c.Validate(); err != nil {
			t.Fatalf("loaded a model whose config does not validate: %v", err)
		}
		w := m.Weights
		if len(w.WTE) != c.VocabSize*c.NEmbd || len(w.WPE) != c.NPositions*c.NEmbd || len(w.Blocks) != c.NLayer || len(w.LNFG) != c.NEmbd {
			t.Fatalf("weights do not have the shapes of %+v", c)
		}
		if m.Tokenizer != nil && m.Tokenizer.VocabSize() > c.VocabSize {
			t.Fatalf("tokenizer of %d tokens for vocab_size %d", m.Tokenizer.VocabSize(), c.VocabSize)
		}
	})
}
