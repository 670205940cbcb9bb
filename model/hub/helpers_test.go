package hub

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gptviz/gptviz/model/hub/hubtest"
)

// testConfig has the fields of ../shared/reference/gpt2-tiny-random/config.json,
// a config the real model.ParseConfig accepts.
const testConfig = `{
  "architectures": ["GPT2LMHeadModel"],
  "model_type": "gpt2",
  "activation_function": "gelu_new",
  "n_ctx": 64,
  "bos_token_id": 50256,
  "eos_token_id": 50256,
  "initializer_range": 0.02,
  "layer_norm_epsilon": 1e-05,
  "n_embd": 32,
  "n_head": 4,
  "n_layer": 2,
  "n_positions": 64,
  "vocab_size": 50257,
  "torch_dtype": "float32"
}`

const (
	commitA = "0123456789abcdef0123456789abcdef01234567"
	commitB = "89abcdef0123456789abcdef0123456789abcdef"
)

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// gpt2Files are the files of a small GPT-2 repo; the weights are 300 kB of
// random bytes (the hub does not look inside them).
func gpt2Files() map[string][]byte {
	return map[string][]byte{
		"config.json":       []byte(testConfig),
		"vocab.json":        []byte(`{"!": 0, "\"": 1, "<|endoftext|>": 2}`),
		"merges.txt":        []byte("#version: 0.2\nĠ t\n"),
		"model.safetensors": randomBytes(1, 300_000),
		"README.md":         []byte("# not downloaded\n"),
	}
}

func gpt2Repo() hubtest.Repo {
	return hubtest.Repo{ID: "openai-community/gpt2", Aliases: []string{"gpt2"}, Commit: commitA, Files: gpt2Files(), ResolveCache: true}
}

// testOptions pulls from srv into a fresh cache with an empty environment
// and fast retries; progress goes to the returned buffer.
func testOptions(t *testing.T, srv *hubtest.Server) (PullOptions, *bytes.Buffer) {
	t.Helper()
	var progress bytes.Buffer
	return PullOptions{
		Endpoint:  srv.URL,
		CacheDir:  t.TempDir(),
		Env:       MapEnv(nil, ""),
		Progress:  &progress,
		retryWait: time.Millisecond,
	}, &progress
}

// checkSnapshot asserts that dir is snapshots/<commit> of repoID in cache
// and that each wanted file is a relative symlink into blobs/ with the
// right contents.
func checkPulled(t *testing.T, cache, repoID, commit, dir string, want map[string][]byte) {
	t.Helper()
	if wantDir := filepath.Join(cache, RepoFolder(repoID), "snapshots", commit); dir != wantDir {
		t.Fatalf("dir = %s, want %s", dir, wantDir)
	}
	for name, data := range want {
		p := filepath.Join(dir, name)
		target, err := os.Readlink(p)
		if err != nil {
			t.Errorf("%s is not a symlink: %v", name, err)
			continue
		}
		etag := hubtest.GitBlobSHA1(data)
		if hubtest.IsLFS(name) {
			etag = hubtest.SHA256(data)
		}
		if wantT := filepath.Join("..", "..", "blobs", etag); target != wantT {
			t.Errorf("%s -> %s, want %s", name, target, wantT)
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: contents differ (%d bytes read, %v)", name, len(got), err)
		}
	}
	ref, err := os.ReadFile(filepath.Join(cache, RepoFolder(repoID), "refs", "main"))
	if err != nil || string(ref) != commit {
		t.Errorf("refs/main = %q, %v; want %q", ref, err, commit)
	}
	if leftovers := findFiles(t, cache, ".incomplete"); len(leftovers) > 0 {
		t.Errorf("partial files left: %v", leftovers)
	}
}

// findFiles lists the files under root whose names end with suffix.
func findFiles(t *testing.T, root, suffix string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, suffix) {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// weightFiles is the subset of files Pull downloads.
func weightFiles(files map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range files {
		if k != "README.md" {
			out[k] = v
		}
	}
	return out
}
