//go:build unix

package hub

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/hub/hubtest"
)

// fifoCases are TestResolveLocalFolderBadFile's cases that need named pipes.
var fifoCases = []struct {
	name  string
	setup func(t *testing.T, dir string)
	want  string
}{
	{"weights are a FIFO", func(t *testing.T, dir string) {
		mustDo(t, syscall.Mkfifo(filepath.Join(dir, "model.safetensors"), 0o644))
	}, "model.safetensors is not a regular file (a named pipe)"},
}

// TestResolveRefIsNamedPipeHangs: Resolve read refs/<revision> and the
// weights index with os.ReadFile, so a named pipe there blocked every model
// load forever, and a huge file was read whole. They are refused now,
// naming the file.
func TestResolveRefIsNamedPipeHangs(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, root, snap string)
		want   string
	}{
		{"refs/main is a FIFO", func(t *testing.T, root, snap string) {
			ref := filepath.Join(root, "refs", "main")
			mustDo(t, os.Remove(ref))
			mustDo(t, syscall.Mkfifo(ref, 0o644))
		}, "is not a regular file (a named pipe)"},
		{"refs/main is huge", func(t *testing.T, root, snap string) {
			mustDo(t, os.WriteFile(filepath.Join(root, "refs", "main"), make([]byte, 2<<10), 0o644))
		}, "more than the limit of 1 KiB"},
		{"the index is a FIFO", func(t *testing.T, root, snap string) {
			mustDo(t, os.Remove(filepath.Join(snap, "model.safetensors")))
			mustDo(t, syscall.Mkfifo(filepath.Join(root, "blobs", "index"), 0o644))
			mustDo(t, os.Symlink("../../blobs/index", filepath.Join(snap, "model.safetensors.index.json")))
		}, "model.safetensors.index.json is not a regular file (a named pipe)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			snap := buildHFCache(t, cache, "gpt2", commitA, "main", weightFiles(gpt2Files()))
			tt.damage(t, filepath.Join(cache, "models--gpt2"), snap)
			done := make(chan error, 1)
			go func() {
				_, err := Resolve("gpt2", ResolveOptions{CacheDir: cache})
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want ErrNotCached saying %q", err, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Resolve blocks")
			}
		})
	}
}

// returnsSoon runs f, failing the test if it takes 10 s (it would block on a
// named pipe forever).
func returnsSoon(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("blocks on a named pipe")
	}
}

// TestHubReadsRefuseNamedPipes: every file of the cache the hub reads whole
// or hashes goes through internal/inputfile, so a named pipe at the token
// file, refs/<revision> (also offline, through Pull) or a blob being hashed
// is refused at once instead of blocking the pull (issue 9 item 7); one at
// a partial download is refused by name.
func TestHubReadsRefuseNamedPipes(t *testing.T) {
	t.Run("token file", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "token")
		mustDo(t, syscall.Mkfifo(fifo, 0o644))
		var tok string
		returnsSoon(t, func() { tok = envToken(MapEnv(map[string]string{"HF_TOKEN_PATH": fifo}, "")) })
		if tok != "" {
			t.Errorf("token %q read from a named pipe", tok)
		}
	})
	t.Run("offline pull, refs/main", func(t *testing.T) {
		cache := t.TempDir()
		buildHFCache(t, cache, "gpt2", commitA, "main", weightFiles(gpt2Files()))
		ref := filepath.Join(cache, "models--gpt2", "refs", "main")
		mustDo(t, os.Remove(ref))
		mustDo(t, syscall.Mkfifo(ref, 0o644))
		var err error
		returnsSoon(t, func() {
			_, err = Pull(t.Context(), "gpt2", PullOptions{CacheDir: cache, Offline: true, Env: MapEnv(nil, "")})
		})
		var oe *OfflineError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "refs/main is not a regular file (a named pipe)") {
			t.Errorf("err = %v, want an *OfflineError saying refs/main is a named pipe", err)
		}
	})
	t.Run("partial download", func(t *testing.T) {
		// Not a read: a named pipe at blobs/<etag>.incomplete failed with
		// "seek …: illegal seek"; it is now named as what it is.
		srv := hubtest.NewServer(t, gpt2Repo())
		opts, _ := testOptions(t, srv)
		blobs := filepath.Join(opts.CacheDir, "models--gpt2", "blobs")
		mustDo(t, os.MkdirAll(blobs, 0o755))
		mustDo(t, syscall.Mkfifo(filepath.Join(blobs, hubtest.SHA256(gpt2Files()["model.safetensors"])+".incomplete"), 0o644))
		var err error
		returnsSoon(t, func() { _, err = Pull(t.Context(), "gpt2", opts) })
		if err == nil || !strings.Contains(err.Error(), ".incomplete is not a regular file (a named pipe)") {
			t.Errorf("err = %v, want the .incomplete named pipe refused", err)
		}
	})
	t.Run("hashed blob", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), hubtest.SHA256([]byte("x")))
		mustDo(t, syscall.Mkfifo(fifo, 0o644))
		var err error
		returnsSoon(t, func() { _, err = blobDamage(fifo, filepath.Base(fifo)) })
		if !errors.Is(err, inputfile.ErrNotRegular) {
			t.Errorf("err = %v, want inputfile.ErrNotRegular", err)
		}
	})
}
