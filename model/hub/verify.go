package hub

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gptviz/gptviz/internal/inputfile"
)

// Digest kinds a blob's name can be checked against.
const (
	digestSHA256  = "SHA-256"   // an LFS file's blob is named by the SHA-256 of its contents
	digestGitSHA1 = "git SHA-1" // a regular file's blob is named by its git blob id
	digestNone    = ""          // any other ETag: only the size can be checked
)

// digestKind says how a blob named name can be checked: a 64-hex-digit name
// is an LFS file's SHA-256, a 40-hex-digit name a regular file's git blob id
// (the hub's ETag for it, per huggingface_hub's file_download.py).
func digestKind(name string) string {
	switch {
	case isHex(name, 64):
		return digestSHA256
	case isHex(name, 40):
		return digestGitSHA1
	}
	return digestNone
}

// newDigest returns the hash of kind for a file of size bytes: SHA-256, or
// SHA-1 over git's "blob <size>\x00" header and the contents.
func newDigest(kind string, size int64) hash.Hash {
	if kind == digestSHA256 {
		return sha256.New()
	}
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", size)
	return h
}

// fileDigest computes the kind digest (see digestKind) of the file at path,
// reading it once, and returns it in hex with the file's size in bytes.
func fileDigest(path, kind string) (sum string, size int64, err error) {
	f, fi, err := inputfile.Open(path, -1) // never blocks on a named pipe
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := newDigest(kind, fi.Size())
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	if n != fi.Size() {
		return "", 0, fmt.Errorf("%s changed size while it was read", path)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// blobDamage checks the blob at path against its name etag (see
// digestKind) and describes a mismatch ("" when it matches or the name is
// no digest).
func blobDamage(path, etag string) (string, error) {
	kind := digestKind(etag)
	if kind == digestNone {
		return "", nil
	}
	got, size, err := fileDigest(path, kind)
	if err != nil {
		return "", err
	}
	if got == etag {
		return "", nil
	}
	return fmt.Sprintf("its %d bytes have %s %s, not the %s its blob is named by", size, kind, got, etag), nil
}

// verifySnapshot checks, without the network, every file of the
// checkpoint in the cached snapshot dir (found under repo) whose link names
// its blob: the blob's contents must hash to that name (SHA-256 for LFS
// files, git SHA-1 for regular files), which also checks its size. Files
// that are not links into blobs/ (copies, where symlinks are not allowed)
// cannot be checked. The error is a *DamagedError naming the repo and the
// files.
func (p *puller) verifySnapshot(dir, repo string) error {
	files, err := snapshotFiles(dir, true)
	if err != nil {
		return fmt.Errorf("pull %s: snapshot %s: %w", repo, dir, err)
	}
	var damaged []string
	for _, f := range files {
		path := filepath.Join(dir, f)
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		target, err := os.Readlink(path)
		if err != nil || filepath.Base(filepath.Dir(target)) != "blobs" {
			continue
		}
		problem, err := blobDamage(path, filepath.Base(target))
		if err != nil {
			return fmt.Errorf("%s/%s (snapshot %s): %w", repo, f, dir, err)
		}
		if problem != "" {
			damaged = append(damaged, fmt.Sprintf("%s: %s", f, problem))
		}
	}
	if len(damaged) > 0 {
		return &DamagedError{Name: p.name, Repo: repo, Revision: p.rev, Snapshot: dir, Files: damaged}
	}
	return nil
}
