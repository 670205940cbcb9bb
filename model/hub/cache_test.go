package hub

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
	"github.com/gptviz/gptviz/model/hub/hubtest"
)

func TestCacheDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		home string
		want string
	}{
		{"HF_HUB_CACHE wins", map[string]string{"HF_HUB_CACHE": "/a", "HUGGINGFACE_HUB_CACHE": "/b", "HF_HOME": "/c", "XDG_CACHE_HOME": "/d"}, "/h", "/a"},
		{"legacy HUGGINGFACE_HUB_CACHE", map[string]string{"HUGGINGFACE_HUB_CACHE": "/b", "HF_HOME": "/c"}, "/h", "/b"},
		{"HF_HOME", map[string]string{"HF_HOME": "/c", "XDG_CACHE_HOME": "/d"}, "/h", "/c/hub"},
		{"XDG_CACHE_HOME", map[string]string{"XDG_CACHE_HOME": "/d"}, "/h", "/d/huggingface/hub"},
		{"home", nil, "/h", "/h/.cache/huggingface/hub"},
		{"tilde expanded", map[string]string{"HF_HOME": "~/hf"}, "/h", "/h/hf/hub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CacheDir(MapEnv(tt.vars, tt.home))
			if err != nil || got != filepath.FromSlash(tt.want) {
				t.Errorf("CacheDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := CacheDir(MapEnv(nil, "")); err == nil {
		t.Error("CacheDir without variables or home folder succeeded")
	}
}

// buildHFCache writes repoID's files into cache exactly as huggingface_hub
// does: contents in blobs/<etag>, relative symlinks in snapshots/<commit>/,
// the commit in refs/<ref> (no newline), and a .no_exist marker folder. It
// returns the snapshot folder.
func buildHFCache(t *testing.T, cache, repoID, commit, ref string, files map[string][]byte) string {
	t.Helper()
	root := filepath.Join(cache, RepoFolder(repoID))
	snap := filepath.Join(root, "snapshots", commit)
	for _, d := range []string{filepath.Join(root, "blobs"), snap, filepath.Join(root, ".no_exist", commit)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		etag := hubtest.GitBlobSHA1(data)
		if hubtest.IsLFS(name) {
			etag = hubtest.SHA256(data)
		}
		if err := os.WriteFile(filepath.Join(root, "blobs", etag), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..", "..", "blobs", etag), filepath.Join(snap, name)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, ".no_exist", commit, "added_tokens.json"), nil, 0o644)
	if ref != "" {
		refPath := filepath.Join(root, "refs", filepath.FromSlash(ref))
		os.MkdirAll(filepath.Dir(refPath), 0o755)
		if err := os.WriteFile(refPath, []byte(commit), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return snap
}

func TestResolveHandBuiltCache(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	env := MapEnv(map[string]string{"HF_HOME": home}, "")
	cache := filepath.Join(home, "hub")
	files := weightFiles(gpt2Files())
	snap := buildHFCache(t, cache, "gpt2", commitA, "main", files)

	for _, name := range []string{"gpt2", "openai-community/gpt2"} {
		dir, err := Resolve(name, ResolveOptions{Env: env})
		if err != nil {
			t.Fatalf("Resolve(%q): %v", name, err)
		}
		if dir != snap {
			t.Errorf("Resolve(%q) = %s, want %s", name, dir, snap)
		}
		cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil || string(cfg) != testConfig {
			t.Errorf("config.json through the symlink: %q, %v", cfg, err)
		}
	}
	// Pull in offline mode returns the same folder.
	dir, err := Pull(t.Context(), "gpt2", PullOptions{Env: MapEnv(map[string]string{"HF_HOME": home, "HF_HUB_OFFLINE": "1"}, "")})
	if err != nil || dir != snap {
		t.Errorf("offline Pull = %s, %v; want %s", dir, err, snap)
	}
}

func TestResolveRevisions(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	files := weightFiles(gpt2Files())
	snapA := buildHFCache(t, cache, "openai-community/gpt2", commitA, "main", files)
	snapB := buildHFCache(t, cache, "openai-community/gpt2", commitB, "refs/pr/1", files)
	tests := []struct{ rev, want string }{
		{"", snapA},
		{"main", snapA},
		{"refs/pr/1", snapB},
		{commitB, snapB}, // a commit hash names its snapshot directly
	}
	for _, tt := range tests {
		got, err := Resolve("gpt2", ResolveOptions{CacheDir: cache, Revision: tt.rev})
		if err != nil || got != tt.want {
			t.Errorf("Resolve(gpt2, %q) = %s, %v; want %s", tt.rev, got, err, tt.want)
		}
	}
}

func TestResolveShardedSnapshot(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	files := weightFiles(gpt2Files())
	delete(files, "model.safetensors")
	files["model.safetensors.index.json"] = []byte(`{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}`)
	files["model-00001-of-00002.safetensors"] = []byte("shard one")
	snap := buildHFCache(t, cache, "someone/big", commitA, "main", files)

	_, err := Resolve("someone/big", ResolveOptions{CacheDir: cache})
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "model-00002-of-00002.safetensors") {
		t.Fatalf("err = %v, want ErrNotCached naming the missing shard", err)
	}
	os.WriteFile(filepath.Join(snap, "model-00002-of-00002.safetensors"), []byte("shard two"), 0o644)
	if got, err := Resolve("someone/big", ResolveOptions{CacheDir: cache}); err != nil || got != snap {
		t.Errorf("Resolve = %s, %v; want %s", got, err, snap)
	}
}

// TestResolveNotCached: a model missing from the cache is a
// *NotCachedError whose fields name the model, the repo ids, the revision
// and the cache, and whose message says what is missing where. It used to
// end with a CLI command ("run \"gptviz pull gpt2 --revision v9\""): the
// library now speaks its own words, and the CLI adds the command
// (TestModelNotCachedHint in cmd/gptviz).
func TestResolveNotCached(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		damage func(root, snap string)
		rev    string
		want   []string
	}{
		{"empty cache", func(root, snap string) { os.RemoveAll(root) }, "", []string{"models--gpt2", "models--openai-community--gpt2"}},
		{"missing merges.txt", func(root, snap string) { os.Remove(filepath.Join(snap, "merges.txt")) }, "", []string{"merges.txt"}},
		{"dangling symlink (blob deleted)", func(root, snap string) {
			os.Remove(filepath.Join(root, "blobs", hubtest.SHA256(gpt2Files()["model.safetensors"])))
		}, "", []string{"model.safetensors"}},
		{"no refs/main", func(root, snap string) { os.Remove(filepath.Join(root, "refs", "main")) }, "", []string{"refs/main"}},
		{"ref to a missing snapshot", func(root, snap string) { os.RemoveAll(snap) }, "", []string{"snapshots/" + commitA}},
		{"garbage ref", func(root, snap string) { os.WriteFile(filepath.Join(root, "refs", "main"), []byte("../../etc"), 0o644) }, "", []string{"not a commit hash"}},
		{"other revision", func(root, snap string) {}, "v9", []string{"(revision v9)", "refs/v9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			snap := buildHFCache(t, cache, "gpt2", commitA, "main", weightFiles(gpt2Files()))
			tt.damage(filepath.Join(cache, "models--gpt2"), snap)
			_, err := Resolve("gpt2", ResolveOptions{CacheDir: cache, Revision: tt.rev})
			if !errors.Is(err, ErrNotCached) {
				t.Fatalf("err = %v, want ErrNotCached", err)
			}
			var nc *NotCachedError
			if !errors.As(err, &nc) {
				t.Fatalf("err = %#v, want a *NotCachedError", err)
			}
			wantRev := tt.rev
			if wantRev == "" {
				wantRev = DefaultRevision
			}
			if nc.Name != "gpt2" || nc.Revision != wantRev || nc.Cache != cache || strings.Join(nc.Repos, " ") != "gpt2 openai-community/gpt2" {
				t.Errorf("NotCachedError = %+v, want gpt2 at %s in %s", nc, wantRev, cache)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), filepath.FromSlash(w)) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if msg := err.Error(); strings.Contains(msg, "gptviz") || strings.Contains(msg, " --") {
				t.Errorf("error %q speaks the CLI's language", msg)
			}
		})
	}
}

func TestResolveLocalFolder(t *testing.T) {
	t.Parallel()
	// The default model's checkpoint folder, and one without tokenizer files.
	withTokenizer := testref.DefaultModelDir(t)
	noTokenizer := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(withTokenizer, f))
		if err != nil {
			t.Fatal(err)
		}
		mustDo(t, os.WriteFile(filepath.Join(noTokenizer, f), b, 0o644))
	}
	for _, abs := range []string{withTokenizer, noTokenizer} {
		wd, _ := os.Getwd()
		rel, err := filepath.Rel(wd, abs)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{abs, rel} {
			got, err := Resolve(p, ResolveOptions{CacheDir: t.TempDir()})
			if err != nil || got != abs {
				t.Errorf("Resolve(%q) = %s, %v; want %s", p, got, err, abs)
			}
		}
	}

	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "config.json"), []byte(testConfig), 0o644)
	if _, err := Resolve(empty, ResolveOptions{}); !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("folder without weights: %v", err)
	}
	for _, p := range []string{"./no-such-folder", "../no/such/folder", filepath.Join(empty, "nope")} {
		if _, err := Resolve(p, ResolveOptions{CacheDir: t.TempDir()}); !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("Resolve(%q): %v, want a missing folder", p, err)
		}
	}
	if _, err := Resolve("not a model", ResolveOptions{CacheDir: t.TempDir()}); !errors.Is(err, ErrBadName) {
		t.Errorf("Resolve(\"not a model\"): %v, want ErrBadName", err)
	}
}

// TestResolveLocalFolderBadFile: when a needed file of a local folder was a
// directory, a FIFO or a symlink loop, Resolve said "model not in the
// Hugging Face cache: model folder …: snapshot … lacks model.safetensors",
// and a --model path that is itself a symlink loop "does not exist". The
// messages now say what is wrong with the folder and never mention the
// cache.
func TestResolveLocalFolderBadFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // dir holds a good config.json
		want  string
	}{
		{"weights are a directory", func(t *testing.T, dir string) {
			mustDo(t, os.Mkdir(filepath.Join(dir, "model.safetensors"), 0o755))
		}, "model.safetensors is not a regular file (a folder)"},
		{"weights are a symlink loop", func(t *testing.T, dir string) {
			mustDo(t, os.Symlink("model.safetensors", filepath.Join(dir, "model.safetensors")))
		}, "model.safetensors is a symlink loop"},
		{"weights are a dangling symlink", func(t *testing.T, dir string) {
			mustDo(t, os.Symlink("gone.safetensors", filepath.Join(dir, "model.safetensors")))
		}, "model.safetensors is a dangling symlink (to gone.safetensors)"},
		{"weights missing", func(t *testing.T, dir string) {}, "model.safetensors (or model.safetensors.index.json) is missing"},
		{"config is a directory", func(t *testing.T, dir string) {
			mustDo(t, os.Remove(filepath.Join(dir, "config.json")))
			mustDo(t, os.Mkdir(filepath.Join(dir, "config.json"), 0o755))
			mustDo(t, os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("x"), 0o644))
		}, "config.json is not a regular file (a folder)"},
		{"shard is a directory", func(t *testing.T, dir string) {
			mustDo(t, os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map": {"a": "s1.safetensors"}}`), 0o644))
			mustDo(t, os.Mkdir(filepath.Join(dir, "s1.safetensors"), 0o755))
		}, "s1.safetensors is not a regular file (a folder)"},
	}
	tests = append(tests, fifoCases...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustDo(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(testConfig), 0o644))
			tt.setup(t, dir)
			_, err := Resolve(dir, ResolveOptions{CacheDir: t.TempDir()})
			checkFolderError(t, err, "model folder "+dir+": "+tt.want)
		})
	}

	// The --model path itself.
	root := t.TempDir()
	loop := filepath.Join(root, "loopA")
	mustDo(t, os.Symlink("loopB", loop))
	mustDo(t, os.Symlink("loopA", filepath.Join(root, "loopB")))
	file := filepath.Join(root, "weights.bin")
	mustDo(t, os.WriteFile(file, nil, 0o644))
	for path, want := range map[string]string{
		loop:                           "model folder " + loop + " is a symlink loop",
		file:                           "model folder " + file + " is not a folder (a regular file)",
		filepath.Join(root, "nothing"): "model folder " + filepath.Join(root, "nothing") + " does not exist",
	} {
		_, err := Resolve(path, ResolveOptions{CacheDir: t.TempDir()})
		checkFolderError(t, err, want)
	}
}

// checkFolderError asserts that err is about a local folder: it wraps
// ErrNotCached (so callers' errors.Is checks keep working) and reads
// exactly want, which does not talk about the cache.
func checkFolderError(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrNotCached) {
		t.Errorf("err = %v, want ErrNotCached", err)
		return
	}
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
