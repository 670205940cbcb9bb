//go:build unix

package hub

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gptviz/gptviz/model/hub/hubtest"
)

// TestRefsMainUnreadableToOtherUsers: Pull wrote refs/main through
// os.CreateTemp and a rename, so it was -rw------- under umask 022 and a
// shared Hugging Face cache became unusable for everyone else. Every file
// and folder of the cache now gets 0666/0777 less the umask, as
// huggingface_hub gives them, also a ref written 0600 by the old version and
// a blob resumed from a 0600 partial file; nothing is left behind.
// (Not parallel: the umask is process-wide.)
func TestRefsMainUnreadableToOtherUsers(t *testing.T) {
	for _, tt := range []struct {
		name            string
		umask           int
		file, dir, lock fs.FileMode
	}{
		{"umask 022", 0o022, 0o644, 0o755, 0o644},
		{"umask 002 (a group-shared cache)", 0o002, 0o664, 0o775, 0o664},
		{"umask 077 (a private cache)", 0o077, 0o600, 0o700, 0o600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			repo := gpt2Repo()
			weights := repo.Files["model.safetensors"]
			srv := hubtest.NewServer(t, repo)
			opts, _ := testOptions(t, srv)
			root := filepath.Join(opts.CacheDir, RepoFolder(repo.ID))
			ref := filepath.Join(root, "refs", "main")
			partial := filepath.Join(root, "blobs", hubtest.SHA256(weights)+".incomplete")
			mustDo(t, os.MkdirAll(filepath.Dir(ref), 0o700))
			mustDo(t, os.MkdirAll(filepath.Dir(partial), 0o700))
			mustDo(t, os.WriteFile(ref, []byte(commitB), 0o600))
			mustDo(t, os.WriteFile(partial, weights[:100_000], 0o600))
			mustDo(t, os.Chmod(ref, 0o600))
			mustDo(t, os.Chmod(partial, 0o600))

			old := syscall.Umask(tt.umask)
			dir, err := Pull(context.Background(), repo.ID, opts)
			syscall.Umask(old)
			if err != nil {
				t.Fatal(err)
			}
			checkPulled(t, opts.CacheDir, repo.ID, commitA, dir, weightFiles(repo.Files))
			if got := permOf(t, ref); got != tt.file {
				t.Errorf("refs/main is %v, want %v", got, tt.file)
			}
			blobs, err := os.ReadDir(filepath.Join(root, "blobs"))
			mustDo(t, err)
			if len(blobs) != 4 {
				t.Errorf("%d entries in blobs/, want 4 (no temporary files)", len(blobs))
			}
			for _, b := range blobs {
				if got := permOf(t, filepath.Join(root, "blobs", b.Name())); got != tt.file {
					t.Errorf("blobs/%s is %v, want %v", b.Name(), got, tt.file)
				}
			}
			for _, d := range []string{filepath.Join(root, "snapshots"), dir, filepath.Join(opts.CacheDir, ".locks")} {
				if got := permOf(t, d); got != tt.dir {
					t.Errorf("folder %s is %v, want %v", d, got, tt.dir)
				}
			}
			locks, _ := filepath.Glob(filepath.Join(opts.CacheDir, ".locks", "*", "*.lock"))
			if len(locks) == 0 {
				t.Error("no lock files")
			}
			for _, l := range locks {
				if got := permOf(t, l); got != tt.lock {
					t.Errorf("lock %s is %v, want %v", filepath.Base(l), got, tt.lock)
				}
			}
		})
	}
}

// TestPullLocksAnotherUsersLockFile: in a shared cache the lock file of a
// blob may belong to another user, readable but not writable; the lock
// still works.
func TestPullLocksAnotherUsersLockFile(t *testing.T) {
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	opts, _ := testOptions(t, srv)
	if os.Geteuid() == 0 {
		t.Log("running as root, which may open any file: this only checks that the pull works")
	}
	lockDir := filepath.Join(opts.CacheDir, ".locks", RepoFolder(repo.ID))
	mustDo(t, os.MkdirAll(lockDir, 0o755))
	lock := filepath.Join(lockDir, hubtest.SHA256(repo.Files["model.safetensors"])+".lock")
	mustDo(t, os.WriteFile(lock, nil, 0o444))
	mustDo(t, os.Chmod(lock, 0o444))
	dir, err := Pull(context.Background(), repo.ID, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, repo.ID, commitA, dir, weightFiles(repo.Files))
}

func permOf(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	mustDo(t, err)
	return fi.Mode().Perm()
}
