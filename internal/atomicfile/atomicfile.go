// Package atomicfile writes files so that readers see either the old file or
// the complete new one, never a part: every file gptviz writes (reports,
// traces, checkpoints, tokenizers) goes through it.
package atomicfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes a file at path with the bytes write produces, so
// that readers see either the old file or the complete new one, never a part.
//
// write gets a buffered writer on a temporary file in the same folder (named
// ".BASE.tmp-RANDOM"); after write returns nil the data is flushed, synced
// to disk and the temporary file renamed over path. The new file keeps the
// permission bits of the file it replaces, or gets 0644 when there was none.
// If path is a symbolic link, the file it points to is replaced and the link
// kept. On any error — from write, the disk, or a panic in write — the
// temporary file is removed and an existing file at path is left untouched.
//
// Errors name path: the folder does not exist or is not writable, path is a
// folder or another non-regular file, or the error write returned (wrapped,
// so errors.Is sees it).
func Write(path string, write func(io.Writer) error) error {
	target := path
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if t, err := filepath.EvalSymlinks(path); err == nil {
			target = t
		}
	}
	mode := fs.FileMode(0o644)
	switch fi, err := os.Stat(target); {
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("write %s: not a regular file", path)
	case err == nil:
		mode = fi.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("write %s: %w", path, err)
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
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
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		done = true
		return fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	// Make the rename itself durable; not every system can sync a folder,
	// and the file is complete either way, so a failure here is ignored.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// WriteBytes writes data to path atomically, as Write does.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}
