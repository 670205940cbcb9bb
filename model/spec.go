package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sampling specs: one sampling setting written as text, for comparing
// several settings side by side (gptviz compare --sample SPEC).
//
//	spec  = "greedy" | item { "," item }
//	item  = key "=" value
//	key   = "temperature" | "top-k" | "top-p"
//	value = a decimal number: temperature and top-p as 0.7, 1, 1e-3;
//	        top-k as a whole number such as 40
//
// Keys not given keep the defaults that switch their filter off:
// temperature 1, top-k 0 (off), top-p 1 (off). "greedy" is temperature 0
// (the argmax) and takes no other key. Spaces around items, keys and
// values are ignored. Each key may appear once; values must lie in the
// ranges SamplingParams.Validate accepts (temperature ≥ 0, top-k ≥ 0,
// top-p in (0, 1]). Examples:
//
//	greedy
//	temperature=0.7
//	temperature=0.7,top-k=40
//	top-p=0.9
//
// FormatSampling writes the canonical spec of a setting, which
// ParseSampling reads back to the same SamplingParams.

// Limits of a comparison's lists.
const (
	// MaxSpecBytes is the longest sampling spec or seed list accepted.
	MaxSpecBytes = 1024
	// MaxSeeds is the most seeds a seed list may hold.
	MaxSeeds = 32
)

// SpecError is a sampling spec or seed list that cannot be read. Spec is
// the text as given; Key the key the problem is about ("temperature",
// "top-k", "top-p", "greedy"; "seed" for an item of a seed list; "" for the
// text as a whole); Value the offending value or item; Problem says what
// is wrong. Err is the underlying error where there is one: a *ParamError
// for a value out of range. Match it with errors.As.
type SpecError struct {
	What    string // "sampling spec" or "seed list"
	Spec    string
	Key     string
	Value   string
	Problem string
	Err     error
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.What, QuoteSpec(e.Spec), e.Reason())
}

// QuoteSpec quotes a spec or seed list for a message (%q): whole up to
// 200 bytes, else its first 60 bytes and its length, so that a refused
// 24 KB list is not echoed whole.
func QuoteSpec(s string) string {
	const keep = 60
	if len(s) <= 200 {
		return strconv.Quote(s)
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

// Reason is the message without the spec: what is wrong, naming the key
// and value, e.g. `top-k "x": not a whole number`.
func (e *SpecError) Reason() string {
	switch {
	case e.Key != "" && e.Value != "":
		return fmt.Sprintf("%s %q: %s", e.Key, e.Value, e.Problem)
	case e.Key != "":
		return fmt.Sprintf("%s: %s", e.Key, e.Problem)
	case e.Value != "":
		return fmt.Sprintf("%q: %s", e.Value, e.Problem)
	}
	return e.Problem
}

func (e *SpecError) Unwrap() error { return e.Err }

// specKeys are the keys of a sampling spec, in canonical order, with the
// ParamError names of their settings.
var specKeys = []struct{ key, param string }{
	{"temperature", "temperature"},
	{"top-k", "top_k"},
	{"top-p", "top_p"},
}

// ParseSampling reads a sampling spec (see the grammar above) and returns
// its validated settings. Errors are *SpecError: empty spec or item, an
// item without "=", an unknown key, a key given twice, "greedy" with other
// keys, a value that is not a number of the key's kind, or out of range
// (then Err is the *ParamError).
func ParseSampling(spec string) (SamplingParams, error) {
	p := SamplingParams{Temperature: 1, TopP: 1}
	fail := func(key, value, problem string, err error) (SamplingParams, error) {
		return SamplingParams{}, &SpecError{What: "sampling spec", Spec: spec, Key: key, Value: value, Problem: problem, Err: err}
	}
	switch {
	case len(spec) > MaxSpecBytes:
		return fail("", "", fmt.Sprintf("longer than %d bytes", MaxSpecBytes), nil)
	case strings.TrimSpace(spec) == "":
		return fail("", "", `empty; want "greedy" or key=value items such as temperature=0.7,top-k=40`, nil)
	case strings.TrimSpace(spec) == "greedy":
		return SamplingParams{Temperature: 0, TopP: 1}, nil
	}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		key, value, ok := strings.Cut(item, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case item == "":
			return fail("", "", "empty item (two commas, or a comma at an end)", nil)
		case item == "greedy":
			return fail("greedy", "", "takes no other keys (greedy is temperature 0; write temperature=0 to combine it)", nil)
		case !ok:
			return fail("", item, "want key=value, with key temperature, top-k or top-p", nil)
		case key == "":
			return fail("", item, "no key before =", nil)
		}
		param := ""
		for _, k := range specKeys {
			if k.key == key {
				param = k.param
			}
		}
		switch {
		case param == "":
			return fail(key, "", "unknown key; want temperature, top-k or top-p", nil)
		case seen[key]:
			return fail(key, "", "given twice", nil)
		case value == "":
			return fail(key, "", "no value after =", nil)
		}
		seen[key] = true
		// Each key is checked on its own, so the error names it.
		single := SamplingParams{Temperature: 1, TopP: 1}
		var err error
		switch key {
		case "temperature":
			single.Temperature, err = parseDecimal(value)
			p.Temperature = single.Temperature
		case "top-k":
			single.TopK, err = parseWhole(value)
			p.TopK = single.TopK
		case "top-p":
			single.TopP, err = parseDecimal(value)
			p.TopP = single.TopP
		}
		if err != nil {
			return fail(key, value, err.Error(), nil)
		}
		if err := single.Validate(); err != nil {
			var pe *ParamError
			errors.As(err, &pe)
			return fail(key, value, "out of range: "+pe.Problem, err)
		}
	}
	return p, nil
}

// errNotNumber and errNotWhole say what a value should have been.
var (
	errNotNumber = errors.New("not a decimal number (such as 0.7 or 1e-3)")
	errNotWhole  = errors.New("not a whole number (such as 40)")
	errTooLarge  = errors.New("out of range: too large")
)

// parseDecimal reads a decimal number: digits, a point, an exponent and a
// sign, as strconv.ParseFloat does, but not "inf", "nan", hexadecimal or
// underscores. Values beyond float64 are out of range.
func parseDecimal(s string) (float64, error) {
	if strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789.eE+-", r) }) >= 0 {
		return 0, errNotNumber
	}
	x, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) && x != 0 {
		return 0, errTooLarge
	}
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errNotNumber
	}
	if x == 0 {
		x = 0 // -0 reads as 0
	}
	return x, nil // an underflow reads as 0 (or the nearest subnormal)
}

// parseWhole reads a decimal whole number with an optional sign.
func parseWhole(s string) (int, error) {
	if strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789+-", r) }) >= 0 {
		return 0, errNotWhole
	}
	k, err := strconv.Atoi(s)
	if errors.Is(err, strconv.ErrRange) {
		return 0, errTooLarge
	}
	if err != nil {
		return 0, errNotWhole
	}
	return k, nil
}

// FormatSampling writes p as its canonical sampling spec: "greedy" for
// temperature 0 with both filters off, otherwise temperature followed by
// each filter that is on ("temperature=0.7,top-k=40,top-p=0.9"), numbers
// in their shortest exact form. ParseSampling(FormatSampling(p)) == p for
// every valid p.
func FormatSampling(p SamplingParams) string {
	if p.Temperature == 0 && p.TopK == 0 && p.TopP == 1 {
		return "greedy"
	}
	s := "temperature=" + strconv.FormatFloat(p.Temperature, 'g', -1, 64)
	if p.TopK != 0 {
		s += ",top-k=" + strconv.Itoa(p.TopK)
	}
	if p.TopP != 1 {
		s += ",top-p=" + strconv.FormatFloat(p.TopP, 'g', -1, 64)
	}
	return s
}

// ParseSeeds reads a comma-separated list of seeds such as "1,2,3": each a
// decimal whole number 0..2^64−1, spaces around items ignored, at most
// MaxSeeds, none twice. Errors are *SpecError with Key "seed": empty list
// or item, a bad number, a duplicate, too many.
func ParseSeeds(list string) ([]uint64, error) {
	fail := func(value, problem string) ([]uint64, error) {
		return nil, &SpecError{What: "seed list", Spec: list, Key: "seed", Value: value, Problem: problem}
	}
	if len(list) > MaxSpecBytes {
		return fail("", fmt.Sprintf("the list is longer than %d bytes", MaxSpecBytes))
	}
	if strings.TrimSpace(list) == "" {
		return fail("", "empty list; want seeds such as 1,2,3")
	}
	var seeds []uint64
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return fail("", "empty item (two commas, or a comma at an end)")
		}
		if strings.IndexFunc(item, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return fail(item, "not a whole number ≥ 0")
		}
		s, err := strconv.ParseUint(item, 10, 64)
		if err != nil {
			return fail(item, "out of range: larger than 18446744073709551615")
		}
		for _, prev := range seeds {
			if prev == s {
				return fail(item, "given twice")
			}
		}
		if len(seeds) == MaxSeeds {
			return fail("", fmt.Sprintf("more than %d seeds", MaxSeeds))
		}
		seeds = append(seeds, s)
	}
	return seeds, nil
}
