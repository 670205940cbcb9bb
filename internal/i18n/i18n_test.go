package i18n

import (
	"slices"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	t.Parallel()
	tb := Table{
		"steps": {"%[1]d steps of %[2]s", "%[2]s 的 %[1]d 步"},
		"plain": {"50% plain", "普通"},
	}
	for _, tt := range []struct {
		lang Lang
		key  string
		args []any
		want string
	}{
		{English, "steps", []any{3, "run"}, "3 steps of run"},
		{Chinese, "steps", []any{3, "run"}, "run 的 3 步"},
		{ParseLang("fr"), "steps", []any{1, "x"}, "1 steps of x"},
		{English, "plain", nil, "50% plain"}, // no arguments: as written
		{Chinese, "missing.key", []any{1}, "missing.key"},
	} {
		if got := tb.Get(tt.lang, tt.key, tt.args...); got != tt.want {
			t.Errorf("Get(%q, %q) = %q, want %q", tt.lang, tt.key, got, tt.want)
		}
	}
}

func TestParseLang(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Lang{"zh": Chinese, "en": English, "": English, "ZH": English, "zh-CN": English} {
		if got := ParseLang(in); got != want {
			t.Errorf("ParseLang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVerbs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want []string
		args int
	}{
		{"no verbs", nil, 0},
		{"100%% sure", nil, 0},
		{"%d and %s", []string{"%[1]d", "%[2]s"}, 2},
		{"%[2]s then %[1]d", []string{"%[1]d", "%[2]s"}, 2},
		{"%[2]s then %d", []string{"%[2]s", "%[3]d"}, 3}, // fmt: after [2] comes 3
		{"%-8.3f|%+d|%x", []string{"%[1]f", "%[2]d", "%[3]x"}, 3},
		{"%*d", []string{"%[1]*", "%[2]d"}, 2},
		{"%[1]d×%[1]d", []string{"%[1]d"}, 1},
		{"trailing %", nil, 0},
	} {
		got := verbSet(verbs(tt.in))
		if len(got) == 0 {
			got = nil
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("verbs(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if n := (Text{tt.in, tt.in}).Args(); n != tt.args {
			t.Errorf("Args(%q) = %d, want %d", tt.in, n, tt.args)
		}
	}
}

// TestCheck: each kind of problem is found and named by its key; a good
// table passes.
func TestCheck(t *testing.T) {
	t.Parallel()
	good := Table{
		"a": {"%[1]d of %[2]s", "%[2]s 的 %[1]d"},
		"b": {"%d steps", "%[1]d 步"},
		"c": {"plain", "普通"},
		"d": {"%.1f%% done", "完成 %.1f%%"},
	}
	if err := good.Check(); err != nil {
		t.Errorf("good table: %v", err)
	}
	for _, tt := range []struct {
		text Text
		want string
	}{
		{Text{"only English", " "}, "a language is missing"},
		{Text{"%d steps", "%s 步"}, "differ"},
		{Text{"%d steps", "步"}, "differ"},
		{Text{"%[1]d of %[2]d", "%[1]d"}, "differ"},
		{Text{"%[3]d", "%[3]d"}, ""}, // fine: fmt reads the third argument
		{Text{"%!d", "%!d"}, "formats as"},
		{Text{"at 100%", "100%"}, "a % in a text without verbs"},
		{Text{"50% off", "五折"}, "differ"}, // fmt reads "% o" as a verb,
	} {
		err := Table{"k": tt.text}.Check()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: unexpected %v", tt.text, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "k")):
			t.Errorf("%q: error %v, want one naming k and saying %q", tt.text, err, tt.want)
		}
	}
}
