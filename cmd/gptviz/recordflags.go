package main

import (
	"strconv"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
)

// defaultKVRows is the default of --kv-rows, model.TraceOptions.KVRows'
// own default.
const defaultKVRows = 256

// recordFlags choose what a run records of each step's writes into the KV
// cache (Step.KVWrite: --kv-rows and --kv-focus) and of its logit lens
// (--lens-positions); shared by report and generate --trace.
type recordFlags struct {
	rows  int   // --kv-rows: full rows per step, ≥ 0; 0 records only the norms
	focus []int // --kv-focus LAYER,HEAD; nil is the last layer, head 0
	lens  int   // --lens-positions: lens rows per step, ≥ 1
}

func (f *recordFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.rows, "kv-rows", defaultKVRows, "record the keys and values of the --kv-focus head in full for at most this many rows a step writes into the KV cache (the last ones); 0 records only the key and value norms, which every layer and row always has")
	fs.IntSliceVar(&f.focus, "kv-focus", nil, "LAYER,HEAD whose keys and values each step records in full (default the last layer, head 0)")
	fs.IntVar(&f.lens, "lens-positions", model.DefaultLensQueries, "read the logit lens out at most at this many positions of one step (the last ones); each costs n_layer − 1 rows through the output head (the last layer's reading is the output itself)")
}

// validate checks the flags' own values, before the model is loaded.
func (f *recordFlags) validate() error {
	if f.rows < 0 {
		return usagef("--kv-rows %d: must be ≥ 0 (0 records only the norms)", f.rows)
	}
	if f.lens < 1 {
		return usagef("--lens-positions %d: must be ≥ 1", f.lens)
	}
	if f.focus != nil && len(f.focus) != 2 {
		return usagef("--kv-focus %s: want LAYER,HEAD", joinInts(f.focus))
	}
	return nil
}

// checkModel checks --kv-focus against the model's shape.
func (f *recordFlags) checkModel(c arch.Config) error {
	if f.focus != nil && (f.focus[0] < 0 || f.focus[0] >= c.NLayer || f.focus[1] < 0 || f.focus[1] >= c.NHead) {
		return usagef("--kv-focus %d,%d: the model has layers 0..%d and heads 0..%d", f.focus[0], f.focus[1], c.NLayer-1, c.NHead-1)
	}
	return nil
}

// apply sets o's KV recording from the flags, in the library's words
// (TraceOptions.KVRows negative for no full rows).
func (f *recordFlags) apply(o *model.TraceOptions) {
	o.KVRows = f.rows
	if f.rows == 0 {
		o.KVRows = -1
	}
	if f.focus != nil {
		o.KVFocus = &model.LayerHead{Layer: f.focus[0], Head: f.focus[1]}
	}
	o.LensQueries = f.lens
}

// view returns r with the flags a command line needs to record the same:
// values equal to the defaults (for a model of config c) are left out.
func (f *recordFlags) view(r rerun, c arch.Config) rerun {
	r.kvRows, r.kvFocus, r.lensPositions = 0, nil, 0
	if f.lens != model.DefaultLensQueries {
		r.lensPositions = f.lens
	}
	switch {
	case f.rows == 0:
		r.kvRows = -1
	case f.rows != defaultKVRows:
		r.kvRows = f.rows
	}
	if f.focus != nil && !(f.focus[0] == c.NLayer-1 && f.focus[1] == 0) {
		r.kvFocus = f.focus
	}
	return r
}

// kvArgs returns the --kv-rows, --kv-focus and --lens-positions arguments
// of r.
func (r rerun) kvArgs() []string {
	var a []string
	if r.kvRows != 0 {
		a = append(a, "--kv-rows", strconv.Itoa(max(r.kvRows, 0)))
	}
	if len(r.kvFocus) > 0 {
		a = append(a, "--kv-focus", joinInts(r.kvFocus))
	}
	if r.lensPositions > 0 {
		a = append(a, "--lens-positions", strconv.Itoa(r.lensPositions))
	}
	return a
}
