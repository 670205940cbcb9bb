package model

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseSampling(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec string
		want SamplingParams
	}{
		{"greedy", SamplingParams{Temperature: 0, TopP: 1}},
		{"  greedy ", SamplingParams{Temperature: 0, TopP: 1}},
		{"temperature=0.7", SamplingParams{Temperature: 0.7, TopP: 1}},
		{"temperature=1.0", SamplingParams{Temperature: 1, TopP: 1}},
		{"temperature=0", SamplingParams{Temperature: 0, TopP: 1}},
		{"temperature=-0", SamplingParams{Temperature: 0, TopP: 1}},
		{"temperature=1e-3", SamplingParams{Temperature: 0.001, TopP: 1}},
		{"top-k=40", SamplingParams{Temperature: 1, TopK: 40, TopP: 1}},
		{"top-p=0.9", SamplingParams{Temperature: 1, TopP: 0.9}},
		{"temperature=0.7,top-k=40", SamplingParams{Temperature: 0.7, TopK: 40, TopP: 1}},
		{"top-p=0.9, temperature = 0.8 ,top-k=5", SamplingParams{Temperature: 0.8, TopK: 5, TopP: 0.9}},
		{"temperature=0,top-k=3", SamplingParams{Temperature: 0, TopK: 3, TopP: 1}},
		{"top-k=0,top-p=1", SamplingParams{Temperature: 1, TopP: 1}},
		{"temperature=1e-400", SamplingParams{Temperature: 0, TopP: 1}}, // underflows to 0: greedy
	} {
		got, err := ParseSampling(tc.spec)
		if err != nil || got != tc.want {
			t.Errorf("ParseSampling(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
}

// TestParseSamplingErrors lists every kind of malformed spec with its
// message.
func TestParseSamplingErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec, key, msg string
		outOfRange     bool // Err is a *ParamError
	}{
		{"", "", `sampling spec "": empty; want "greedy" or key=value items such as temperature=0.7,top-k=40`, false},
		{"   ", "", `sampling spec "   ": empty; want "greedy" or key=value items such as temperature=0.7,top-k=40`, false},
		{"temperature=0.7,", "", `sampling spec "temperature=0.7,": empty item (two commas, or a comma at an end)`, false},
		{",top-k=3", "", `sampling spec ",top-k=3": empty item (two commas, or a comma at an end)`, false},
		{"top-k=3,,top-p=0.5", "", `sampling spec "top-k=3,,top-p=0.5": empty item (two commas, or a comma at an end)`, false},
		{"temperature", "", `sampling spec "temperature": "temperature": want key=value, with key temperature, top-k or top-p`, false},
		{"greedy,top-k=3", "greedy", `sampling spec "greedy,top-k=3": greedy: takes no other keys (greedy is temperature 0; write temperature=0 to combine it)`, false},
		{"=0.7", "", `sampling spec "=0.7": "=0.7": no key before =`, false},
		{"temp=0.7", "temp", `sampling spec "temp=0.7": temp: unknown key; want temperature, top-k or top-p`, false},
		{"top_k=40", "top_k", `sampling spec "top_k=40": top_k: unknown key; want temperature, top-k or top-p`, false},
		{"Temperature=1", "Temperature", `sampling spec "Temperature=1": Temperature: unknown key; want temperature, top-k or top-p`, false},
		{"seed=1", "seed", `sampling spec "seed=1": seed: unknown key; want temperature, top-k or top-p`, false},
		{"temperature=0.7,temperature=0.8", "temperature", `sampling spec "temperature=0.7,temperature=0.8": temperature: given twice`, false},
		{"top-k=1,top-k=1", "top-k", `sampling spec "top-k=1,top-k=1": top-k: given twice`, false},
		{"temperature=", "temperature", `sampling spec "temperature=": temperature: no value after =`, false},
		{"temperature=abc", "temperature", `sampling spec "temperature=abc": temperature "abc": not a decimal number (such as 0.7 or 1e-3)`, false},
		{"temperature=inf", "temperature", `sampling spec "temperature=inf": temperature "inf": not a decimal number (such as 0.7 or 1e-3)`, false},
		{"temperature=NaN", "temperature", `sampling spec "temperature=NaN": temperature "NaN": not a decimal number (such as 0.7 or 1e-3)`, false},
		{"temperature=0x1p-2", "temperature", `sampling spec "temperature=0x1p-2": temperature "0x1p-2": not a decimal number (such as 0.7 or 1e-3)`, false},
		{"temperature=1..2", "temperature", `sampling spec "temperature=1..2": temperature "1..2": not a decimal number (such as 0.7 or 1e-3)`, false},
		{"temperature=0.7=0.8", "temperature", `sampling spec "temperature=0.7=0.8": temperature "0.7=0.8": not a decimal number (such as 0.7 or 1e-3)`, false},
		{"temperature=1e999", "temperature", `sampling spec "temperature=1e999": temperature "1e999": out of range: too large`, false},
		{"temperature=-0.5", "temperature", `sampling spec "temperature=-0.5": temperature "-0.5": out of range: must be a finite number ≥ 0 (0 means greedy)`, true},
		{"top-k=4.5", "top-k", `sampling spec "top-k=4.5": top-k "4.5": not a whole number (such as 40)`, false},
		{"top-k=x", "top-k", `sampling spec "top-k=x": top-k "x": not a whole number (such as 40)`, false},
		{"top-k=-1", "top-k", `sampling spec "top-k=-1": top-k "-1": out of range: must be ≥ 0 (0 means off)`, true},
		{"top-k=99999999999999999999", "top-k", `sampling spec "top-k=99999999999999999999": top-k "99999999999999999999": out of range: too large`, false},
		{"top-p=0", "top-p", `sampling spec "top-p=0": top-p "0": out of range: must be in (0, 1] (1 means off)`, true},
		{"top-p=1.5", "top-p", `sampling spec "top-p=1.5": top-p "1.5": out of range: must be in (0, 1] (1 means off)`, true},
		{"top-p=-0.1", "top-p", `sampling spec "top-p=-0.1": top-p "-0.1": out of range: must be in (0, 1] (1 means off)`, true},
		{strings.Repeat("x", MaxSpecBytes+1), "", `sampling spec "` + strings.Repeat("x", 60) + `"… (1025 bytes): longer than 1024 bytes`, false},
	} {
		_, err := ParseSampling(tc.spec)
		var se *SpecError
		if !errors.As(err, &se) {
			t.Errorf("ParseSampling(%q) = %v, want a *SpecError", tc.spec, err)
			continue
		}
		if err.Error() != tc.msg {
			t.Errorf("ParseSampling(%q):\n got %s\nwant %s", tc.spec, err, tc.msg)
		}
		if se.Spec != tc.spec || se.Key != tc.key {
			t.Errorf("ParseSampling(%q): spec %q key %q, want key %q", tc.spec, se.Spec, se.Key, tc.key)
		}
		var pe *ParamError
		if errors.As(err, &pe) != tc.outOfRange {
			t.Errorf("ParseSampling(%q): wraps a *ParamError = %v, want %v", tc.spec, !tc.outOfRange, tc.outOfRange)
		}
	}
}

func TestFormatSamplingRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    SamplingParams
		want string
	}{
		{SamplingParams{Temperature: 0, TopP: 1}, "greedy"},
		{SamplingParams{Temperature: 0.7, TopP: 1}, "temperature=0.7"},
		{SamplingParams{Temperature: 1, TopK: 40, TopP: 1}, "temperature=1,top-k=40"},
		{SamplingParams{Temperature: 1, TopP: 0.9}, "temperature=1,top-p=0.9"},
		{SamplingParams{Temperature: 0, TopK: 3, TopP: 1}, "temperature=0,top-k=3"},
		{SamplingParams{Temperature: 0.30000000000000004, TopK: 7, TopP: 1.0 / 3}, "temperature=0.30000000000000004,top-k=7,top-p=0.3333333333333333"},
	} {
		got := FormatSampling(tc.p)
		if got != tc.want {
			t.Errorf("FormatSampling(%+v) = %q, want %q", tc.p, got, tc.want)
		}
		if back, err := ParseSampling(got); err != nil || back != tc.p {
			t.Errorf("ParseSampling(%q) = %+v, %v; want %+v", got, back, err, tc.p)
		}
	}
}

func TestParseSeeds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		list string
		want []uint64
	}{
		{"1", []uint64{1}},
		{"1,2,3", []uint64{1, 2, 3}},
		{" 3 , 1 ,2", []uint64{3, 1, 2}},
		{"0,18446744073709551615", []uint64{0, math.MaxUint64}},
	} {
		got, err := ParseSeeds(tc.list)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseSeeds(%q) = %v, %v; want %v", tc.list, got, err, tc.want)
		}
	}
	var many []string
	for i := range MaxSeeds {
		many = append(many, strconv.Itoa(i))
	}
	if got, err := ParseSeeds(strings.Join(many, ",")); err != nil || len(got) != MaxSeeds {
		t.Errorf("%d seeds: %d, %v", MaxSeeds, len(got), err)
	}
}

// TestParseSeedsErrors lists every kind of malformed seed list with its
// message.
func TestParseSeedsErrors(t *testing.T) {
	t.Parallel()
	var many []string
	for i := range MaxSeeds + 1 {
		many = append(many, strconv.Itoa(i))
	}
	tooMany := strings.Join(many, ",")
	for _, tc := range []struct{ list, msg string }{
		{"", `seed list "": seed: empty list; want seeds such as 1,2,3`},
		{" ", `seed list " ": seed: empty list; want seeds such as 1,2,3`},
		{"1,", `seed list "1,": seed: empty item (two commas, or a comma at an end)`},
		{",1", `seed list ",1": seed: empty item (two commas, or a comma at an end)`},
		{"1,,2", `seed list "1,,2": seed: empty item (two commas, or a comma at an end)`},
		{"x", `seed list "x": seed "x": not a whole number ≥ 0`},
		{"1,2.5", `seed list "1,2.5": seed "2.5": not a whole number ≥ 0`},
		{"-1", `seed list "-1": seed "-1": not a whole number ≥ 0`},
		{"+1", `seed list "+1": seed "+1": not a whole number ≥ 0`},
		{"0x10", `seed list "0x10": seed "0x10": not a whole number ≥ 0`},
		{"1 2", `seed list "1 2": seed "1 2": not a whole number ≥ 0`},
		{"18446744073709551616", `seed list "18446744073709551616": seed "18446744073709551616": out of range: larger than 18446744073709551615`},
		{"1,2,1", `seed list "1,2,1": seed "1": given twice`},
		{"7,007", `seed list "7,007": seed "007": given twice`},
		{tooMany, `seed list "` + tooMany + `": seed: more than 32 seeds`},
		{strings.Repeat("1", MaxSpecBytes+1), `seed list "` + strings.Repeat("1", 60) + `"… (1025 bytes): seed: the list is longer than 1024 bytes`},
	} {
		_, err := ParseSeeds(tc.list)
		var se *SpecError
		if !errors.As(err, &se) || se.Spec != tc.list {
			t.Errorf("ParseSeeds(%q) = %v, want a *SpecError", tc.list, err)
			continue
		}
		if err.Error() != tc.msg {
			t.Errorf("ParseSeeds(%q):\n got %s\nwant %s", tc.list, err, tc.msg)
		}
	}
}

// FuzzParseSampling: any text either parses to valid settings that format
// and parse back unchanged, or fails with a *SpecError naming the text.
func FuzzParseSampling(f *testing.F) {
	for _, s := range []string{"greedy", "temperature=0.7,top-k=40", "top-p=0.9", "top-k=-1", "temperature=1e999", ",", "=", "top-p=1,top-p=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := ParseSampling(spec)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) || se.Spec != spec {
				t.Fatalf("ParseSampling(%q): %v is not a *SpecError for it", spec, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseSampling(%q) = %+v, invalid: %v", spec, p, err)
		}
		back, err := ParseSampling(FormatSampling(p))
		if err != nil || back != p {
			t.Fatalf("%q → %+v → %q → %+v, %v", spec, p, FormatSampling(p), back, err)
		}
	})
}

// FuzzParseSeeds: any text either parses to 1..MaxSeeds distinct seeds or
// fails with a *SpecError naming the text.
func FuzzParseSeeds(f *testing.F) {
	for _, s := range []string{"1,2,3", "1,,2", "18446744073709551616", "1,1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		seeds, err := ParseSeeds(list)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) || se.Spec != list {
				t.Fatalf("ParseSeeds(%q): %v is not a *SpecError for it", list, err)
			}
			return
		}
		if len(seeds) == 0 || len(seeds) > MaxSeeds {
			t.Fatalf("ParseSeeds(%q): %d seeds", list, len(seeds))
		}
		for i, s := range seeds {
			if slices.Contains(seeds[:i], s) {
				t.Fatalf("ParseSeeds(%q): %d twice", list, s)
			}
		}
	})
}

// TestQuoteSpec: messages quote a long spec by its head and length (a
// refused 24 KB seed list was echoed whole), a short one whole, and never
// cut inside a character.
func TestQuoteSpec(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("1,", 12000)
	for _, tc := range []struct{ in, want string }{
		{"1,2,3", `"1,2,3"`},
		{strings.Repeat("9", 80), strconv.Quote(strings.Repeat("9", 80))},
		{long, strconv.Quote(long[:60]) + "… (24000 bytes)"},
		{"a" + strings.Repeat("温", 100), strconv.Quote("a"+strings.Repeat("温", 19)) + "… (301 bytes)"}, // byte 60 is inside a 温
	} {
		if got := QuoteSpec(tc.in); got != tc.want {
			t.Errorf("QuoteSpec(%.20q…) = %s, want %s", tc.in, got, tc.want)
		}
	}
	_, err := ParseSeeds(long)
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("ParseSeeds of 24 KB: %d-byte error", len(err.Error()))
	}
}
