// Package i18n is the one mechanism behind gptviz's text in two languages,
// English and Simplified Chinese: a Table of texts by key, each with both
// languages, looked up and formatted in a Lang. Each package keeps its own
// Table (viz the words inside charts, lessons the report's narrative, output
// the few words its writers add); Check tests a Table.
//
//	var words = i18n.Table{
//		"steps": {"%d steps", "%d 步"},
//	}
//	words.Get(i18n.Chinese, "steps", 3) // "3 步"
//
// Formats are fmt's; verbs may use explicit argument indexes (%[2]s) so that
// each language can order the arguments as it needs.
package i18n

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Lang is a language of gptviz's text: its code as in the HTML lang
// attribute's primary tag.
type Lang string

const (
	English Lang = "en"
	Chinese Lang = "zh" // Simplified Chinese
)

// ParseLang returns Chinese for "zh" and English for anything else ("" and
// "en" included); callers that must reject other codes check them first.
func ParseLang(code string) Lang {
	if code == string(Chinese) {
		return Chinese
	}
	return English
}

// Text is one text in both languages: English, then Simplified Chinese.
// (An array, not a struct, so that tables can list the two unkeyed.)
type Text [2]string

// In returns the text in lang (English unless lang is Chinese), unformatted.
func (t Text) In(lang Lang) string {
	if lang == Chinese {
		return t[1]
	}
	return t[0]
}

// Args returns how many arguments the English text's verbs take: the
// highest argument index any verb uses (0 for a text without verbs).
func (t Text) Args() int {
	n := 0
	for _, v := range verbs(t[0]) {
		n = max(n, v.arg)
	}
	return n
}

// Table holds texts by key.
type Table map[string]Text

// Get returns the text of key in lang, formatted with args by fmt.Sprintf
// when there are any (a text without arguments is returned as written). An
// unknown key is returned as it is, so a page shows it and tests find it.
func (t Table) Get(lang Lang, key string, args ...any) string {
	tx, ok := t[key]
	if !ok {
		return key
	}
	s := tx.In(lang)
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Check reports every problem of the table, one error per problem naming
// the key and joined with errors.Join (nil when there is none): a language
// that is blank; verbs that differ between the languages (compared by the
// argument each refers to and its verb letter, so "%d" and "%[1]d" match);
// a verb fmt cannot format, found by formatting each language with
// arguments of the kinds its verbs want; a "%" in a text without verbs,
// which Get returns unformatted.
func (t Table) Check() error {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []error
	for _, k := range keys {
		tx := t[k]
		if strings.TrimSpace(tx[0]) == "" || strings.TrimSpace(tx[1]) == "" {
			errs = append(errs, fmt.Errorf("%s: a language is missing", k))
			continue
		}
		en, zh := verbs(tx[0]), verbs(tx[1])
		if a, b := verbSet(en), verbSet(zh); !slices.Equal(a, b) {
			errs = append(errs, fmt.Errorf("%s: verbs %q (en) differ from %q (zh)", k, a, b))
		}
		for _, l := range []struct {
			code string
			s    string
			vs   []verb
		}{{"en", tx[0], en}, {"zh", tx[1], zh}} {
			if len(l.vs) == 0 {
				if strings.Contains(l.s, "%") {
					errs = append(errs, fmt.Errorf("%s/%s: a %% in a text without verbs is shown as written", k, l.code))
				}
				continue
			}
			if out := fmt.Sprintf(l.s, sampleArgs(l.vs)...); strings.Contains(out, "%!") {
				errs = append(errs, fmt.Errorf("%s/%s: formats as %q", k, l.code, out))
			}
		}
	}
	return errors.Join(errs...)
}

// verb is one formatting verb: the argument it formats (from 1) and its
// letter.
type verb struct {
	arg    int
	letter byte
}

// verbs parses the fmt verbs of s, following fmt's rules for implicit and
// explicit ([n]) argument indexes; "%%" is no verb. A "*" width or
// precision takes an argument too (recorded with letter '*').
func verbs(s string) []verb {
	var out []verb
	next := 1
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		i++
		for i < len(s) && strings.IndexByte("+-# 0", s[i]) >= 0 {
			i++
		}
		// Width and precision, each possibly "*" or preceded by [n].
		for part := 0; part < 2 && i < len(s); part++ {
			if part == 1 {
				if s[i] != '.' {
					break
				}
				i++
			}
			i, next = index(s, i, next)
			if i < len(s) && s[i] == '*' {
				out = append(out, verb{next, '*'})
				next++
				i++
			}
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
		}
		i, next = index(s, i, next)
		if i >= len(s) {
			break
		}
		if s[i] == '%' {
			continue
		}
		out = append(out, verb{next, s[i]})
		next++
	}
	return out
}

// index reads an explicit argument index "[n]" at s[i:], returning the
// position after it and the argument it names (next when there is none).
func index(s string, i, next int) (int, int) {
	if i >= len(s) || s[i] != '[' {
		return i, next
	}
	end := strings.IndexByte(s[i:], ']')
	if end < 0 {
		return i, next
	}
	n, err := strconv.Atoi(s[i+1 : i+end])
	if err != nil || n < 1 {
		return i, next
	}
	return i + end + 1, n
}

// verbSet is vs as sorted, deduplicated "%[n]x" strings.
func verbSet(vs []verb) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = "%[" + strconv.Itoa(v.arg) + "]" + string(v.letter)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sampleArgs returns an argument of a kind each verb formats: a number for
// numeric verbs, a string for the rest.
func sampleArgs(vs []verb) []any {
	n := 0
	for _, v := range vs {
		n = max(n, v.arg)
	}
	args := make([]any, n)
	for i := range args {
		args[i] = "x"
	}
	for _, v := range vs {
		switch v.letter {
		case 'd', 'b', 'o', 'O', 'c', 'U', '*':
			args[v.arg-1] = 7
		case 'e', 'E', 'f', 'F', 'g', 'G':
			args[v.arg-1] = 7.5
		case 't':
			args[v.arg-1] = true
		}
	}
	return args
}
