package numfmt

import (
	"math"
	"testing"
)

func TestSig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		x    float64
		d    int
		want string
	}{
		{61195.3, 4, "61195"}, // the perplexity shown as 61195 and 61190
		{61195.7, 4, "61196"},
		{9999.6, 4, "10000"},
		{123.456, 4, "123.5"},
		{1.23456, 4, "1.235"},
		{0.012345, 4, "0.01235"},
		{0.5, 4, "0.5"},
		{0, 4, "0"},
		{-2.5, 3, "-2.5"},
		{-61195.3, 4, "-61195"},
		{1.5e-5, 3, "1.5e-05"},
		{2.5e9, 3, "2.5e+09"},
		{12, 0, "12"},
		{math.NaN(), 4, "–"},
		{math.Inf(1), 4, "+Inf"},
	} {
		if got := Sig(tc.x, tc.d); got != tc.want {
			t.Errorf("Sig(%v, %d) = %q, want %q", tc.x, tc.d, got, tc.want)
		}
	}
}
