// Package numfmt is the one rule by which gptviz writes a measured number
// for people, so that the report's text and its charts agree (the
// perplexity was 61195 in the text and 61190 in the chart).
package numfmt

import (
	"math"
	"strconv"
	"strings"
)

// Sig writes x with d significant digits (d ≥ 1), but never rounds away
// digits before the decimal point: 61195.3 is "61195" (not "61190" or
// "6.12e+04"), 123.456 is "123.5", 0.012345 is "0.01235" (d = 4). Numbers
// below 1e-4 or from 1e9 up use an exponent ("1.5e-05", "2.5e+09"); 0 is
// "0"; NaN is "–" (no value); ±Inf are "+Inf" and "-Inf".
func Sig(x float64, d int) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case math.IsInf(x, 0):
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	d = max(d, 1)
	if x != 0 && (math.Abs(x) < 1e-4 || math.Abs(x) >= 1e9) {
		return strconv.FormatFloat(x, 'g', d, 64)
	}
	s := strconv.FormatFloat(x, 'g', d, 64)
	if strings.Contains(s, "e") { // more digits before the point than d
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return s
}

// Mean returns the arithmetic mean of v, summed in order; NaN for an empty
// v (which Sig writes as "–"). A page's text and its charts average with
// this one function, so the mean in a sentence is the height of the bar.
func Mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
