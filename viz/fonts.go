package viz

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"

	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/internal/inputfile"
)

// Fonts of the static figures.
//
// gonum/plot draws each piece of text with one font and embeds only Liberation
// (Latin, Greek, Cyrillic). The static figures draw their text through
// [figText], which takes every rune the figure's font lacks from a fallback
// font: a CJK font found on the system at run time (see [CJKFont]), so that
// Chinese titles, axis names and legends (Lang("zh")) and Chinese tokens in
// labels are drawn as text. The visible space "␣", which neither Liberation
// nor the usual CJK fonts have, is drawn as a small shelf path, so it looks
// the same everywhere.
//
// No CJK font is embedded (the smallest usable one is about 5 MB). When none
// is found, figures asked for in Chinese are drawn in English, and runes no
// font has are written as code points ("U+4E2D").

// CJKFontEnv names an environment variable holding the path of a TrueType or
// OpenType font file (or collection, .ttc) with Chinese glyphs; when set, it
// is tried before [CJKFontFiles].
const CJKFontEnv = "GPTVIZ_CJK_FONT"

// CJKFontFiles are the places the static figures look for a CJK font, in
// order: the files of common packages (Debian/Ubuntu fonts-wqy-microhei,
// fonts-wqy-zenhei, fonts-noto-cjk; Fedora and Arch Noto CJK), macOS and
// Windows system fonts. The first file that parses and has the glyph 中 is
// used.
var CJKFontFiles = []string{
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
	"/System/Library/Fonts/PingFang.ttc",
	"/System/Library/Fonts/STHeiti Light.ttc",
	"/Library/Fonts/Arial Unicode.ttf",
	`C:\Windows\Fonts\msyh.ttc`,
	`C:\Windows\Fonts\simsun.ttc`,
}

// maxFontBytes bounds a font file read from the system (Noto Sans CJK
// collections are about 20 MB).
const maxFontBytes = 64 << 20

// ErrNoCJKFont is wrapped by [CJKFont] when no CJK font was found.
var ErrNoCJKFont = errors.New("no CJK font found")

// cjkTypeface is the name the CJK font is registered under in figCache.
const cjkTypeface = "gptviz-cjk"

type cjkFont struct {
	path string
	face *opentype.Font
	err  error
}

var loadCJK = sync.OnceValue(func() cjkFont {
	paths := CJKFontFiles
	if env := os.Getenv(CJKFontEnv); env != "" {
		paths = append([]string{env}, paths...)
	}
	var tried []string
	for _, p := range paths {
		f, err := openCJKFont(p)
		if err == nil {
			return cjkFont{path: p, face: f}
		}
		if !errors.Is(err, os.ErrNotExist) || p == os.Getenv(CJKFontEnv) {
			tried = append(tried, err.Error())
		}
	}
	msg := fmt.Sprintf("looked for %s and in %s", CJKFontEnv, strings.Join(paths, ", "))
	if len(tried) > 0 {
		msg += "; " + strings.Join(tried, "; ")
	}
	return cjkFont{err: fmt.Errorf("static figures: %w (%s): install fonts-wqy-microhei or set %s to a font file", ErrNoCJKFont, msg, CJKFontEnv)}
})

// openCJKFont reads the font file at path (bounded) and returns its face
// with Chinese glyphs: in a collection, the first whose family name says
// Simplified Chinese ("SC", "GB"), else the first with 中.
func openCJKFont(path string) (*opentype.Font, error) {
	b, err := inputfile.ReadFile(path, maxFontBytes)
	if err != nil {
		return nil, err
	}
	coll, err := opentype.ParseCollection(realignTables(b))
	if err != nil {
		return nil, fmt.Errorf("font %s: %w", path, err)
	}
	var buf sfnt.Buffer
	var first *opentype.Font
	for i := range coll.NumFonts() {
		fnt, err := coll.Font(i)
		if err != nil {
			continue
		}
		if g, err := fnt.GlyphIndex(&buf, '中'); err != nil || g == 0 {
			continue
		}
		name, _ := fnt.Name(&buf, sfnt.NameIDFamily)
		if strings.Contains(name, " SC") || strings.Contains(name, "GB") {
			return fnt, nil
		}
		if first == nil {
			first = fnt
		}
	}
	if first == nil {
		return nil, fmt.Errorf("font %s: no face has Chinese glyphs", path)
	}
	return first, nil
}

// CJKFont returns the path of the font the static figures draw Chinese
// with, looked up once per process: $GPTVIZ_CJK_FONT, then [CJKFontFiles].
// When none is found it returns an error wrapping [ErrNoCJKFont] that says
// where it looked; figures in Chinese are then drawn in English.
func CJKFont() (string, error) {
	c := loadCJK()
	return c.path, c.err
}

// figCache holds the fonts of the static figures: Liberation (gonum/plot's
// default) and, when found, the CJK font as cjkTypeface.
var figCache = sync.OnceValue(func() *font.Cache {
	c := font.NewCache(liberation.Collection())
	if cjk := loadCJK(); cjk.err == nil {
		c.Add(font.Collection{{Font: font.Font{Typeface: cjkTypeface}, Face: cjk.face}})
	}
	return c
})

// staticSettings are the settings a static figure is drawn with: Chinese
// only when a CJK font was found, else English.
func (s settings) static() settings {
	if s.lang == i18n.Chinese {
		if _, err := CJKFont(); err != nil {
			s.lang = i18n.English
		}
	}
	return s
}

// figText is the text handler of the static figures: gonum/plot's plain
// text, except that each rune the style's font lacks is drawn with the
// first fallback font that has it, and "␣" is drawn as a shelf path.
type figText struct{ cache *font.Cache }

// theFigText is the handler every static figure uses.
func theFigText() figText { return figText{cache: figCache()} }

var _ text.Handler = figText{}

// Cache implements text.Handler.
func (h figText) Cache() *font.Cache { return h.cache }

// Extents implements text.Handler: the style's own font's, whether or not
// a fallback font is loaded, so that a figure without CJK text is drawn the
// same on every machine (the fallback's glyphs share the line).
func (h figText) Extents(fnt font.Font) font.Extents {
	face := h.cache.Lookup(fnt, fnt.Size)
	return face.Extents()
}

// faces are the style's font, then the fallback font when there is one.
func (h figText) faces(fnt font.Font) []font.Face {
	faces := []font.Face{h.cache.Lookup(fnt, fnt.Size)}
	if h.cache.Has(font.Font{Typeface: cjkTypeface}) {
		fb := fnt
		fb.Typeface, fb.Variant = cjkTypeface, ""
		faces = append(faces, h.cache.Lookup(fb, fnt.Size))
	}
	return faces
}

// Lines implements text.Handler.
func (h figText) Lines(txt string) []string {
	return strings.Split(strings.TrimRight(txt, "\n"), "\n")
}

// Box implements text.Handler.
func (h figText) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	ext := h.Extents(fnt)
	for _, r := range h.runs(txt, fnt) {
		width += r.width
	}
	return width, ext.Ascent, ext.Descent
}

// textRun is a stretch of one line drawn with one face; shelf marks a
// visible space drawn as a path.
type textRun struct {
	face  font.Face
	s     string
	shelf bool
	width vg.Length
}

// runs splits a line into stretches by the font that draws them.
func (h figText) runs(line string, fnt font.Font) []textRun {
	faces := h.faces(fnt)
	primary := faces[0]
	var buf sfnt.Buffer
	var out []textRun
	var cur strings.Builder
	curFace := -1
	flush := func() {
		if cur.Len() > 0 {
			f := faces[max(0, curFace)]
			out = append(out, textRun{face: f, s: cur.String(), width: f.Width(cur.String())})
			cur.Reset()
		}
	}
	for _, r := range line {
		if r == '␣' {
			flush()
			out = append(out, textRun{face: primary, shelf: true, width: primary.Width("n")})
			continue
		}
		fi := 0
		for i, f := range faces {
			if g, err := f.Face.GlyphIndex(&buf, r); err == nil && g != 0 {
				fi = i
				break
			}
		}
		if fi != curFace {
			flush()
			curFace = fi
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}

// Draw implements text.Handler, as text.Plain does, one run at a time.
func (h figText) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	txt = strings.TrimRight(txt, "\n")
	if len(txt) == 0 {
		return
	}
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		c.Rotate(sty.Rotation)
	}
	sin64, cos64 := math.Sincos(sty.Rotation)
	cos, sin := vg.Length(cos64), vg.Length(sin64)
	pt.X, pt.Y = pt.Y*sin+pt.X*cos, pt.Y*cos-pt.X*sin
	ext := h.Extents(sty.Font)
	lines := h.Lines(txt)
	// The box of the lines is ht high; its top is at pt.Y + ht*(1+YAlign)
	// (YAlign: 0 bottom, -0.5 centre, -1 top); line i sits i line heights
	// below the first baseline.
	top := pt.Y + sty.Height(txt)*(1+vg.Length(sty.YAlign))
	for i, line := range lines {
		runs := h.runs(line, sty.Font)
		var w vg.Length
		for _, r := range runs {
			w += r.width
		}
		at := vg.Point{X: pt.X + vg.Length(sty.XAlign)*w, Y: top - ext.Ascent - vg.Length(i)*ext.Height}
		for _, r := range runs {
			if r.shelf {
				drawShelf(c, at, r.width, sty.Font.Size)
			} else {
				c.FillString(r.face, at, r.s)
			}
			at.X += r.width
		}
	}
	if sty.Rotation != 0 {
		c.Pop()
	}
}

// drawShelf draws the visible space ␣ (U+2423 OPEN BOX) in a cell of width
// w on the baseline at pt, for a font of the given size.
func drawShelf(c vg.Canvas, pt vg.Point, w, size vg.Length) {
	var p vg.Path
	x0, x1 := pt.X+0.15*w, pt.X+0.85*w
	y0, y1 := pt.Y-0.1*size, pt.Y+0.18*size
	p.Move(vg.Point{X: x0, Y: y1})
	p.Line(vg.Point{X: x0, Y: y0})
	p.Line(vg.Point{X: x1, Y: y0})
	p.Line(vg.Point{X: x1, Y: y1})
	c.Push()
	c.SetLineWidth(0.07 * size)
	c.SetLineDash(nil, 0)
	c.Stroke(p)
	c.Pop()
}

// figPlot returns plot.New() drawing every text with figText.
func figPlot() *plot.Plot {
	p := plot.New()
	h := theFigText()
	p.TextHandler = h
	p.Title.TextStyle.Handler = h
	p.Legend.TextStyle.Handler = h
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Handler = h
		ax.Tick.Label.Handler = h
	}
	return p
}

// figLegend returns a legend drawing its text with figText.
func figLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Handler = theFigText()
	// A gap between entries: without it the swatches touch, and a
	// Chinese name, taller than the Latin font's line, meets the next.
	l.Padding = vg.Points(2.5)
	return l
}

// covered reports whether one of the figure fonts draws r.
func covered(r rune) bool {
	var buf sfnt.Buffer
	c := figCache()
	for _, f := range []font.Font{plot.DefaultFont, {Typeface: cjkTypeface}} {
		if !c.Has(f) {
			continue
		}
		face := c.Lookup(f, 10)
		if g, err := face.Face.GlyphIndex(&buf, r); err == nil && g != 0 {
			return true
		}
	}
	return false
}

// realignTables returns font data (TTF, OTF, or a TTC collection) whose
// tables all start on a four-byte boundary, as the OpenType spec asks and
// golang.org/x/image/font/sfnt requires ("sfnt: invalid table offset"):
// Debian's wqy-microhei.ttc has tables that do not. A misaligned table is
// copied to an aligned offset at the end and its table record points there;
// everything else is kept. Data it cannot read is returned unchanged, for
// the parser to reject with its own error.
func realignTables(b []byte) []byte {
	u32 := func(o int) (uint32, bool) {
		if o < 0 || o+4 > len(b) {
			return 0, false
		}
		return uint32(b[o])<<24 | uint32(b[o+1])<<16 | uint32(b[o+2])<<8 | uint32(b[o+3]), true
	}
	var fonts []int                          // offsets of the offset tables
	if tag, _ := u32(0); tag == 0x74746366 { // "ttcf"
		n, ok := u32(8)
		if !ok || n > 1<<16 {
			return b
		}
		for i := range int(n) {
			o, ok := u32(12 + 4*i)
			if !ok {
				return b
			}
			fonts = append(fonts, int(o))
		}
	} else {
		fonts = []int{0}
	}
	out := b
	copied := map[uint32]uint32{} // old offset → new
	for _, f := range fonts {
		if f < 0 || f+12 > len(b) {
			return b
		}
		numTables := int(b[f+4])<<8 | int(b[f+5])
		for t := range numTables {
			rec := f + 12 + 16*t
			off, ok1 := u32(rec + 8)
			n, ok2 := u32(rec + 12)
			if !ok1 || !ok2 || uint64(off)+uint64(n) > uint64(len(b)) {
				return b
			}
			if off&3 == 0 {
				continue
			}
			if len(out) == len(b) {
				out = append([]byte(nil), b...) // copy before the first change
			}
			to, done := copied[off]
			if !done {
				for len(out)&3 != 0 {
					out = append(out, 0)
				}
				to = uint32(len(out))
				out = append(out, b[off:off+n]...)
				copied[off] = to
			}
			out[rec+8], out[rec+9], out[rec+10], out[rec+11] = byte(to>>24), byte(to>>16), byte(to>>8), byte(to)
		}
	}
	return out
}
