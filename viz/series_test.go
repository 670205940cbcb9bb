package viz

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestSeriesChart(t *testing.T) {
	t.Parallel()
	ok := SeriesChart{ID: "s-1", Title: "T", XName: "x", YName: "y", Categories: []string{"a", "<b>"},
		Series: []Series{{Name: "one", Values: []float64{1, math.NaN()}}, {Name: "two", Values: []float64{2, 3}, Color: "#112233"}}}
	for _, line := range []bool{false, true} {
		ok.Line = line
		c, err := NewSeriesChart(ok)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(c.Option), "<b>") || !strings.Contains(string(c.Option), `"-"`) {
			t.Errorf("option not escaped or NaN not a gap: %s", c.Option)
		}
		for _, f := range []string{"svg", "png"} {
			var b bytes.Buffer
			if err := c.Static(&b, f); err != nil || b.Len() == 0 {
				t.Errorf("static %s: %v", f, err)
			}
		}
	}
	for _, tc := range []struct {
		edit func(*SeriesChart)
		want error
	}{
		{func(s *SeriesChart) { s.ID = "A b" }, ErrInvalid},
		{func(s *SeriesChart) { s.Series[0].Values = []float64{1} }, ErrInvalid},
		{func(s *SeriesChart) { s.Series[1].Color = "red" }, ErrInvalid},
		{func(s *SeriesChart) { s.LogY = true; s.Series[0].Values = []float64{0, 1} }, ErrInvalid},
		{func(s *SeriesChart) { s.Series = s.Series[:1]; s.Series[0].Values = []float64{math.NaN(), math.NaN()} }, ErrNoData},
	} {
		s := ok
		s.Series = append([]Series(nil), ok.Series...)
		tc.edit(&s)
		if _, err := NewSeriesChart(s); !errors.Is(err, tc.want) {
			t.Errorf("%+v: error %v, want %v", s, err, tc.want)
		}
	}
}
