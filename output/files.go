package output

import (
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
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, write)
}

// WriteFigures writes the static renderings of nb's charts into dir (created
// with mode 0755 if missing): ID.svg for each Chart.SVG and ID.png for each
// Chart.PNG, each written atomically, in cell order. Charts with only an
// Option have no static figure and are skipped. It returns the paths
// written. It returns an error wrapping ErrInvalid if nb.Validate fails
// (nothing is written), or the first error creating dir or writing a file,
// together with the paths written before it.
func WriteFigures(dir string, nb *Notebook) ([]string, error) {
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
			err := WriteFileAtomic(p, func(w io.Writer) error {
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
