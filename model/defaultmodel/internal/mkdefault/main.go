// Command mkdefault installs a `gptviz train` run as the embedded default
// model: it exports the run's final weights to F16 into
// model/defaultmodel/gptviz-default (with config.json, vocab.json,
// merges.txt, loss.csv and train_state.json) and copies the run's F16
// snapshots except step 0, which defaultmodel.LoadSnapshot regenerates from
// the seed (keeping the embedded files under issue 13's 25 MB). It refuses
// a run that lacks a snapshot its train_state.json plans before its last
// step (the default model's run, train-mix.sh: 0, 100 and 500, with the
// last step 60,000).
//
// Usage (from the repository root):
//
//	go run ./model/defaultmodel/internal/mkdefault RUN_DIR
//	go run ./model/defaultmodel/internal/mkdefault RUN_DIR OUT_DIR
//
// With OUT_DIR it writes the same files there instead (to measure a
// candidate as it would ship, without replacing the embedded model).
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gptviz/gptviz/model/safetensors"
	"github.com/gptviz/gptviz/model/train"
)

const defaultDst = "model/defaultmodel/gptviz-default"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkdefault:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return fmt.Errorf("usage: mkdefault RUN_DIR [OUT_DIR]")
	}
	src, dst := args[0], defaultDst
	if len(args) == 2 {
		dst = args[1]
	}
	st, err := train.ReadState(src)
	if err != nil {
		return err
	}
	for _, s := range st.Snapshots {
		if s == 0 || s >= st.Step {
			continue
		}
		if _, err := os.Stat(filepath.Join(src, "snapshots", fmt.Sprintf("step-%06d", s), "model.safetensors")); err != nil {
			return fmt.Errorf("%s: the run plans a snapshot at step %d but has none: %w", src, s, err)
		}
	}
	fmt.Printf("mkdefault: %s step %d (snapshots %v) -> %s\n", src, st.Step, st.Snapshots, dst)
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := train.Export(src, dst, safetensors.F16); err != nil {
		return err
	}
	snaps := filepath.Join(src, "snapshots")
	return filepath.WalkDir(snaps, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "step-000000" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}
