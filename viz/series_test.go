package viz

import (
	"bytes"
	"errors"
	"math"
	"strconv"
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

// TestSeriesChartLongLabels: a long rotated category label gets room below
// the plot (it was clipped at the bottom edge), and the chart grows by it;
// every label is shown, not every other one.
func TestSeriesChartLongLabels(t *testing.T) {
	t.Parallel()
	cats := make([]string, 20)
	vals := make([]float64, 20)
	for i := range cats {
		cats[i] = "L1.H2"
		vals[i] = float64(i)
	}
	short, err := NewSeriesChart(SeriesChart{ID: "short", Categories: cats, Series: []Series{{Name: "v", Values: vals}}})
	if err != nil {
		t.Fatal(err)
	}
	cats[19] = "final LayerNorm bias"
	long, err := NewSeriesChart(SeriesChart{ID: "long", Categories: cats, Series: []Series{{Name: "v", Values: vals}}})
	if err != nil {
		t.Fatal(err)
	}
	room := labelRoom(cats, 45) + 25
	if !strings.Contains(string(long.Option), `"bottom":"`+strconv.Itoa(room)+`"`) || long.Height != short.Height+room-90 {
		t.Errorf("long label: height %d (short %d), want bottom %d in %s", long.Height, short.Height, room, long.Option)
	}
	if !strings.Contains(string(long.Option), `"interval":"0"`) {
		t.Error("20 categories: not every label shown")
	}
}

// TestSeriesChartFitY: FitY makes the interactive y axis span the values
// (echarts' scale), so a loss curve's small bumps show; without it the
// option has no scale key, as before.
func TestSeriesChartFitY(t *testing.T) {
	t.Parallel()
	s := SeriesChart{ID: "fit", Categories: []string{"0", "1", "2"}, Line: true,
		Series: []Series{{Name: "loss", Values: []float64{4.46, 4.79, 4.42}}}}
	for _, fit := range []bool{false, true} {
		s.FitY = fit
		c, err := NewSeriesChart(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(c.Option), `"scale":true`); got != fit {
			t.Errorf("FitY %v: option has scale true %v: %s", fit, got, c.Option)
		}
		if !fit && strings.Contains(string(c.Option), `"scale"`) {
			t.Errorf("FitY false: option names scale: %s", c.Option)
		}
	}
}

// TestSeriesChartYLabelRoom: the room left of the plot fits the widest y
// label with its thousands separators; lesson 7's log axis of FLOPs
// (values up to 1.95e8, top label "1,000,000,000") lost its first digits
// to a fixed 80 px.
func TestSeriesChartYLabelRoom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		values []float64
		log    bool
		left   int
	}{
		{"small values keep 80 px", []float64{0.5, 3, 99}, false, 80},
		{"FLOPs on a log axis: 1,000,000,000", []float64{6.8e6, 1.95e8}, true, 7*13 + 20},
		{"1,234,567 linear", []float64{1234567, math.NaN()}, false, 7*9 + 20},
		{"negative values count by magnitude", []float64{-2.5e7, 1}, false, 7*10 + 20},
	} {
		c, err := NewSeriesChart(SeriesChart{ID: "y", Categories: []string{"a", "b", "c"}[:len(tc.values)], Line: true, LogY: tc.log,
			Series: []Series{{Name: "v", Values: tc.values}}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if want := `"left":"` + strconv.Itoa(tc.left) + `"`; !strings.Contains(string(c.Option), want) {
			t.Errorf("%s: want %s in %.300s", tc.name, want, c.Option)
		}
	}
}
