package viz

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/cmpimg"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"

	"github.com/gptviz/gptviz/internal/golden"
	"github.com/gptviz/gptviz/internal/testref"
)

// TestCJKFontFound: a CJK font is found where one is installed (CI
// installs fonts-wqy-microhei, so there a missing font fails); where none
// is, the error says where it looked and how to fix it.
func TestCJKFontFound(t *testing.T) {
	t.Parallel()
	path, err := CJKFont()
	if err != nil {
		if testref.CI() {
			t.Fatalf("CI=true and no CJK font: %v", err)
		}
		if !errors.Is(err, ErrNoCJKFont) || !strings.Contains(err.Error(), CJKFontEnv) {
			t.Errorf("error %q: want ErrNoCJKFont naming %s", err, CJKFontEnv)
		}
		t.Logf("no CJK font here: %v", err)
		return
	}
	if path == "" || !covered('中') || !covered('层') {
		t.Errorf("font %q found, but 中 or 层 is not drawable", path)
	}
}

// TestRealignTables is the regression test for Debian's wqy-microhei.ttc,
// whose misaligned tables golang.org/x/image refused ("sfnt: invalid table
// offset"), so no CJK font was ever found.
func TestRealignTables(t *testing.T) {
	t.Parallel()
	// A one-table font whose table starts at offset 30 (not a multiple of 4).
	b := make([]byte, 34)
	copy(b, "\x00\x01\x00\x00\x00\x01") // version 1.0, one table
	copy(b[12:], "cmap")
	b[12+11] = 30 // offset
	b[12+15] = 4  // length
	copy(b[30:], "DATA")
	out := realignTables(b)
	off := int(out[12+11]) | int(out[12+10])<<8
	if off%4 != 0 || string(out[off:off+4]) != "DATA" {
		t.Errorf("table moved to %d holding %q; want an aligned offset holding DATA", off, out[off:min(off+4, len(out))])
	}
	if b[12+11] != 30 {
		t.Error("the input was modified")
	}
	for name, bad := range map[string][]byte{"empty": nil, "truncated": b[:20], "table past the end": append(append([]byte(nil), b[:28]...), 0, 0)} {
		if got := realignTables(bad); !bytes.Equal(got, bad) {
			t.Errorf("%s: changed unreadable data", name)
		}
	}
}

// TestVisibleSpaceDrawnAsShelf: "␣" is drawn as a path (it is in no font
// the figures use), not as "·" or a missing glyph, and takes room.
func TestVisibleSpaceDrawnAsShelf(t *testing.T) {
	t.Parallel()
	h := theFigText()
	runs := h.runs("a␣b", font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(10)})
	if len(runs) != 3 || !runs[1].shelf || runs[1].width <= 0 || runs[0].s != "a" || runs[2].s != "b" {
		t.Errorf("runs of a␣b: %+v; want a, a shelf, b", runs)
	}
}

// TestStaticChinese: under Lang("zh") the static figures speak Chinese
// when a CJK font is found, and fall back to English when none is.
func TestStaticChinese(t *testing.T) {
	t.Parallel()
	zh := settingsOf([]Option{Lang("zh")}).static()
	if _, err := CJKFont(); err != nil {
		if zh.lang != "en" {
			t.Errorf("no CJK font, static language %q; want English", zh.lang)
		}
		return
	}
	if zh.lang != "zh" {
		t.Errorf("static language %q with a CJK font; want zh", zh.lang)
	}
	if got := staticTitle(zh.t("pp.title")); strings.Contains(got, "U+") {
		t.Errorf("title %q: Chinese written as code points", got)
	}
}

// TestGoldenImagesChinese renders static figures with Lang("zh") and
// compares them with testdata/zh-<id>.png. It needs the CJK font (see
// TestCJKFontFound); without one, it checks the fallback instead: the
// figure is the English one.
func TestGoldenImagesChinese(t *testing.T) {
	t.Parallel()
	tr := small()
	for _, build := range []func(...Option) (*Chart, error){
		func(o ...Option) (*Chart, error) { return PromptProbs(tr, o...) },
		func(o ...Option) (*Chart, error) { return NextToken(tr, o...) },
	} {
		zh, err := build(Lang("zh"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(zh.ID, func(t *testing.T) {
			t.Parallel()
			var got bytes.Buffer
			if err := zh.Static(&got, "png"); err != nil {
				t.Fatal(err)
			}
			if _, err := CJKFont(); err != nil {
				en, err := build()
				if err != nil {
					t.Fatal(err)
				}
				var want bytes.Buffer
				if err := en.Static(&want, "png"); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Error("no CJK font, and the zh figure is not the English one")
				}
				return
			}
			golden.CheckFunc(t, filepath.Join("testdata", "zh-"+zh.ID+".png"), got.Bytes(), func(want, got []byte) (bool, error) {
				return cmpimg.EqualApprox("png", got, want, 0.01)
			})
		})
	}
}

// TestFigureStep: FigureStep picks one step of the next-token figure, and
// a step the chart lacks is an error.
func TestFigureStep(t *testing.T) {
	t.Parallel()
	tr := small()
	all, err := NextToken(tr)
	if err != nil {
		t.Fatal(err)
	}
	one, err := NextToken(tr, FigureStep(2))
	if err != nil {
		t.Fatal(err)
	}
	if all.static.h <= one.static.h {
		t.Errorf("every step: %v high, step 2 alone: %v; want the panels of every step taller", all.static.h, one.static.h)
	}
	if _, err := NextToken(tr, FigureStep(99)); !errors.Is(err, ErrRange) {
		t.Errorf("FigureStep(99): %v, want ErrRange", err)
	}
}
