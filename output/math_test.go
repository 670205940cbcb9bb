package output

import (
	"errors"
	"strings"
	"testing"
)

func TestMathML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, tex string
		display   bool
		want      string // the MathML inside <semantics>, before the annotation
	}{
		{"identifier", "x", false, "<mi>x</mi>"},
		{"number", "3.25", false, "<mn>3.25</mn>"},
		{"row", "a+b", false, "<mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow>"},
		{"minus is a real minus", "a-b", false, "<mrow><mi>a</mi><mo>−</mo><mi>b</mi></mrow>"},
		{"subscript", "w_i", false, "<msub><mi>w</mi><mi>i</mi></msub>"},
		{"group subscript", "w_{<i}", false, "<msub><mi>w</mi><mrow><mo>&lt;</mo><mi>i</mi></mrow></msub>"},
		{"sub and sup either order", "x^2_i", false, "<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>"},
		{"frac", `\frac{1}{n}`, false, "<mfrac><mn>1</mn><mi>n</mi></mfrac>"},
		{"sqrt", `\sqrt{d}`, false, "<msqrt><mi>d</mi></msqrt>"},
		{"root", `\sqrt[3]{x}`, false, "<mroot><mi>x</mi><mrow><mn>3</mn></mrow></mroot>"},
		{"greek", `\alpha\Omega`, false, `<mrow><mi>α</mi><mi mathvariant="normal">Ω</mi></mrow>`},
		{"mid and le", `a\mid b\le c`, false, "<mrow><mi>a</mi><mo>∣</mo><mi>b</mi><mo>≤</mo><mi>c</mi></mrow>"},
		{"log is upright", `\log_2 p`, false, `<mrow><msub><mi mathvariant="normal">log</mi><mn>2</mn></msub><mo>` + "\u2061" + `</mo><mi>p</mi></mrow>`},
		{"prod inline", `\prod_i p`, false, `<mrow><msub><mo largeop="true" movablelimits="true">∏</mo><mi>i</mi></msub><mi>p</mi></mrow>`},
		{"sum display has limits", `\sum_{i=1}^{n} x`, true, `<mrow><munderover><mo largeop="true" movablelimits="true">∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><mi>x</mi></mrow>`},
		{"text", `\text{bytes per token}`, false, "<mtext>bytes per token</mtext>"},
		{"text keeps its edge spaces", `1\text{ bytes }`, false, "<mrow><mn>1</mn><mtext>\u00a0bytes\u00a0</mtext></mrow>"},
		{"text is escaped", `\text{<b>&}`, false, "<mtext>&lt;b&gt;&amp;</mtext>"},
		{"spaces", `a\,b`, false, `<mrow><mi>a</mi><mspace width="0.1667em"></mspace><mi>b</mi></mrow>`},
		{"fences", `\left(x\right)`, false, `<mrow><mo fence="true">(</mo><mi>x</mi><mo fence="true">)</mo></mrow>`},
		{"unicode letter", "汉", false, "<mi>汉</mi>"},
		{"times", `2\times 3`, false, "<mrow><mn>2</mn><mo>×</mo><mn>3</mn></mrow>"},
		{"bar ell", `\bar{\ell}`, false, `<mover accent="true"><mi>ℓ</mi><mo>¯</mo></mover>`},
		{"bar without braces", `e^{-\bar x}`, false, `<msup><mi>e</mi><mrow><mo>−</mo><mover accent="true"><mi>x</mi><mo>¯</mo></mover></mrow></msup>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MathML(tc.tex, tc.display)
			if err != nil {
				t.Fatalf("MathML(%q): %v", tc.tex, err)
			}
			open := "<math><semantics>"
			if tc.display {
				open = `<math display="block"><semantics>`
			}
			want := open + tc.want + `<annotation encoding="application/x-tex">`
			if !strings.HasPrefix(got, want) {
				t.Errorf("MathML(%q)\n got %s\nwant %s…", tc.tex, got, want)
			}
		})
	}
}

func TestMathMLErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, tex, want string }{
		{"unknown command", `\foo x`, `unknown command \foo`},
		{"unclosed group", `{x`, "unclosed {"},
		{"stray brace", `x}`, `unexpected "}"`},
		{"lone script", `^2`, "nothing before it"},
		{"double subscript", `x_1_2`, "double subscript"},
		{"missing argument", `\frac{1}`, "missing argument"},
		{"lone backslash", `x\`, "lone backslash"},
		{"ampersand", `a&b`, "unsupported"},
		{"too deep", strings.Repeat("{", 40) + strings.Repeat("}", 40), "nested deeper"},
		{"invalid utf-8", "a\xff", "invalid UTF-8"},
		{"text with command", `\text{\alpha}`, "plain text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MathML(tc.tex, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrMath) {
				t.Errorf("MathML(%q) = %v, want an ErrMath error containing %q", tc.tex, err, tc.want)
			}
		})
	}
}

func TestMarkdownMaths(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string
		not      []string
	}{
		{"inline", "so $w_i$ is", []string{"so <math><semantics><msub>"}, []string{"$"}},
		{"display", "$$P = \\prod_i p_i$$", []string{`<math display="block">`}, nil},
		{"dollars of money stay text", "costs $5 and $6", []string{"costs $5 and $6"}, []string{"<math"}},
		{"escaped dollar", `a \$x$ b`, []string{"a $x$ b"}, []string{"<math"}},
		{"space after opening", "a $ x$ b", []string{"a $ x$ b"}, []string{"<math"}},
		{"not in code", "`$x$`", []string{"<code>$x$</code>"}, []string{"<math"}},
		{"bad tex shown as code", `$\foo$`, []string{`<code class="math-error">\foo</code>`}, []string{"<math"}},
		{"less-than inside maths is not html", "$a<b$", []string{"<mo>&lt;</mo>"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderMarkdown(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("%q: missing %q in\n%s", tc.in, w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(string(got), w) {
					t.Errorf("%q: unexpected %q in\n%s", tc.in, w, got)
				}
			}
		})
	}
	if f := Formulas("a $x_1$ and $$\\frac{a}{b}$$"); len(f) != 2 || f[0].TeX != "x_1" || !f[1].Display {
		t.Errorf("Formulas = %+v", f)
	}
}

func FuzzMathML(f *testing.F) {
	for _, s := range []string{`\frac{1}{n}\sum_{i=1}^n -\log_2 p_i`, `\sqrt[3]{x}`, `{{{`, `\left(\right.`, `x^`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tex string) {
		out, err := MathML(tex, true)
		if err != nil {
			return
		}
		if strings.Count(out, "<math") != 1 || strings.Contains(out, "<script") {
			t.Fatalf("MathML(%q) = %s", tex, out)
		}
	})
}

func TestFoldedCell(t *testing.T) {
	t.Parallel()
	nb := &Notebook{Cells: []Cell{FoldedCell("Answer <1>", "It is **$p_i$**.")}}
	var h, j strings.Builder
	if err := WriteHTML(&h, nb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), `<details class="cell cell-markdown cell-folded"><summary>Answer &lt;1&gt;</summary>`) ||
		!strings.Contains(h.String(), "<strong><math>") {
		t.Errorf("HTML lacks the folded cell:\n%s", h.String())
	}
	if err := WriteIPYNB(&j, nb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(j.String(), `"<details><summary>Answer &lt;1&gt;</summary>\n"`) || !strings.Contains(j.String(), `"It is **$p_i$**.\n"`) {
		t.Errorf("ipynb lacks the folded cell or its TeX:\n%s", j.String())
	}
	bad := &Notebook{Cells: []Cell{{Kind: KindNote, Source: "x", Summary: "y"}}}
	if err := bad.Validate(); err == nil {
		t.Error("a note with a Summary validated")
	}
}
