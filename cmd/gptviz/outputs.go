package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/output"
)

// inputs are the files a command reads: a trace, the files of a checkpoint
// folder. No file the command writes may replace one of them.
type inputs []inputFile

type inputFile struct {
	path string
	fi   os.FileInfo
}

// add records files, following symbolic links. A path that cannot be
// examined is skipped: the command fails on reading it anyway.
func (in *inputs) add(paths ...string) {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			*in = append(*in, inputFile{p, fi})
		}
	}
}

// addDir records every file in dir, a checkpoint folder (config, weights
// and their shards, vocabulary, merges; in the Hugging Face cache links
// into its blobs), so that no output replaces any of them. "" (the embedded
// default model) adds nothing.
func (in *inputs) addDir(dir string) {
	if dir == "" {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		in.add(filepath.Join(dir, e.Name()))
	}
}

// check returns a usage error naming flag when writing path would replace
// one of the inputs. Files are compared, not names (os.SameFile after
// following symbolic links), so a link to an input, a hard link or another
// spelling of its path is caught.
func (in inputs) check(flag, path string) error {
	out, err := os.Stat(path)
	if err != nil {
		return nil // nothing there yet (or a dangling link): nothing to lose
	}
	for _, f := range in {
		if os.SameFile(out, f.fi) {
			return usagef("%s %s: would overwrite %s, which this command reads", flag, path, f.path)
		}
	}
	return nil
}

// checkOutPath refuses, before any work is done, an output file that cannot
// be written: an empty name, a folder, a file in a folder that does not
// exist or that this user cannot write to.
func checkOutPath(flag, path string) error {
	if path == "" {
		return usagef("%s: empty file name", flag)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usagef("%s %s: is a folder; give a file name", flag, path)
	} else if err == nil && !fi.Mode().IsRegular() {
		// Outputs replace a file by renaming a complete one over it: a
		// device or pipe would only be refused after the whole run.
		return usagef("%s %s: not a regular file (a device or pipe); give a file name", flag, path)
	}
	if strings.HasSuffix(path, string(filepath.Separator)) || strings.HasSuffix(path, "/") {
		return usagef("%s %s: ends in a path separator; give a file name", flag, path)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return usagef("%s %s: the folder %s does not exist", flag, path, dir)
	} else if !fi.IsDir() {
		return usagef("%s %s: %s is a file, not a folder", flag, path, dir)
	}
	// The output is written as a temporary file in the same folder and
	// renamed, so the folder itself must be writable: try it.
	probe, err := os.CreateTemp(dir, ".gptviz-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return usagef("%s %s: cannot write to the folder %s: %v", flag, path, dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// writeWithFigures writes nb's static figures into the folder figures
// (when not "") and then nb itself as format into out (writeNotebook).
// Figures come first: if they cannot be written, out is left as it was.
// No figure may replace one of in (a usage error naming --figures); the
// count written is reported on stderr. Errors name the flag (--figures,
// --out); cancelling ctx stops the writing and leaves no partial out
// (complete figures may remain).
func writeWithFigures(ctx context.Context, nb *output.Notebook, format, out, figures string, in inputs, stderr io.Writer) error {
	if figures != "" {
		for _, p := range output.FigurePaths(figures, nb) {
			if err := in.check("--figures", p); err != nil {
				return err
			}
		}
		paths, err := output.WriteFigures(ctx, figures, nb)
		if err != nil {
			return fmt.Errorf("--figures %s: %w", figures, err)
		}
		fmt.Fprintf(stderr, "%d figures written to %s\n", len(paths), figures)
	}
	return writeNotebook(ctx, out, format, nb)
}

// writeJSONFile writes v as JSON (output.WriteJSON) into path, atomically;
// an error names flag, the option that gave path.
func writeJSONFile(ctx context.Context, flag, path string, v any) error {
	if err := output.WriteFileAtomic(ctx, path, func(w io.Writer) error { return output.WriteJSON(w, v) }); err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	return nil
}

// staticFormats returns the static figure formats a page needs: svg and
// png for a notebook (format "ipynb", whose viewers run no scripts) or when
// its figures are written into a folder (figures not ""); none otherwise.
func staticFormats(format, figures string) []string {
	if format == "ipynb" || figures != "" {
		return []string{"svg", "png"}
	}
	return nil
}

// formatByExt maps an output file's extension to the --format that writes it.
var formatByExt = map[string]string{".html": "html", ".htm": "html", ".ipynb": "ipynb", ".json": "json"}

// formatFromOut settles --format against --out's extension, after
// parsing: without --format, an --out ending in .ipynb, .json or .html
// chooses the format; with both, an extension of another format is a
// usage error, and so is one of a format the command does not write (a
// notebook written into run.ipynb as HTML, or JSON into cmp.html, opened
// as neither).
func formatFromOut(flags *pflag.FlagSet, format *string, out string, allowed ...string) error {
	want, ok := formatByExt[strings.ToLower(filepath.Ext(out))]
	if !ok || want == *format {
		return nil
	}
	if !slices.Contains(allowed, want) {
		return usagef("--out %s: the extension says %s, which this command does not write (%s)", out, want, strings.Join(allowed, " or "))
	}
	if flags.Changed("format") {
		if !slices.Contains(allowed, *format) {
			return nil // the command refuses the format itself, naming it
		}
		return usagef("--out %s: the extension says %s, but --format is %s: change one of them", out, want, *format)
	}
	*format = want
	return nil
}

// checkFiguresNotOut refuses --figures naming the same path as --out: the
// figures would fill a folder there and the page then fail to replace it,
// after the whole run.
func checkFiguresNotOut(figures, out string) error {
	if figures != "" && filepath.Clean(figures) == filepath.Clean(out) {
		return usagef("--figures %s: the same path as --out; give the figures a folder of their own", figures)
	}
	return nil
}
