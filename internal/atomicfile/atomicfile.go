// Package atomicfile writes files so that readers see either the old file or
// the complete new one, never a part: every file gptviz writes (reports,
// traces, checkpoints, tokenizers, the Hugging Face cache's refs, blobs and
// snapshot links) goes through it.
package atomicfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Options tunes how a file is written. The zero value is what Write and
// WriteBytes use: a new file gets 0644 less the umask, a replaced file keeps
// its permission bits.
type Options struct {
	// Perm is the permission bits of a new file before the process's umask
	// (and a folder's default ACL) is applied, as os.WriteFile applies
	// them; 0 means 0644. A folder other users share, such as the Hugging
	// Face cache, wants 0666: the umask then decides, as it does for every
	// other program writing there.
	Perm fs.FileMode
	// ResetPerm makes a replaced file get Perm less the umask too, as a new
	// file would, instead of keeping its permission bits (for a shared
	// cache, where an older file may have been written with the wrong bits).
	ResetPerm bool
}

func (o Options) perm() fs.FileMode {
	if o.Perm == 0 {
		return 0o644
	}
	return o.Perm.Perm()
}

// Write writes a file at path with the bytes write produces, so that
// readers see either the old file or the complete new one, never a part.
// It is Options{}.Write.
func Write(path string, write func(io.Writer) error) error {
	return Options{}.Write(path, write)
}

// WriteBytes writes data to path atomically, as Write does.
func WriteBytes(path string, data []byte) error {
	return Options{}.WriteBytes(path, data)
}

// WriteBytes writes data to path atomically, as o.Write does.
func (o Options) WriteBytes(path string, data []byte) error {
	return o.Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}

// Write writes a file at path with the bytes write produces, so that
// readers see either the old file or the complete new one, never a part.
//
// write gets a buffered writer on a temporary file in the same folder (named
// ".BASE.tmp-RANDOM", created with o.Perm less the umask); after write
// returns nil the data is flushed, synced to disk and the temporary file
// renamed over path, and the folder is synced. The new file keeps the
// permission bits of the file it replaces unless o.ResetPerm is set. If path
// is a symbolic link, the file it points to is replaced and the link kept.
// On any error — from write, the disk, or a panic in write — the temporary
// file is removed and an existing file at path is left untouched.
//
// Errors name path: the folder does not exist or is not writable, path is a
// folder or another non-regular file, or the error write returned (wrapped,
// so errors.Is sees it).
func (o Options) Write(path string, write func(io.Writer) error) error {
	target, keep, err := o.target(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := createTemp(target, o.perm())
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done { // error or panic: drop the partial file
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if keep != 0 {
		if err := f.Chmod(keep); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	err = finish(f, target)
	done = true
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Commit makes f, a file the caller wrote in full in path's folder (a
// download streamed into a partial file, say), the file at path: it gives f
// the permission bits a file written by o.Write would get, syncs f to disk,
// closes it, renames it over path and syncs the folder. f is closed in every
// case; on error the file f names is left where it is (the caller may resume
// into it or remove it) and an existing file at path is left untouched.
// Unlike Write, Commit replaces path itself even when it is a symbolic link.
// Errors name path.
func (o Options) Commit(f *os.File, path string) error {
	err := o.commit(f, path)
	if err != nil {
		f.Close()
		return fmt.Errorf("commit %s: %w", path, err)
	}
	return nil
}

func (o Options) commit(f *os.File, path string) error {
	mode := fs.FileMode(0)
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && !o.ResetPerm {
		mode = fi.Mode().Perm()
	}
	if mode == 0 {
		// A new file's bits are o.Perm less the umask: create one and look.
		// (The umask cannot be read without changing it, which is not safe
		// while other goroutines create files.)
		probe, err := createTemp(path, o.perm())
		if err != nil {
			return err
		}
		fi, err := probe.Stat()
		probe.Close()
		os.Remove(probe.Name())
		if err != nil {
			return err
		}
		mode = fi.Mode().Perm()
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	return finish(f, path)
}

// finish syncs and closes f, renames it to path and syncs path's folder.
func finish(f *os.File, path string) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// Symlink makes path a symbolic link to target, replacing whatever link or
// file is at path atomically: readers see the old entry or the new link,
// never no entry. The link is made under a temporary name in path's folder
// and renamed over path; the folder is then synced. On error nothing is
// left behind. Where the system does not allow symbolic links the error
// wraps the *os.LinkError (Op "symlink") os.Symlink returned, so a caller
// can fall back to a copy. Errors name path.
func Symlink(target, path string) error {
	tmp, err := newTemp(path, func(name string) error { return os.Symlink(target, name) })
	if err != nil {
		return fmt.Errorf("link %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("link %s: %w", path, err)
	}
	syncDir(filepath.Dir(tmp))
	return nil
}

// target returns the file Write replaces for path (the file a symbolic link
// points to) and the permission bits to keep (0: those the new file was
// created with).
func (o Options) target(path string) (target string, keep fs.FileMode, err error) {
	target = path
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if t, err := filepath.EvalSymlinks(path); err == nil {
			target = t
		}
	}
	switch fi, err := os.Stat(target); {
	case err == nil && !fi.Mode().IsRegular():
		return "", 0, errors.New("not a regular file")
	case err == nil && !o.ResetPerm:
		keep = fi.Mode().Perm()
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", 0, err
	}
	return target, keep, nil
}

// createTemp creates a new file ".BASE.tmp-RANDOM" beside path with
// permission bits perm less the umask (os.CreateTemp would give 0600).
func createTemp(path string, perm fs.FileMode) (*os.File, error) {
	var f *os.File
	_, err := newTemp(path, func(name string) (err error) {
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		return err
	})
	return f, err
}

// newTemp calls create with fresh names ".BASE.tmp-RANDOM" beside path
// until one does not exist yet (at most 100 tries), and returns that name.
func newTemp(path string, create func(name string) error) (string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	var err error
	for range 100 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		if err = create(name); !errors.Is(err, fs.ErrExist) {
			return name, err
		}
	}
	return "", err
}

// syncDir makes a rename in dir durable. Not every system can sync a
// folder, and the file is complete either way, so a failure is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
