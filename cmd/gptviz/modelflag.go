package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/hub"
)

// modelFlags are the flags that choose a model, shared by every command
// that runs one.
type modelFlags struct {
	name     string
	revision string
	download bool

	dir string // the checkpoint folder load read; "" for the embedded model
	// run is what the command will do with the model, for the memory
	// check before loading; zero for a command that only loads it.
	run model.RunSize
	// lessRun says how to make run smaller, for checkMemory's advice;
	// "" means the commands' own: lower --steps or shorten the prompt.
	lessRun string
}

func (f *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.name, "model", "m", "", "model: a checkpoint folder, or a Hugging Face name such as gpt2 (after 'gptviz pull gpt2'); empty means the small embedded default model")
	fs.StringVar(&f.revision, "revision", "", "Hugging Face revision (branch, tag or commit) when --model names a hub model")
}

// registerDownload adds --download, which lets the command fetch a missing
// hub model instead of asking the user to run gptviz pull.
func (f *modelFlags) registerDownload(fs *pflag.FlagSet) {
	fs.BoolVar(&f.download, "download", false, "download --model from the Hugging Face Hub if it is not in the cache (as 'gptviz pull' does)")
}

// loadDefault loads the embedded default model.
var loadDefault = defaultmodel.Load

// availableMemory is the memory the process may still use; tests fake it.
var availableMemory = model.AvailableMemory

// load resolves and loads the model, returning it and the load time.
func (f *modelFlags) load(ctx context.Context, stderr io.Writer) (*model.Model, time.Duration, error) {
	if f.name == "" && (f.revision != "" || f.download) {
		flag := "--revision " + f.revision
		if f.revision == "" {
			flag = "--download"
		}
		return nil, 0, &usageError{msg: flag + ": needs --model NAME (a Hugging Face model); the embedded default model has no revisions to choose or download"}
	}
	if sm := served(ctx); sm != nil {
		// A command gptviz serve runs: the server's model, loaded once.
		m, err := sm.use(f)
		return m, 0, err
	}
	start := time.Now()
	if f.name == "" {
		if err := f.checkMemory(func() (arch.Config, error) { return model.ReadConfigFS(defaultmodel.FS(), defaultmodel.Name) }); err != nil {
			return nil, 0, err
		}
		m, err := loadDefault()
		return m, time.Since(start), err
	}
	dir, err := hub.Resolve(f.name, hub.ResolveOptions{Revision: f.revision})
	if err != nil && f.download && errors.Is(err, hub.ErrNotCached) {
		dir, err = hub.Pull(ctx, f.name, hub.PullOptions{Revision: f.revision, Progress: stderr})
	}
	err = hubError(err)
	if errors.Is(err, hub.ErrBadName) {
		return nil, 0, &usageError{msg: fmt.Sprintf("--model %s: %v", f.name, err)}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("--model %s: %w", f.name, err)
	}
	f.dir = dir
	if err := f.checkMemory(func() (arch.Config, error) { return model.ReadConfig(dir) }); err != nil {
		return nil, 0, err
	}
	m, err := model.Load(dir)
	if err != nil {
		return nil, 0, err
	}
	if m.Tokenizer == nil {
		return nil, 0, fmt.Errorf("--model %s: %s has no vocab.json and merges.txt", f.name, dir)
	}
	if m.Name == "" || f.name != dir {
		m.Name = f.name
	}
	return m, time.Since(start), nil
}

// inputs returns the files of the checkpoint that load read, which no
// output may replace.
func (f *modelFlags) inputs() inputs {
	var in inputs
	in.addDir(f.dir)
	return in
}

// checkMemory refuses, before loading, a model and run that need more
// memory than is available (model.EstimateMemory from the config that
// config reads: a checkpoint folder's config.json, or the embedded default
// model's), saying how to need less. It is a plain failure (exit 1), not a
// usage error. Where the available memory is unknown it checks nothing.
func (f *modelFlags) checkMemory(config func() (arch.Config, error)) error {
	avail, ok := availableMemory()
	if !ok {
		return nil
	}
	cfg, err := config()
	if err != nil {
		return nil // Load reports it, with the other checkpoint errors
	}
	need := model.EstimateMemory(cfg, f.run)
	if err := model.CheckMemory(need, avail); err != nil {
		how := "use a smaller model (the weights alone need " + inputfile.Size(need.Weights) + ")"
		if need.Weights < need.Total()/2 {
			how = "lower --steps or shorten the prompt"
			if f.run.Trace.MaxAttention > 0 {
				how = "lower --steps or --max-attention, or shorten the prompt"
			}
			if f.lessRun != "" {
				how = f.lessRun
			}
		}
		which := "--model " + f.name
		if f.name == "" {
			which = "the default model " + defaultmodel.Name
		}
		return fmt.Errorf("%s: %w; to need less, %s", which, err, how)
	}
	return nil
}
