package main

import (
	"os"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model/trace"
)

// reproducibleHelp is the --help text of --reproducible (report, render,
// generate).
const reproducibleHelp = "leave wall-clock timings out of the report and trace, so that the same command writes byte-identical files " +
	"(on the same architecture and CPU features); also on when SOURCE_DATE_EPOCH is set"

// registerReproducible adds --reproducible to fs.
func registerReproducible(fs *pflag.FlagSet, p *bool) {
	fs.BoolVar(p, "reproducible", false, reproducibleHelp)
}

// reproducible reports whether a command leaves timings out: when flag
// (--reproducible) is set, or when the environment sets SOURCE_DATE_EPOCH
// (https://reproducible-builds.org/specs/source-date-epoch/), the convention
// build systems use to ask for reproducible output. gptviz writes no dates,
// so the value itself is not used, but a malformed one is a usage error, as
// the convention asks.
func reproducible(flag bool) (bool, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return flag, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
		return false, usagef("SOURCE_DATE_EPOCH %q: want a whole number of seconds since 1970-01-01 UTC", v)
	}
	return true, nil
}

// omitTimings removes everything from tr that changes from run to run on
// the same machine: the wall-clock timings of the run and of each step. It
// adds a note (lessons.NoteTimingsOmitted) that says so, once, so that a
// report of tr, and a later render of it, says the timings were left out
// rather than showing zeros.
func omitTimings(tr *trace.Trace) {
	tr.ClearTimings()
	if !timingsOmitted(tr) {
		tr.Notes = append(tr.Notes, trace.Note{Code: lessons.NoteTimingsOmitted,
			Text: "Wall-clock timings were left out (--reproducible), so that the same run writes the same bytes."})
	}
}

// timingsOmitted reports whether tr says its timings were left out.
func timingsOmitted(tr *trace.Trace) bool {
	for _, n := range tr.Notes {
		if n.Code == lessons.NoteTimingsOmitted {
			return true
		}
	}
	return false
}
