package output

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gptviz/gptviz/internal/atomicfile"
)

// WriteJSON writes v to w as indented JSON (two spaces) followed by a
// newline, with <, >, & escaped as in encoding/json's default so the output
// is safe to embed in HTML. Map keys are sorted, so the output is
// deterministic for deterministic v. It returns an error if v cannot be
// encoded or w fails; since v is encoded in one go, a value that cannot be
// encoded writes nothing.
func WriteJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// WriteFileAtomic writes a file at path with the bytes write produces, so
// that readers see either the old file or the complete new one, never a part
// (see internal/atomicfile.Write: a temporary file in the same folder,
// synced, then renamed; the old file's permission bits kept, else 0644; a
// symbolic link's target replaced; on any error, or a panic in write, the
// temporary file removed and the old file untouched). Errors name path.
//
// ctx stops the write: write's writer checks it before every chunk of at
// most 1 MiB, and it is checked once more before the file is put in place.
// A cancelled write leaves no file behind (the old one untouched) and
// returns an error wrapping ctx.Err().
func WriteFileAtomic(ctx context.Context, path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := write(&ctxWriter{ctx: ctx, w: w}); err != nil {
			return err
		}
		return ctx.Err()
	})
}

// writeChunk is how many bytes ctxWriter writes between checks of its
// context.
const writeChunk = 1 << 20

// ctxWriter writes to w in chunks of at most writeChunk bytes and stops
// with ctx's error once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	var n int
	for len(p) > 0 {
		if err := c.ctx.Err(); err != nil {
			return n, err
		}
		k, err := c.w.Write(p[:min(len(p), writeChunk)])
		n += k
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// FigurePaths returns the files WriteFigures(dir, nb) would write, in the
// same order, so that a caller can check them before anything is written.
func FigurePaths(dir string, nb *Notebook) []string {
	var paths []string
	for _, c := range nb.Cells {
		if c.Kind != KindChart || c.Chart == nil {
			continue
		}
		if len(c.Chart.SVG) > 0 {
			paths = append(paths, filepath.Join(dir, c.Chart.ID+".svg"))
		}
		if len(c.Chart.PNG) > 0 {
			paths = append(paths, filepath.Join(dir, c.Chart.ID+".png"))
		}
	}
	return paths
}

// WriteFigures writes the static renderings of nb's charts into dir (created
// with mode 0755 if missing): ID.svg for each Chart.SVG and ID.png for each
// Chart.PNG, each written atomically (WriteFileAtomic with ctx), in cell
// order: the files of FigurePaths. Charts with only an Option have no
// static figure and are skipped. It returns the paths written. It returns
// an error wrapping ErrInvalid if nb.Validate fails (nothing is written),
// or the first error creating dir or writing a file (one wrapping
// ctx.Err() once ctx is done), together with the paths written before it;
// those files are complete.
func WriteFigures(ctx context.Context, dir string, nb *Notebook) ([]string, error) {
	if err := nb.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("figures: %w", err)
	}
	var paths []string
	for _, c := range nb.Cells {
		if c.Kind != KindChart {
			continue
		}
		for _, f := range []struct {
			ext  string
			data []byte
		}{{".svg", c.Chart.SVG}, {".png", c.Chart.PNG}} {
			if len(f.data) == 0 {
				continue
			}
			p := filepath.Join(dir, c.Chart.ID+f.ext)
			err := WriteFileAtomic(ctx, p, func(w io.Writer) error {
				_, err := w.Write(f.data)
				return err
			})
			if err != nil {
				return paths, fmt.Errorf("figures: %w", err)
			}
			paths = append(paths, p)
		}
	}
	return paths, nil
}
