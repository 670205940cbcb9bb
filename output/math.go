package output

import (
	"errors"
	"fmt"
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MathML converts a formula in a small subset of TeX to a MathML Core
// <math> element (display="block" when display is set), which browsers
// render without any script or font download. It returns an error
// naming the problem and its byte offset in tex for anything outside the
// subset, so that a page never shows half a formula.
//
// The subset is what gptviz's lessons use:
//   - letters (italic identifiers), digits and decimal points (numbers),
//     the operators + - = < > , ; : ! ' ( ) [ ] | / and *;
//   - groups {…}; subscripts and superscripts _x ^x _{…} ^{…}, in either
//     order;
//   - \frac{a}{b}, \sqrt{a}, \sqrt[n]{a}, \text{…}, \mathrm{…};
//   - large operators \sum and \prod (limits below and above in display
//     maths), the function names \log \ln \exp \max \min \arg and
//     \operatorname{…}; \left and \right with ( ) [ ] | \{ \} \|;
//   - Greek letters (\alpha … \omega, \Gamma … \Omega) and \ell;
//   - \bar{a} (a mean: a with a bar above);
//   - relations and symbols \mid \le \ge \ne \approx \times \cdot \cdots
//     \ldots \to \infty \in \sim \propto \lt \gt \{ \} \| \%;
//   - spaces \, \; \quad \qquad and "\ ".
//
// Text is escaped for HTML; nothing in tex can produce markup of its own.
func MathML(tex string, display bool) (string, error) {
	p := &texParser{src: tex, display: display}
	body, err := p.row(0)
	if err != nil {
		return "", err
	}
	if p.pos < len(p.src) {
		return "", p.errorf("unexpected %q", p.src[p.pos:p.pos+1])
	}
	var b strings.Builder
	if display {
		b.WriteString(`<math display="block">`)
	} else {
		b.WriteString(`<math>`)
	}
	b.WriteString(`<semantics>`)
	if len(body) == 1 {
		b.WriteString(body[0])
	} else {
		b.WriteString("<mrow>" + strings.Join(body, "") + "</mrow>")
	}
	b.WriteString(`<annotation encoding="application/x-tex">`)
	b.WriteString(html.EscapeString(tex))
	b.WriteString(`</annotation></semantics></math>`)
	return b.String(), nil
}

// ErrMath is wrapped by every error of MathML.
var ErrMath = errors.New("maths")

// maxMathDepth bounds the nesting of groups, so that hostile input cannot
// exhaust the stack.
const maxMathDepth = 32

type texParser struct {
	src     string
	pos     int
	display bool
}

func (p *texParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrMath, p.pos, fmt.Sprintf(format, args...))
}

var greek = map[string]string{
	"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
	"eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
	"pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ",
	"psi": "ψ", "omega": "ω",
	"Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
	"Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}

var symbols = map[string]string{
	"mid": "∣", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
	"times": "×", "cdot": "⋅", "cdots": "⋯", "ldots": "…", "dots": "…", "to": "→", "rightarrow": "→",
	"leftarrow": "←", "infty": "∞", "in": "∈", "sim": "∼", "propto": "∝", "lt": "<", "gt": ">",
	"{": "{", "}": "}", "|": "‖", "%": "%", "pm": "±", "div": "÷", "ll": "≪", "gg": "≫",
	"langle": "⟨", "rangle": "⟩", "odot": "⊙", "sum": "∑", "prod": "∏", "forall": "∀", "partial": "∂",
}

var functions = map[string]bool{"log": true, "ln": true, "exp": true, "max": true, "min": true, "arg": true, "sin": true, "cos": true}

var spaces = map[string]string{",": "0.1667em", ";": "0.2778em", "quad": "1em", "qquad": "2em", " ": "0.25em", ":": "0.2222em"}

// row parses atoms until the end, a closing brace or bracket (left for the
// caller), at nesting depth.
func (p *texParser) row(depth int) ([]string, error) {
	if depth > maxMathDepth {
		return nil, p.errorf("groups nested deeper than %d", maxMathDepth)
	}
	var out []string
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] == '}' {
			return out, nil
		}
		atom, large, err := p.atom(depth)
		if err != nil {
			return nil, err
		}
		if atom == "" {
			continue
		}
		atom, err = p.scripts(atom, large == opLarge, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, atom)
		if large == opFunction {
			out = append(out, mo("\u2061")) // function application
		}
	}
}

func (p *texParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\n' || p.src[p.pos] == '\t' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

// scripts attaches any sub- and superscript that follows base.
func (p *texParser) scripts(base string, large bool, depth int) (string, error) {
	var sub, sup string
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || (p.src[p.pos] != '_' && p.src[p.pos] != '^') {
			break
		}
		c := p.src[p.pos]
		p.pos++
		arg, err := p.argument(depth)
		if err != nil {
			return "", err
		}
		if c == '_' {
			if sub != "" {
				return "", p.errorf("double subscript")
			}
			sub = arg
		} else {
			if sup != "" {
				return "", p.errorf("double superscript")
			}
			sup = arg
		}
	}
	under, over, both := "msub", "msup", "msubsup"
	if large && p.display {
		under, over, both = "munder", "mover", "munderover"
	}
	switch {
	case sub != "" && sup != "":
		return "<" + both + ">" + base + sub + sup + "</" + both + ">", nil
	case sub != "":
		return "<" + under + ">" + base + sub + "</" + under + ">", nil
	case sup != "":
		return "<" + over + ">" + base + sup + "</" + over + ">", nil
	}
	return base, nil
}

// argument parses one argument of a command or script: a group {…} as one
// mrow, or a single atom.
func (p *texParser) argument(depth int) (string, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return "", p.errorf("missing argument")
	}
	if p.src[p.pos] == '{' {
		return p.group(depth)
	}
	a, _, err := p.atom(depth)
	if err == nil && a == "" {
		err = p.errorf("missing argument")
	}
	return a, err
}

// group parses {…} into one element.
func (p *texParser) group(depth int) (string, error) {
	if p.pos >= len(p.src) || p.src[p.pos] != '{' {
		return "", p.errorf("want {")
	}
	p.pos++
	body, err := p.row(depth + 1)
	if err != nil {
		return "", err
	}
	if p.pos >= len(p.src) {
		return "", p.errorf("unclosed {")
	}
	p.pos++ // }
	if len(body) == 1 {
		return body[0], nil
	}
	return "<mrow>" + strings.Join(body, "") + "</mrow>", nil
}

// rawGroup returns the text of {…} without parsing it (for \text).
func (p *texParser) rawGroup() (string, error) {
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != '{' {
		return "", p.errorf("want {")
	}
	end := strings.IndexByte(p.src[p.pos:], '}')
	if end < 0 {
		return "", p.errorf("unclosed {")
	}
	s := p.src[p.pos+1 : p.pos+end]
	if strings.ContainsAny(s, "{\\") {
		return "", p.errorf("\\text takes plain text")
	}
	p.pos += end + 1
	return s, nil
}

func mo(s string) string { return "<mo>" + html.EscapeString(s) + "</mo>" }
func mi(s string) string { return "<mi>" + html.EscapeString(s) + "</mi>" }

// opKind says how an atom takes its scripts.
type opKind int

const (
	opPlain    opKind = iota
	opLarge           // \sum, \prod: limits below and above in display maths
	opFunction        // \log, …: followed by an invisible function application
)

// atom parses one atom and says its kind.
// An empty atom with no error is a space that added nothing.
func (p *texParser) atom(depth int) (atom string, kind opKind, err error) {
	c := p.src[p.pos]
	switch {
	case c == '{':
		a, err := p.group(depth)
		return a, 0, err
	case c == '\\':
		return p.command(depth)
	case c >= '0' && c <= '9' || c == '.' && p.pos+1 < len(p.src) && p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9':
		start := p.pos
		for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.') {
			p.pos++
		}
		return "<mn>" + p.src[start:p.pos] + "</mn>", 0, nil
	case c == '_' || c == '^':
		return "", 0, p.errorf("%c with nothing before it", c)
	case c == '&' || c == '#' || c == '$' || c == '~' || c == '"':
		return "", 0, p.errorf("unsupported %q", string(c))
	}
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	if r == utf8.RuneError && size <= 1 {
		return "", 0, p.errorf("invalid UTF-8")
	}
	p.pos += size
	switch {
	case r == '-':
		return mo("−"), 0, nil
	case r == '*':
		return mo("∗"), 0, nil
	case r == '\'':
		return mo("′"), 0, nil
	case strings.ContainsRune("+=<>,;:!()[]|/", r):
		if r == '(' || r == ')' || r == '[' || r == ']' || r == '|' {
			return `<mo stretchy="false">` + html.EscapeString(string(r)) + "</mo>", 0, nil
		}
		return mo(string(r)), 0, nil
	case unicode.IsLetter(r):
		return mi(string(r)), 0, nil
	case unicode.IsDigit(r):
		return "<mn>" + string(r) + "</mn>", 0, nil
	case unicode.IsSymbol(r) || unicode.IsPunct(r):
		return mo(string(r)), 0, nil
	}
	p.pos -= size
	return "", 0, p.errorf("unsupported character %q", r)
}

// command parses a \command and its arguments.
func (p *texParser) command(depth int) (string, opKind, error) {
	p.pos++ // backslash
	if p.pos >= len(p.src) {
		return "", 0, p.errorf("lone backslash")
	}
	start := p.pos
	if c := p.src[p.pos]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		for p.pos < len(p.src) && (p.src[p.pos] >= 'a' && p.src[p.pos] <= 'z' || p.src[p.pos] >= 'A' && p.src[p.pos] <= 'Z') {
			p.pos++
		}
	} else {
		_, size := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += size
	}
	name := p.src[start:p.pos]
	if g, ok := greek[name]; ok {
		if unicode.IsUpper([]rune(g)[0]) {
			return `<mi mathvariant="normal">` + g + "</mi>", 0, nil
		}
		return mi(g), 0, nil
	}
	if s, ok := spaces[name]; ok {
		return `<mspace width="` + s + `"></mspace>`, 0, nil
	}
	if functions[name] {
		return `<mi mathvariant="normal">` + name + "</mi>", opFunction, nil
	}
	switch name {
	case "sum", "prod":
		return `<mo largeop="true" movablelimits="true">` + symbols[name] + "</mo>", opLarge, nil
	case "ell":
		return mi("ℓ"), 0, nil
	case "bar":
		arg, err := p.argument(depth + 1)
		if err != nil {
			return "", 0, err
		}
		return `<mover accent="true">` + arg + "<mo>¯</mo></mover>", 0, nil
	case "frac":
		num, err := p.argument(depth + 1)
		if err != nil {
			return "", 0, err
		}
		den, err := p.argument(depth + 1)
		if err != nil {
			return "", 0, err
		}
		return "<mfrac>" + num + den + "</mfrac>", 0, nil
	case "sqrt":
		p.skipSpace()
		var index string
		if p.pos < len(p.src) && p.src[p.pos] == '[' {
			end := strings.IndexByte(p.src[p.pos:], ']')
			if end < 0 {
				return "", 0, p.errorf("unclosed [")
			}
			inner := &texParser{src: p.src[p.pos+1 : p.pos+end]}
			body, err := inner.row(depth + 1)
			if err != nil || inner.pos < len(inner.src) {
				return "", 0, p.errorf("bad root index")
			}
			index = "<mrow>" + strings.Join(body, "") + "</mrow>"
			p.pos += end + 1
		}
		arg, err := p.argument(depth + 1)
		if err != nil {
			return "", 0, err
		}
		if index != "" {
			return "<mroot>" + arg + index + "</mroot>", 0, nil
		}
		return "<msqrt>" + arg + "</msqrt>", 0, nil
	case "text", "mathrm", "operatorname":
		s, err := p.rawGroup()
		if err != nil {
			return "", 0, err
		}
		if name == "text" {
			// MathML trims a token's edge whitespace, TeX keeps it in
			// \text ("= 131072 \text{ bytes}"): no-break spaces survive.
			trimmed := strings.TrimLeft(s, " ")
			lead := len(s) - len(trimmed)
			body := strings.TrimRight(trimmed, " ")
			trail := len(trimmed) - len(body)
			s = strings.Repeat("\u00a0", lead) + body + strings.Repeat("\u00a0", trail)
			return "<mtext>" + html.EscapeString(s) + "</mtext>", 0, nil
		}
		return `<mi mathvariant="normal">` + html.EscapeString(s) + "</mi>", 0, nil
	case "left", "right":
		p.skipSpace()
		if p.pos >= len(p.src) {
			return "", 0, p.errorf("\\%s without a delimiter", name)
		}
		d := p.src[p.pos : p.pos+1]
		p.pos++
		if d == "." {
			return "", 0, nil
		}
		if d == "\\" { // \left\{ or \left\|
			end := p.pos
			if end < len(p.src) {
				end++
			}
			d = symbols[p.src[p.pos:end]]
			p.pos = end
		}
		if d == "" || !strings.Contains("()[]|{}‖⟨⟩", d) {
			return "", 0, p.errorf("\\%s: unsupported delimiter", name)
		}
		return `<mo fence="true">` + html.EscapeString(d) + "</mo>", 0, nil
	}
	if s, ok := symbols[name]; ok {
		return mo(s), 0, nil
	}
	p.pos = start - 1
	return "", 0, p.errorf("unknown command \\%s", name)
}
