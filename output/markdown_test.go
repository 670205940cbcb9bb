package output

import (
	"strings"
	"testing"
)

func TestRenderMarkdown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string // substrings of the HTML
		not      []string // must not appear
	}{
		{"emphasis", "**bold** and *it* and `code`", []string{"<strong>bold</strong>", "<em>it</em>", "<code>code</code>"}, nil},
		{"inline raw html is text", "a <img src=x onerror=alert(1)> b", []string{"a &lt;img src=x onerror=alert(1)&gt; b"}, []string{"<img"}},
		{"html block is text", "<script>alert(1)</script>\n", []string{`<p class="raw-html">&lt;script&gt;alert(1)&lt;/script&gt;`}, []string{"<script"}},
		{"closing script tag", "x </script> y", []string{"x &lt;/script&gt; y"}, []string{"</script>"}},
		{"fragment link kept", "[up](#top)", []string{`<a href="#top">up</a>`}, nil},
		{"relative link kept", "[ipynb](report.ipynb)", []string{`<a href="report.ipynb">ipynb</a>`}, nil},
		{"https link is text", "[blog](https://example.com/a?b=1&c=2)", []string{`<span class="link">blog</span> <span class="url">(https://example.com/a?b=1&amp;c=2)</span>`}, []string{"href"}},
		{"protocol-relative link is text", "[x](//evil.example/a)", []string{`<span class="url">(//evil.example/a)</span>`}, []string{"href"}},
		{"javascript link is text", "[x](javascript:alert(1))", []string{`<span class="url">(javascript:alert(1))</span>`}, []string{"href"}},
		{"autolink is text", "<https://example.com>", []string{`<span class="url">https://example.com</span>`}, []string{"href"}},
		{"remote image is text", "![a cat](https://example.com/cat.png)", []string{`<span class="link">[a cat]</span> <span class="url">(https://example.com/cat.png)</span>`}, []string{"<img"}},
		{"data image kept", "![dot](data:image/png;base64,iVBORw0KGgo=)", []string{`<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">`}, nil},
		{"svg data image is text", "![x](data:image/svg+xml;base64,PHN2Zz4=)", []string{`<span class="link">[x]</span>`}, []string{"<img"}},
		{"gfm table", "| a | b |\n|---|--:|\n| 1 | 2 |\n", []string{"<table>", `<th style="text-align:right">b</th>`, `<td style="text-align:right">2</td>`}, nil},
		{"strikethrough", "~~old~~", []string{"<del>old</del>"}, nil},
		{"cjk lines join", "中文\n句子", []string{"中文句子"}, nil},
		{"latin lines keep a break", "the\n*context*", []string{"the\n<em>context</em>"}, nil},
		{"latin before link keeps a break", "or\n[x](#a)", []string{"or\n<a href=\"#a\">x</a>"}, nil},
		{"cjk before emphasis joins", "词\n**元**", []string{"词<strong>元</strong>"}, nil},
		{"hard break", "a  \nb", []string{"a<br>\nb"}, nil},
		{"invalid utf-8", "a\xffb", []string{"a\uFFFDb"}, nil},
		{"entities", "a &amp; b &lt; c", []string{"a &amp; b &lt; c"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderMarkdown(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("renderMarkdown(%q) = %q, lacks %q", tc.in, got, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(got), n) {
					t.Errorf("renderMarkdown(%q) = %q, contains %q", tc.in, got, n)
				}
			}
		})
	}
}

func TestEscapeRawHTMLMarkdown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain *text*", "plain *text*"},
		{"a <img src=x onerror=alert(1)> b", "a &lt;img src=x onerror=alert(1)> b"},
		{"<div>\nblock\n</div>\n", "&lt;div>\nblock\n&lt;/div>\n"},
		{"`<b>` in code", "`<b>` in code"},
		{"```\n<script>\n```\n", "```\n<script>\n```\n"},
		{"<https://example.com>", "<https://example.com>"},
		{"x </script> y", "x &lt;/script> y"},
		{"1 < 2", "1 < 2"},
	} {
		if got := escapeRawHTMLMarkdown(tc.in); got != tc.want {
			t.Errorf("escapeRawHTMLMarkdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
