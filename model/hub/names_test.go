package hub

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRepoIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want []string // nil: rejected
	}{
		{"gpt2", []string{"gpt2", "openai-community/gpt2"}},
		{"openai-community/gpt2", []string{"openai-community/gpt2", "gpt2"}},
		{"gpt2-medium", []string{"gpt2-medium", "openai-community/gpt2-medium"}},
		{"gpt2-large", []string{"gpt2-large", "openai-community/gpt2-large"}},
		{"openai-community/gpt2-xl", []string{"openai-community/gpt2-xl", "gpt2-xl"}},
		{"distilgpt2", []string{"distilgpt2", "distilbert/distilgpt2"}},
		{"distilbert/distilgpt2", []string{"distilbert/distilgpt2", "distilgpt2"}},
		{"sshleifer/tiny-gpt2", []string{"sshleifer/tiny-gpt2"}},
		{"Org_1/model.v2", []string{"Org_1/model.v2"}},
		{"", nil},
		{"..", nil},
		{"../gpt2", nil},
		{"org/../gpt2", nil},
		{"/gpt2", nil},
		{"gpt2/", nil},
		{"a/b/c", nil},
		{"org--x/gpt2", nil},
		{"-gpt2", nil},
		{"gpt2.", nil},
		{"gpt 2", nil},
		{`org\gpt2`, nil},
		{"gpt2\x00", nil},
		{"gpt2?x=1", nil},
		{"gpt2#a", nil},
		{"gpt2%2F", nil},
		{"ünïcode", nil},
		{strings.Repeat("a", 97), nil},
	}
	for _, tt := range tests {
		got, err := RepoIDs(tt.name)
		switch {
		case tt.want == nil && !errors.Is(err, ErrBadName):
			t.Errorf("RepoIDs(%q) = %v, %v; want ErrBadName", tt.name, got, err)
		case tt.want != nil && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("RepoIDs(%q) = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if got := KnownModels(); fmt.Sprint(got) != "[gpt2 gpt2-medium gpt2-large gpt2-xl distilgpt2]" {
		t.Errorf("KnownModels() = %v", got)
	}
}

func TestValidateRevision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rev string
		ok  bool
	}{
		{"main", true},
		{"v1.0", true},
		{"refs/pr/1", true},
		{commitA, true},
		{"", false},
		{"..", false},
		{"../main", false},
		{"a/../b", false},
		{"/main", false},
		{"main/", false},
		{"a//b", false},
		{".hidden", false},
		{"a/.b", false},
		{"main.lock", false},
		{"main branch", false},
		{"main?x", false},
		{`a\b`, false},
		{"a%2fb", false},
		{strings.Repeat("a", 256), false},
	}
	for _, tt := range tests {
		err := ValidateRevision(tt.rev)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadName)) {
			t.Errorf("ValidateRevision(%q) = %v, want ok=%v", tt.rev, err, tt.ok)
		}
	}
}

// within reports whether path is root or below it.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func FuzzRepoIDs(f *testing.F) {
	for _, s := range []string{"gpt2", "openai-community/gpt2", "../x", "a/b/c", "a--b", "-a", "a.", "", "org/na me", "/abs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		ids, err := RepoIDs(name)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("RepoIDs(%q): error %v does not wrap ErrBadName", name, err)
			}
			return
		}
		cache := filepath.FromSlash("/cache/hub")
		for _, id := range ids {
			folder := RepoFolder(id)
			if strings.ContainsAny(folder, `/\`) || strings.Contains(folder, "..") {
				t.Fatalf("RepoIDs(%q): folder %q is not a plain name", name, folder)
			}
			if p := filepath.Join(cache, folder); filepath.Dir(p) != cache {
				t.Fatalf("RepoIDs(%q): folder %q leaves the cache", name, folder)
			}
			if u, err := url.Parse("https://huggingface.co/" + id + "/resolve/main/config.json"); err != nil || u.Path != "/"+id+"/resolve/main/config.json" {
				t.Fatalf("RepoIDs(%q): %q does not make a clean URL path", name, id)
			}
		}
	})
}

func FuzzValidateRevision(f *testing.F) {
	for _, s := range []string{"main", "refs/pr/1", commitA, "..", "a/../b", "/x", "x/", "a//b", ".x", "x.lock"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rev string) {
		if ValidateRevision(rev) != nil {
			return
		}
		refs := filepath.FromSlash("/cache/hub/models--gpt2/refs")
		if p := filepath.Join(refs, filepath.FromSlash(rev)); !within(refs, p) || p == refs {
			t.Fatalf("revision %q: ref file %s escapes refs/", rev, p)
		}
		if strings.Contains(url.PathEscape(rev), "/") {
			t.Fatalf("revision %q is not one escaped URL path segment", rev)
		}
	})
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes 50-99/*", "bytes 5-4/10", "bytes -1-3/4", "bytes 0-9/5", "bits 0-1/2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, total, ok := parseContentRange(s)
		if ok && (start < 0 || total < -1 || total >= 0 && total <= start) {
			t.Fatalf("parseContentRange(%q) = %d, %d, true", s, start, total)
		}
	})
}

func TestNormalizeETag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`"abc"`: "abc", `W/"abc"`: "abc", "abc": "abc", ` "abc" `: "abc", "": ""} {
		if got := normalizeETag(in); got != want {
			t.Errorf("normalizeETag(%q) = %q, want %q", in, got, want)
		}
	}
}
