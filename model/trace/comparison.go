package trace

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/gptviz/gptviz/internal/inputfile"
)

// Comparison is a comparison of sampling settings on one prompt (gptviz
// compare): the recorded run of every setting × seed, all continuing the
// same prefill, with the numbers a page shows about each. Plain data,
// written as JSON.
type Comparison struct {
	Version int `json:"version"` // Version, as for a Trace
	// Command is the gptviz command line that reruns the comparison.
	Command string `json:"command,omitempty"`
	Prompt  string `json:"prompt"`
	Steps   int    `json:"steps"` // decode steps of every run
	// Settings are the sampling settings compared, in order; Seeds the
	// seeds each was run with.
	Settings []CompareSetting `json:"settings"`
	Seeds    []uint64         `json:"seeds"`
	// Runs[i][j] is the run of Settings[i] with Seeds[j].
	Runs [][]*Trace `json:"runs"`
	// Summaries[i][j] is Summarize(Runs[i][j]).
	Summaries [][]Summary `json:"summaries"`
	// Diverges[i][j] is the first decode step at which Runs[i][j] chose
	// another token than Runs[0][j] (the first setting with the same
	// seed), from 1; 0 when they agree on every step.
	Diverges [][]int `json:"diverges"`
}

// CompareSetting is one compared sampling setting: its spec as the user
// may write it (model.ParseSampling's grammar) and its values.
type CompareSetting struct {
	Spec        string  `json:"spec"`
	Temperature float64 `json:"temperature"` // 0 means greedy
	TopK        int     `json:"top_k"`       // 0 means off
	TopP        float64 `json:"top_p"`       // 1 means off
}

// NewComparison assembles a Comparison from runs indexed [setting][seed]
// (as model.Compare returns them; at least one of each, every row as long),
// the specs of the settings (one per row) and the rerun command. The
// settings' values, seeds, prompt and steps are read from the runs, the
// summaries and divergence steps computed.
func NewComparison(command string, specs []string, runs [][]*Trace) (*Comparison, error) {
	if len(runs) == 0 || len(runs[0]) == 0 || len(specs) != len(runs) {
		return nil, fmt.Errorf("comparison: %d specs for %d settings; want at least one setting and seed", len(specs), len(runs))
	}
	first := runs[0][0]
	c := &Comparison{Version: Version, Command: command, Prompt: first.Prompt, Steps: first.Settings.Steps, Runs: runs}
	for _, tr := range runs[0] {
		c.Seeds = append(c.Seeds, tr.Settings.Seed)
	}
	for i, row := range runs {
		s := row[0].Settings
		c.Settings = append(c.Settings, CompareSetting{Spec: specs[i], Temperature: s.Temperature, TopK: s.TopK, TopP: s.TopP})
		var sums []Summary
		var div []int
		for j, tr := range row {
			if j >= len(runs[0]) {
				return nil, fmt.Errorf("comparison: setting %d has %d runs, want %d", i, len(row), len(runs[0]))
			}
			sums = append(sums, Summarize(tr))
			step, _ := Divergence(runs[0][j], tr)
			div = append(div, step)
		}
		c.Summaries = append(c.Summaries, sums)
		c.Diverges = append(c.Diverges, div)
	}
	return c, c.Validate()
}

// Seed returns the comparison of every setting with Seeds[j] alone, as
// NewComparison assembles it, without a rerun command (the command
// reruns every seed). It returns an error for j out of range.
func (c *Comparison) Seed(j int) (*Comparison, error) {
	if j < 0 || j >= len(c.Seeds) {
		return nil, fmt.Errorf("comparison: seed index %d outside 0..%d", j, len(c.Seeds)-1)
	}
	specs := make([]string, len(c.Settings))
	runs := make([][]*Trace, len(c.Runs))
	for i := range c.Runs {
		specs[i], runs[i] = c.Settings[i].Spec, c.Runs[i][j:j+1]
	}
	return NewComparison("", specs, runs)
}

// Validate checks that a Comparison is consistent: every run a valid Trace
// of the same prompt and steps, run [i][j] made with Settings[i] and
// Seeds[j], and the summaries and divergence steps shaped [settings][seeds].
// Errors name the field, e.g. "runs[1][2]: seed 7, want 3".
func (c *Comparison) Validate() error {
	if c.Version != Version {
		return fmt.Errorf("version %d: this gptviz reads version %d", c.Version, Version)
	}
	S, N := len(c.Settings), len(c.Seeds)
	switch {
	case S == 0 || N == 0:
		return fmt.Errorf("settings, seeds: %d and %d, want at least one of each", S, N)
	case len(c.Runs) != S:
		return fmt.Errorf("runs: %d rows, want one per setting (%d)", len(c.Runs), S)
	case len(c.Summaries) != S || len(c.Diverges) != S:
		return fmt.Errorf("summaries, diverges: %d and %d rows, want %d", len(c.Summaries), len(c.Diverges), S)
	}
	for j, seed := range c.Seeds {
		if slices.Contains(c.Seeds[:j], seed) {
			return fmt.Errorf("seeds[%d]: %d given twice", j, seed)
		}
	}
	for i, row := range c.Runs {
		if len(row) != N || len(c.Summaries[i]) != N || len(c.Diverges[i]) != N {
			return fmt.Errorf("runs[%d]: %d runs, %d summaries, %d divergence steps; want %d each", i, len(row), len(c.Summaries[i]), len(c.Diverges[i]), N)
		}
		want := c.Settings[i]
		for j, tr := range row {
			if tr == nil {
				return fmt.Errorf("runs[%d][%d]: missing", i, j)
			}
			if err := tr.Validate(); err != nil {
				return fmt.Errorf("runs[%d][%d]: %w", i, j, err)
			}
			s := tr.Settings
			switch {
			case tr.Prompt != c.Prompt || s.Steps != c.Steps:
				return fmt.Errorf("runs[%d][%d]: prompt %q, %d steps; want %q, %d", i, j, tr.Prompt, s.Steps, c.Prompt, c.Steps)
			case s.Temperature != want.Temperature || s.TopK != want.TopK || s.TopP != want.TopP:
				return fmt.Errorf("runs[%d][%d]: temperature %v, top_k %d, top_p %v; want settings[%d]'s %v, %d, %v", i, j, s.Temperature, s.TopK, s.TopP, i, want.Temperature, want.TopK, want.TopP)
			case s.Seed != c.Seeds[j]:
				return fmt.Errorf("runs[%d][%d]: seed %d, want %d", i, j, s.Seed, c.Seeds[j])
			}
			if d := c.Diverges[i][j]; d < 0 || d > c.Steps {
				return fmt.Errorf("diverges[%d][%d]: %d outside 0..steps %d", i, j, d, c.Steps)
			}
		}
	}
	return nil
}

// ClearTimings sets every wall-clock time in tr to 0 (Timings and each
// Step's Millis and LensMillis), the only values of a recording that differ between two
// runs of the same settings: a file written after it is byte-identical
// when rerun.
func (tr *Trace) ClearTimings() {
	tr.Timings = Timings{}
	for i := range tr.Steps {
		tr.Steps[i].Millis, tr.Steps[i].LensMillis = 0, 0
	}
	if tr.CacheCost != nil {
		for i := range tr.CacheCost.Steps {
			tr.CacheCost.Steps[i].CachedMillis, tr.CacheCost.Steps[i].UncachedMillis = 0, 0
		}
	}
}

// ReadComparisonFile reads and checks a Comparison written as JSON (by
// gptviz compare --format json). A path that is not a regular file (after
// following symbolic links) or holds more than MaxBytes is refused before
// anything is read (*inputfile.Error). Other errors are those of
// ReadComparison. Errors name the file.
func ReadComparisonFile(path string) (*Comparison, error) {
	f, fi, err := inputfile.Open(path, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("comparison: %w", err)
	}
	defer f.Close()
	if fi.Size() == 0 {
		return nil, fmt.Errorf("comparison %s: empty file", path)
	}
	return readComparison(f, path, fi.Size())
}

// ReadComparison decodes a Comparison from r and checks it; name is used
// in error messages. A comparison is untrusted input and is read as Read
// reads a Trace: the JSON text is first walked against the Comparison's
// shape (*InputError for a misspelled or repeated key, a value of the wrong
// kind, an overlong or invalid string), the recorded values of all its runs
// together are bounded by MaxRenderValues (*TooLargeError) and the input by
// MaxBytes. Then it must be consistent (Comparison.Validate), and its
// summaries and divergence steps must be those its runs give (Summarize,
// Divergence): a page states them, so a file cannot make it state others.
func ReadComparison(r io.Reader, name string) (*Comparison, error) {
	return readComparison(r, name, -1)
}

func readComparison(r io.Reader, name string, size int64) (*Comparison, error) {
	data, err := readAll(r, size)
	if err != nil {
		return nil, fmt.Errorf("comparison %s: %w", name, err)
	}
	if err := scanAs(data, comparisonSchema, "comparison"); err != nil {
		return nil, fmt.Errorf("comparison %s: %w", name, decodeError(err, int64(len(data))))
	}
	var c Comparison
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("comparison %s: %w", name, decodeError(err, int64(len(data))))
	}
	var n int64
	for _, row := range c.Runs {
		for _, tr := range row {
			if tr != nil {
				n += tr.Values()
			}
		}
	}
	if n > maxRenderValues {
		return nil, fmt.Errorf("comparison %s: %w", name, &TooLargeError{Values: n, Limit: maxRenderValues, Offset: -1})
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("comparison %s: %w", name, err)
	}
	if err := c.checkDerived(); err != nil {
		return nil, fmt.Errorf("comparison %s: %w", name, err)
	}
	return &c, nil
}

// checkDerived checks that the summaries and divergence steps are those
// the runs give. c must be valid.
func (c *Comparison) checkDerived() error {
	for i, row := range c.Runs {
		for j, tr := range row {
			if got, want := c.Summaries[i][j], Summarize(tr); got != want {
				return fmt.Errorf("summaries[%d][%d]: %+v, but the run gives %+v", i, j, got, want)
			}
			if want, _ := Divergence(c.Runs[0][j], tr); c.Diverges[i][j] != want {
				return fmt.Errorf("diverges[%d][%d]: %d, but the runs give %d", i, j, c.Diverges[i][j], want)
			}
		}
	}
	return nil
}
