// Package inputfile reads files of outside input — checkpoints, tokenizers,
// corpora, traces — so that a hostile path cannot hang or exhaust the
// process: only regular files are read (after following symbolic links), a
// named pipe is never waited on, and no read goes past a limit the caller
// states. Every reader of a file gptviz did not write itself goes through
// it.
package inputfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The kinds of *Error, for errors.Is.
var (
	// ErrNotRegular: the path is a folder, a named pipe, a device (such as
	// /dev/zero), a socket or anything else that is not a regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file holds more bytes than the caller's limit.
	ErrTooLarge = errors.New("file too large")
	// ErrSymlinkLoop: following the path's symbolic links never ends (ELOOP).
	ErrSymlinkLoop = errors.New("symbolic link loop")
)

// Error is a file refused before or while reading it. Path is the name
// given (LoadFS-style callers may rewrite it to the name users know).
type Error struct {
	Path   string
	Kind   error  // ErrNotRegular, ErrTooLarge or ErrSymlinkLoop
	Detail string // e.g. "a named pipe", "3 GiB, more than the limit of 64 MiB"
}

func (e *Error) Error() string {
	switch e.Kind {
	case ErrNotRegular:
		return fmt.Sprintf("%s is not a regular file (%s)", e.Path, e.Detail)
	case ErrSymlinkLoop:
		return fmt.Sprintf("%s is a symbolic link loop", e.Path)
	}
	return fmt.Sprintf("%s is too large: %s", e.Path, e.Detail)
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// Stat returns the FileInfo of the regular file at path, following
// symbolic links. Errors: *Error with ErrSymlinkLoop or ErrNotRegular, or
// the *fs.PathError of the file system (errors.Is fs.ErrNotExist when
// nothing is there).
func Stat(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if isLoop(err) {
			return nil, &Error{Path: path, Kind: ErrSymlinkLoop}
		}
		return nil, err
	}
	return fi, checkInfo(path, fi, -1)
}

// Open opens the regular file at path for reading, refusing it when it
// holds more than limit bytes (limit < 0: no limit). A named pipe is
// refused without waiting for a writer. The caller closes the file and
// bounds its own reads to fi.Size() (the file may grow). Errors are those
// of Stat, plus *Error with ErrTooLarge.
func Open(path string, limit int64) (f *os.File, fi fs.FileInfo, err error) {
	if _, err := Stat(path); err != nil { // never open a FIFO: that blocks
		return nil, nil, err
	}
	f, err = os.OpenFile(path, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	// Stat the open file too: path may have been replaced since.
	if fi, err = f.Stat(); err == nil {
		err = checkInfo(path, fi, limit)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// ReadFile reads the whole regular file at path, at most limit bytes
// (limit ≥ 0). Errors are those of Open; a file that grows past limit while
// being read is refused with ErrTooLarge too.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, fi, err := Open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(path, f, fi.Size(), limit)
}

// ReadFS reads the regular file name of fsys as ReadFile does. fs.FS has
// no non-blocking open, so the file is checked with fs.Stat before it is
// opened and again once it is open.
func ReadFS(fsys fs.FS, name string, limit int64) ([]byte, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		if isLoop(err) {
			return nil, &Error{Path: name, Kind: ErrSymlinkLoop}
		}
		return nil, err
	}
	if err := checkInfo(name, fi, limit); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkInfo(name, fi, limit); err != nil {
		return nil, err
	}
	return readAll(name, f, fi.Size(), limit)
}

// checkInfo refuses a file that is not regular or, when limit ≥ 0, larger
// than limit bytes.
func checkInfo(path string, fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return &Error{Path: path, Kind: ErrNotRegular, Detail: Kind(fi.Mode())}
	}
	if limit >= 0 && fi.Size() > limit {
		return tooLarge(path, Size(fi.Size()), limit)
	}
	return nil
}

func tooLarge(path, size string, limit int64) error {
	return &Error{Path: path, Kind: ErrTooLarge, Detail: fmt.Sprintf("%s, more than the limit of %s", size, Size(limit))}
}

// readAll reads r, expected to hold size bytes, refusing more than limit.
func readAll(path string, r io.Reader, size, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(size, limit)) + 1)
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if n > limit {
		return nil, tooLarge(path, "more bytes than its size said", limit)
	}
	return buf.Bytes(), nil
}

// Kind names a file type for messages: "a folder", "a named pipe", "a
// device", "a socket", or the mode.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// Size formats a byte count for messages: "512 bytes", "64 MiB", "1.5 GiB".
func Size(n int64) string {
	const unit = 1 << 10
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, suffix := float64(n), ""
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), suffix)
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
