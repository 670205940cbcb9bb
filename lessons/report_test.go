package lessons

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gptviz/gptviz/internal/golden"
	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/internal/i18n/i18ntest"
	"github.com/gptviz/gptviz/internal/numfmt"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz/viztest"
)

// handMade is a small run with generation, evictions (window of 8) and
// adversarial token strings.
func handMade() *trace.Trace {
	tr := viztest.Trace(viztest.Options{NLayer: 3, NHead: 4, DHead: 4, NPositions: 8, Prompt: 6, Steps: 5, TopK: 3, Seed: 7, TopLogits: 32})
	tr.Prompt = "The </script> __f__x__f__ \"&\" 工作记忆 🦊\nnext"
	tr.Notes = append(tr.Notes, trace.Note{Code: "future-code", Text: "Attention rows longer than 256 keys are stored as averages over blocks of 4 keys."})
	return tr
}

// testCommands stand for the command lines the CLI passes in.
var testCommands = Commands{Rerun: "gptviz report --seed 7 'The prompt'", Tokens: "gptviz tokens 'The prompt'"}

// cellList is the golden form of a notebook: one line per cell, its kind
// and, for charts, the chart ID.
func cellList(nb *output.Notebook) string {
	var b strings.Builder
	for _, c := range nb.Cells {
		b.WriteString(c.Kind.String())
		switch {
		case c.Chart != nil:
			b.WriteString(" " + c.Chart.ID)
		case c.Kind == output.KindMarkdown:
			if h, _, _ := strings.Cut(c.Source, "\n"); strings.HasPrefix(h, "## ") {
				b.WriteString(" " + strings.Fields(h)[1]) // section number
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestReportBothLanguages(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			nb, err := Report(handMade(), ReportOptions{Lang: lang, Commands: testCommands})
			if err != nil {
				t.Fatal(err)
			}
			if err := nb.Validate(); err != nil {
				t.Fatal(err)
			}
			if nb.Lang != lang {
				t.Errorf("Lang = %q", nb.Lang)
			}
			// Both languages have the same cells: one golden file.
			golden.Check(t, filepath.Join("testdata", "cells.golden"), []byte(cellList(nb)))
			var html bytes.Buffer
			if err := output.WriteHTML(&html, nb); err != nil {
				t.Fatal(err)
			}
			page := html.String()
			// The section headings are in the report's language.
			for _, key := range []string{"summary.h", "tokens.h", "probs.h", "gen.h", "attn.h", "kv.h", "lens.h", "resid.h", "checks.h"} {
				h := strings.TrimPrefix(texts.Get(i18n.ParseLang(lang), key), "## ")
				if !strings.Contains(page, escHTML(h)) {
					t.Errorf("heading %q missing from the page", h)
				}
			}
			// Model text stays inert: no raw payload outside escaped form.
			if strings.Contains(page, "</script> __f__") || strings.Contains(page, "<script>alert") {
				t.Error("raw prompt text in the page")
			}
		})
	}
}

func escHTML(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

// TestReportSections checks facts a learner relies on.
func TestReportSections(t *testing.T) {
	t.Parallel()
	tr := handMade()
	nb, err := Report(tr, ReportOptions{Commands: testCommands})
	if err != nil {
		t.Fatal(err)
	}
	var codes, mds, notes []string
	var chips *output.Chips
	for _, c := range nb.Cells {
		switch c.Kind {
		case output.KindCode:
			codes = append(codes, c.Source)
		case output.KindMarkdown:
			mds = append(mds, c.Source)
		case output.KindNote:
			notes = append(notes, c.Source)
		case output.KindChips:
			chips = c.Chips
		}
	}
	if !strings.HasSuffix(codes[0], "\n"+testCommands.Rerun) {
		t.Errorf("first code cell %q does not rerun %q", codes[0], testCommands.Rerun)
	}
	if chips == nil || len(chips.Items) != len(tr.Tokens) {
		t.Fatalf("chips: %+v", chips)
	}
	if !strings.Contains(chips.Items[0].Title, fmt.Sprintf("id %d", tr.Tokens[0].ID)) || chips.Items[0].Group != 0 {
		t.Errorf("first chip %+v: want its id on hover and grey (evicted)", chips.Items[0])
	}
	if last := chips.Items[len(chips.Items)-1]; last.Group != 2 {
		t.Errorf("last chip %+v: want group 2 (generated)", last)
	}
	if !strings.Contains(chips.Caption, "8 positions") {
		t.Errorf("chips caption %q: want the count vs the context window", chips.Caption)
	}
	all := strings.Join(mds, "\n")
	for _, want := range []string{"Perplexity", "max |Δlogit| = **2e-06**", "bytes = 2 × n_layer × positions × n_embd × 4", "2 × 3 × 8 × 16 × 4 = 3,072 bytes"} {
		if !strings.Contains(all, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if !slicesContains(notes, tr.Notes[len(tr.Notes)-1].Text) {
		t.Errorf("trace note missing: %q", notes)
	}
	// Markdown never carries model text.
	for _, m := range mds {
		if strings.Contains(m, "script") || strings.Contains(m, "__f__") || strings.Contains(m, "🦊") {
			t.Errorf("model text inside markdown: %q", m)
		}
	}
}

func slicesContains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestReportFilterAndFocus(t *testing.T) {
	t.Parallel()
	tr := handMade()
	nb, err := Report(tr, ReportOptions{Layers: []int{2}, Heads: []int{3, 1}, Static: []string{"svg", "png"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids, titles []string
	for _, c := range nb.Cells {
		if c.Chart != nil {
			ids = append(ids, c.Chart.ID)
			titles = append(titles, c.Chart.Title)
			if len(c.Chart.SVG) == 0 || len(c.Chart.PNG) == 0 {
				t.Errorf("chart %s: static renderings missing", c.Chart.ID)
			}
		}
	}
	got := strings.Join(ids, " ")
	for _, want := range []string{"attn-l2-h1", "attn-grid-l2", "attn-new-l2-h1", "kv-l2-h1"} {
		if !strings.Contains(got, want) {
			t.Errorf("charts %s: want %s", got, want)
		}
	}
	if strings.Contains(got, "attn-grid-l0") {
		t.Errorf("charts %s: layer 0 was filtered out", got)
	}
	if !strings.Contains(strings.Join(titles, "|"), "Attention, layer 2, heads 1, 3 (model view)") {
		t.Errorf("titles %q", titles)
	}
	for _, tc := range []struct {
		opt    ReportOptions
		option string // OptionError.Option
	}{
		{ReportOptions{Lang: "fr"}, "lang"},
		{ReportOptions{Layers: []int{3}}, "layers"},
		{ReportOptions{Heads: []int{-1}}, "heads"},
		{ReportOptions{Focus: &Head{0, 4}}, "focus"},
		{ReportOptions{Static: []string{"gif"}}, "static"},
		{ReportOptions{Commands: Commands{Rerun: "gptviz report 'x'\nrm -rf ~"}}, "commands"},
		{ReportOptions{Commands: Commands{Tokens: "gptviz tokens \x1b]0;title\a"}}, "commands"},
	} {
		_, err := Report(tr, tc.opt)
		var oe *OptionError
		if !errors.Is(err, ErrOptions) || !errors.As(err, &oe) || oe.Option != tc.option {
			t.Errorf("%+v: err = %v, want an *OptionError for %s matching ErrOptions", tc.opt, err, tc.option)
		}
		if err != nil && strings.Contains(err.Error(), "--") {
			t.Errorf("%+v: error %q speaks in command-line flags", tc.opt, err)
		}
	}
}

// TestReportSparseTrace: a run without decode steps or recorded attention
// still gives a valid report, with notes where charts are missing.
func TestReportSparseTrace(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 1, Steps: 0})
	tr.Settings.Command = ""
	tr.Checks.CacheVsRecompute = -1
	for i := range tr.Steps {
		tr.Steps[i].Attention = nil
		tr.Steps[i].LogitLens = nil
	}
	tr.Cache = nil
	for _, lang := range []string{"en", "zh"} {
		nb, err := Report(tr, ReportOptions{Lang: lang})
		if err != nil {
			t.Fatal(err)
		}
		if err := nb.Validate(); err != nil {
			t.Fatal(err)
		}
		var notes int
		for _, c := range nb.Cells {
			if c.Kind == output.KindNote {
				notes++
			}
			if c.Kind == output.KindCode && strings.Contains(c.Source, "gptviz ") {
				t.Errorf("%s: a command cell without commands given: %q", lang, c.Source)
			}
		}
		if notes < 3 {
			t.Errorf("%s: %d notes, want one each for generation, attention, cache check", lang, notes)
		}
	}
}

// TestTexts: every key has both languages with the same verbs, formats
// without errors, and every key the report uses exists.
func TestTexts(t *testing.T) {
	t.Parallel()
	i18ntest.Check(t, texts, regexp.MustCompile(`b\.t\("([a-z.\-]+)"`), "report.go", "facts.go")
	// Counted nouns: b.n(count, "n.token") uses n.token.one and n.token.other.
	var src []byte
	for _, f := range []string{"report.go", "facts.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	uses := regexp.MustCompile(`, "(n\.[a-z]+)"\)`).FindAllSubmatch(src, -1)
	if len(uses) == 0 {
		t.Error("no use of b.n found: the pattern is stale")
	}
	for _, m := range uses {
		for _, form := range []string{".one", ".other"} {
			if _, ok := texts[string(m[1])+form]; !ok {
				t.Errorf("report.go counts %s, but the text %s%s is missing", m[1], m[1], form)
			}
		}
	}
}

// benchReport builds a trace, then times Report + WriteHTML and reports the
// page size.
func benchReport(b *testing.B, o viztest.Options, static ...string) {
	tr := viztest.Trace(o)
	b.ResetTimer()
	var size int
	for b.Loop() {
		nb, err := Report(tr, ReportOptions{Static: static})
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := output.WriteHTML(&buf, nb); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/1e6, "MB")
}

// BenchmarkReport64x64: GPT-2-sized shapes (12 layers × 12 heads, d_head
// 64), 64 prompt tokens + 64 decode steps. Targets: ≤ 5 MB, ≤ 5 s.
func BenchmarkReport64x64(b *testing.B) {
	benchReport(b, viztest.Options{NLayer: 12, NHead: 12, DHead: 64, Prompt: 64, Steps: 64, TopK: 40, Seed: 1})
}

// BenchmarkReportStatic64x64 is BenchmarkReport64x64 with every chart also
// rendered as SVG (what an ipynb embeds); the page then carries both.
func BenchmarkReportStatic64x64(b *testing.B) {
	benchReport(b, viztest.Options{NLayer: 12, NHead: 12, DHead: 64, Prompt: 64, Steps: 64, TopK: 40, Seed: 1}, "svg")
}

// BenchmarkReport1024: a 1,024-token prompt on GPT-2-sized shapes, recorded
// as model.Run does by default (last 256 query rows, attention rows
// block-averaged to 256 keys). Target: ≤ 25 MB.
func BenchmarkReport1024(b *testing.B) {
	benchReport(b, viztest.Options{NLayer: 12, NHead: 12, DHead: 64, Prompt: 1024, Steps: 0, Seed: 1})
}

// TestReportSizeSmoke checks the size target of a 64+64-token report on 12
// layers × 12 heads (small d_head to keep the test quick; the page does not
// depend on d_head except for the KV cache heatmap).
func TestReportSizeSmoke(t *testing.T) {
	t.Parallel()
	start := time.Now()
	tr := viztest.Trace(viztest.Options{NLayer: 12, NHead: 12, DHead: 8, Prompt: 64, Steps: 64})
	nb, err := Report(tr, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := output.WriteHTML(&buf, nb); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 5e6 {
		t.Errorf("64+64 report is %.1f MB, want ≤ 5 MB", float64(buf.Len())/1e6)
	}
	t.Logf("64+64 tokens, 12×12 heads: %.2f MB in %v", float64(buf.Len())/1e6, time.Since(start))
}

func ExampleReport() {
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, Prompt: 5, Steps: 2, Words: []string{"The", "␣quick", "␣brown", "␣fox"}})
	nb, err := Report(tr, ReportOptions{Lang: "zh", Layers: []int{1}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range nb.Cells {
		if c.Chart != nil {
			fmt.Println(c.Chart.ID, "·", c.Chart.Title)
		}
	}
	// Output:
	// prompt-probs · 每个提示词 token 的 P(w_i | w_<i) 与信息量
	// next-token · 每一步的下一个 token 概率
	// next-entropy · 各步的熵与被选中 token 的概率
	// attn-l1-h0 · 注意力：第 1 层，第 0 个头
	// attn-grid-l1 · 注意力：第 1 层，第 0–1 个头（全模型视图）
	// attn-new-l1-h0 · 每个新 token 如何读取工作记忆：第 1 层，第 0 个头
	// kv-bytes · 每一步之后的 KV 缓存大小
	// kv-layers · 每一步之后每层缓存的位置数
	// kv-time-l1-h0 · KV 缓存随时间的变化：第 1 层，第 0 个头
	// kv-l1-h0 · KV 缓存内容：第 1 层，第 0 个头的键与值
	// logit-lens · Logit lens：每层之后排第一的 token
	// residual-norm · 各层、各位置的残差流范数
}

// TestTraceNotesTranslated checks that the engine's notes are said in the
// report's language by their code, and fall back to their English text
// for unknown codes or arguments that do not fit.
func TestTraceNotesTranslated(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 6, Steps: 2, NLayer: 2, NHead: 2, Seed: 1})
	tr.Notes = []trace.Note{
		{Code: trace.NoteEvicted, Args: []int{3, 64}, Text: "3 tokens left"},
		{Code: trace.NoteKVLayers, Args: []int{0, 11}, Text: "layers [0 11]"},
		{Code: trace.NoteAttentionStride, Args: []int{256}, Text: "english fallback"},
		{Code: "unknown", Text: "unknown fallback"},
	}
	nb, err := Report(tr, ReportOptions{Lang: "zh"})
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, c := range nb.Cells {
		if c.Kind == output.KindNote {
			notes = append(notes, c.Source)
		}
	}
	for _, want := range []string{"有 3 个 token 被挤出了 64 个位置的上下文窗口", "只记录了第 0, 11 层的 KV 缓存内容", "english fallback", "unknown fallback"} {
		if !slicesContains(notes, want) && !strings.Contains(strings.Join(notes, "\n"), want) {
			t.Errorf("zh report notes lack %q: %q", want, notes)
		}
	}
}

// TestReportRejectsInvalidTrace: a trace whose shapes do not hold (here a
// negative n_layer, found by FuzzRender) is an error, not a panic.
func TestReportRejectsInvalidTrace(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 4, Steps: 1, NLayer: 2, NHead: 2, Seed: 1})
	tr.Model.Config.NLayer = -1
	if _, err := Report(tr, ReportOptions{}); err == nil || !strings.Contains(err.Error(), "n_layer") {
		t.Errorf("Report of a trace with n_layer -1: %v", err)
	}
}

// TestReportAboutKnownModels: the run summary says what the default model
// is (a learner otherwise wonders why "The" is split into T h e and the
// model writes like Newton), in the report's language.
func TestReportAboutKnownModels(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 4, Steps: 1, NLayer: 2, NHead: 2, Seed: 1})
	for name, want := range map[string]string{"gptviz-default": "牛顿", "gpt2": "OpenAI", "my-model": ""} {
		tr.Model.Name = name
		nb, err := Report(tr, ReportOptions{Lang: "zh"})
		if err != nil {
			t.Fatal(err)
		}
		var about string
		for _, c := range nb.Cells {
			if c.Kind == output.KindTable && c.Table != nil {
				for _, row := range c.Table.Rows {
					if row[0] == "模型简介" {
						about = row[1]
					}
				}
			}
		}
		if (want == "" && about != "") || !strings.Contains(about, want) {
			t.Errorf("model %s: about %q, want it to contain %q", name, about, want)
		}
	}
}

// TestReportRerunCommand: the report shows the command lines it is given
// verbatim (lessons neither parses nor rebuilds them), says when the rerun
// command was reconstructed, and leaves out the ones not given.
func TestReportRerunCommand(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 4, Steps: 1, NLayer: 2, NHead: 2, Seed: 1})
	tr.Settings.Command = "gptviz report 'x'; rm -rf ~" // a trace's own command is never shown
	for _, tc := range []struct {
		cmds      Commands
		wantCells []string
	}{
		{Commands{Rerun: "gptviz report --steps 1 x", Tokens: "gptviz tokens x"},
			[]string{texts["summary.rerun"].In(i18n.English) + "\ngptviz report --steps 1 x", "gptviz tokens x"}},
		{Commands{Rerun: "gptviz report --steps 1 x", Reconstructed: true},
			[]string{texts["summary.rerun"].In(i18n.English) + "\n" + texts["summary.rebuilt"].In(i18n.English) + "\ngptviz report --steps 1 x"}},
		{Commands{}, nil},
	} {
		nb, err := Report(tr, ReportOptions{Commands: tc.cmds})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range nb.Cells {
			if c.Kind == output.KindCode && c.Syntax == "shell" {
				got = append(got, c.Source)
			}
		}
		if !slices.Equal(got, tc.wantCells) {
			t.Errorf("%+v: shell cells %q, want %q", tc.cmds, got, tc.wantCells)
		}
	}
}

// markdownText joins a notebook's markdown and note cells and its table and
// chip captions.
func markdownText(nb *output.Notebook) string {
	var b strings.Builder
	for _, c := range nb.Cells {
		switch {
		case c.Kind == output.KindMarkdown || c.Kind == output.KindNote:
			b.WriteString(c.Source + "\n")
		case c.Table != nil:
			b.WriteString(c.Table.Caption + "\n")
		case c.Chips != nil:
			b.WriteString(c.Chips.Caption + "\n")
		}
	}
	return b.String()
}

// TestReportCountsAndOrdinals: "over 1 scored tokens", "1 tokens left the
// context window" and similar. A count of one takes the singular, in both
// languages' texts.
func TestReportCountsAndOrdinals(t *testing.T) {
	t.Parallel()
	// A 2-token prompt (one scored token) in a window of 4 positions, 3
	// steps: 1 token evicted.
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, DHead: 2, NPositions: 4, Prompt: 2, Steps: 3, Seed: 1})
	nb, err := Report(tr, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	text := markdownText(nb)
	for _, want := range []string{"over 1 scored token.", "**1 token** left working memory", "This run evicted 1 token.", "of 4 positions", "1 token left the context window of 4 positions"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if m := regexp.MustCompile(`\b1 (tokens|positions|scored tokens)\b|\d+-th\b`).FindString(text); m != "" {
		t.Errorf("report says %q", m)
	}
}

// TestPerplexityOneRounding: the perplexity read 61195 in the text and
// 61190 in the chart: two rounding rules. The text now uses numfmt.Sig,
// the rule the chart is to use as well.
func TestPerplexityOneRounding(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 1, NHead: 1, DHead: 2, NPositions: 8, Prompt: 4, Steps: 0, Seed: 1})
	for i := range tr.Scores {
		if !tr.Scores[i].NoContext {
			tr.Scores[i].Surprisal = math.Log2(61195.3)
			tr.Scores[i].Prob = 1 / 61195.3
		}
	}
	nb, err := Report(tr, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if text := markdownText(nb); !strings.Contains(text, "here **61195** over 3 scored tokens") {
		t.Errorf("perplexity text: %s", regexp.MustCompile(`here \*\*[^*]*\*\*[^.]*`).FindString(text))
	}
}

// TestTraceNotesOfOverflowPolicies: the notes of block eviction and of a
// prompt scored in sliding windows are said in the report's language from
// their numbers, not left in the trace's English text.
func TestTraceNotesOfOverflowPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		note     trace.Note
		lang     string
		contains string
	}{
		{trace.Note{Code: trace.NoteEvictedBlock, Args: []int{64, 128, 2, 32, 190}, Text: "EN"}, "zh", "每批 32 个（共 2 批）"},
		{trace.Note{Code: trace.NoteEvictedBlock, Args: []int{64, 128, 2, 32, 190}, Text: "EN"}, "en", "32 at a time (2 blocks)"},
		{trace.Note{Code: trace.NoteEvictedBlock, Args: []int{32, 128, 1, 32, 97}, Text: "EN"}, "en", "32 at a time (1 block)"},
		{trace.Note{Code: trace.NotePromptWindows, Args: []int{320, 128, 4, 64}, Text: "EN"}, "zh", "从第 64 个位置起"},
		{trace.Note{Code: trace.NotePromptWindows, Args: []int{320, 128, 4, 64}, Text: "EN"}, "en", "its first 192 tokens left"},
	} {
		b := &builder{lang: tc.lang}
		if got := b.traceNote(tc.note); !strings.Contains(got, tc.contains) {
			t.Errorf("%s %s: %q, want it to contain %q", tc.note.Code, tc.lang, got, tc.contains)
		}
	}
}

// kvTimeCells returns the markdown before the KV-over-time chart, whether
// that chart is in the report, and every note cell of the report.
func kvTimeCells(t *testing.T, tr *trace.Trace, lang string) (md string, chart bool, notes string) {
	t.Helper()
	nb, err := Report(tr, ReportOptions{Lang: lang, Commands: testCommands})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range nb.Cells {
		if c.Kind == output.KindNote {
			notes += c.Source + "\n"
		}
		if c.Chart != nil && strings.HasPrefix(c.Chart.ID, "kv-time-") {
			chart = true
			md = nb.Cells[i-1].Source
		}
	}
	return md, chart, notes
}

// TestKVOverTimeSentences: the paragraph beside the KV-over-time chart
// states only what holds for the run: the cache at the end, evictions and
// recompute steps when there were any; a trace without kv_write gets a
// note instead of the chart.
func TestKVOverTimeSentences(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		o         viztest.Options
		old       bool
		lang      string
		want, not []string
	}{
		{"evictions and recomputes", viztest.Options{NLayer: 3, NHead: 4, DHead: 4, NPositions: 8, Prompt: 6, Steps: 5, Seed: 7}, false, "en",
			[]string{"layer 2, head 0", "At the end the cache holds 8 positions, positions 3–10.", "3 tokens (positions 0–2) left it",
				"3 steps recomputed the window, from step 3 to step 5", "sits at an earlier position"},
			[]string{"One token", "At step"}},
		{"one recompute", viztest.Options{NPositions: 8, Prompt: 6, Steps: 3, Seed: 7}, false, "en",
			[]string{"At the end the cache holds 8 positions, positions 1–8.", "One token (position 0) left it", "At step 3 the window was recomputed"},
			[]string{"steps recomputed"}},
		{"within the window", viztest.Options{NPositions: 64, Prompt: 6, Steps: 3, Seed: 7}, false, "en",
			[]string{"At the end the cache holds 9 positions, positions 0–8."},
			[]string{"left it", "recomputed", "sits at an earlier position"}},
		{"chinese", viztest.Options{NPositions: 8, Prompt: 6, Steps: 3, Seed: 7}, false, "zh",
			[]string{"运行结束时缓存中有 8 个位置，即位置 1–8。", "有 1 个 token（位置 0）离开了缓存", "第 3 步重算了整个窗口"},
			[]string{"At the end"}},
		{"old trace", viztest.Options{NPositions: 8, Prompt: 6, Steps: 3, Seed: 7}, true, "en", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := viztest.Trace(tc.o)
			if tc.old {
				for i := range tr.Steps {
					tr.Steps[i].KVWrite = nil
				}
			}
			md, chart, notes := kvTimeCells(t, tr, tc.lang)
			if chart == tc.old {
				t.Fatalf("KV-over-time chart present: %v, want %v", chart, !tc.old)
			}
			if tc.old && !strings.Contains(notes, "does not record what each step wrote") {
				t.Errorf("old trace: no note saying why the chart is missing; notes:\n%s", notes)
			}
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("missing %q in:\n%s", w, md)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(md, w) {
					t.Errorf("%q stated, but does not hold:\n%s", w, md)
				}
			}
		})
	}
}

// TestReportShowsContextAndOverflow: the token table says how many tokens
// of context each prompt token was scored with (Score.Context, or what an
// older trace implies), and the summary which overflow policy ran.
func TestReportShowsContextAndOverflow(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 5, Steps: 1, Seed: 1})
	tr.Settings.Overflow = trace.OverflowBlock
	for i := 1; i < len(tr.Scores); i++ {
		tr.Scores[i].Context = i
	}
	tr.Scores[4].Context = 2 // as if scored in a later window
	nb, err := Report(tr, ReportOptions{Commands: testCommands})
	if err != nil {
		t.Fatal(err)
	}
	var contexts []string
	summary := false
	for _, c := range nb.Cells {
		if c.Table == nil {
			continue
		}
		if len(c.Table.Header) == 6 && c.Table.Header[2] == texts.Get(i18n.English, "col.context") {
			for _, r := range c.Table.Rows {
				contexts = append(contexts, r[2])
			}
		}
		for _, r := range c.Table.Rows {
			if len(r) == 2 && r[0] == texts.Get(i18n.English, "f.overflow") && r[1] == texts.Get(i18n.English, "overflow.block") {
				summary = true
			}
		}
	}
	if got := strings.Join(contexts, ","); got != "0,1,2,3,2" {
		t.Errorf("context column %q, want 0,1,2,3,2", got)
	}
	if !summary {
		t.Error("the summary does not say the block overflow policy ran")
	}
}

// TestEvictionTableFolds: the table of evicted tokens is open while it is
// short and folded once a run evicts more than foldEvictions tokens.
func TestEvictionTableFolds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		steps      int
		rows       int
		wantFolded bool
	}{
		{5, 3, false},
		{22, 20, true},
	} {
		tr := viztest.Trace(viztest.Options{NPositions: 8, Prompt: 6, Steps: tc.steps, Seed: 7})
		nb, err := Report(tr, ReportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range nb.Cells {
			if c.Kind != output.KindTable || c.Table.Caption != "Evicted tokens" {
				continue
			}
			found = true
			if len(c.Table.Rows) != tc.rows || c.Table.Folded != tc.wantFolded {
				t.Errorf("%d steps: %d rows, folded %v; want %d, %v", tc.steps, len(c.Table.Rows), c.Table.Folded, tc.rows, tc.wantFolded)
			}
		}
		if !found {
			t.Errorf("%d steps: no table of evicted tokens", tc.steps)
		}
	}
}

// TestReportShowsContinuation: a trace with a given continuation gets its
// section, with log2 P, bits per token, the generated tokens' mean
// surprisal for comparison, and one row per token; a trace without one
// gets none.
func TestReportShowsContinuation(t *testing.T) {
	t.Parallel()
	for lang, head := range map[string]string{"en": "A given continuation", "zh": "给定续写"} {
		tr := viztest.Trace(viztest.Options{Prompt: 6, Steps: 3, Seed: 7})
		nb, err := Report(tr, ReportOptions{Lang: lang})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(allMarkdown(nb), head) {
			t.Errorf("%s: a report without a continuation speaks of one", lang)
		}
		toks := []trace.Token{tr.Tokens[1], tr.Tokens[2]}
		tr.Continuation = &trace.Continuation{Text: " ab", Tokens: toks, Log2Prob: -3, BitsPerToken: 1.5,
			Scores: []trace.Score{
				{Position: tr.PromptLen, ID: toks[0].ID, Prob: 0.5, Surprisal: 1, Context: tr.PromptLen},
				{Position: tr.PromptLen + 1, ID: toks[1].ID, Prob: 0.25, Surprisal: 2, Context: tr.PromptLen + 1},
			}}
		nb, err = Report(tr, ReportOptions{Lang: lang})
		if err != nil {
			t.Fatal(err)
		}
		md := allMarkdown(nb)
		for _, want := range []string{head, numfmt.Sig(-3, 4) + " ", numfmt.Sig(1.5, 3), `" ab"`} {
			if !strings.Contains(md, want) {
				t.Errorf("%s: the continuation section lacks %q", lang, want)
			}
		}
		var bits float64
		for _, st := range tr.Steps {
			if p := st.Next; p != nil {
				bits -= math.Log2(p.Chosen.Prob)
			}
		}
		if want := numfmt.Sig(bits/3, 3); !strings.Contains(md, want) {
			t.Errorf("%s: the generated tokens' mean surprisal %s is missing", lang, want)
		}
		rows := 0
		for _, c := range nb.Cells {
			if c.Kind == output.KindTable && strings.Contains(c.Table.Caption, "continuation") || c.Kind == output.KindTable && strings.Contains(c.Table.Caption, "续写") {
				rows = len(c.Table.Rows)
			}
		}
		if rows != 2 {
			t.Errorf("%s: continuation table has %d rows, want 2", lang, rows)
		}
	}
}

// allMarkdown joins the text of every markdown cell of nb.
func allMarkdown(nb *output.Notebook) string {
	var sb strings.Builder
	for _, c := range nb.Cells {
		if c.Kind == output.KindMarkdown {
			sb.WriteString(c.Source)
			sb.WriteString("\n")
		}
	}
	return sb.String()
}

// TestReportStatesLensCost: the lens section says what reading out the
// lens cost, from the steps' timings, and that a long prefill was read out
// at its last positions only; without timings it says neither.
func TestReportStatesLensCost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		lensQ      int
		timed, cut bool
		n          string
	}{
		{"every row, timed", 0, true, false, "6 positions"},
		{"last 4 rows, timed", 4, true, true, "4 positions"},
		{"no timings", 0, false, false, ""},
	} {
		tr := viztest.Trace(viztest.Options{Prompt: 6, Steps: 0, Seed: 3, LensQueries: tc.lensQ})
		if tc.timed {
			tr.Steps[0].Millis, tr.Steps[0].LensMillis = 8, 2
		}
		nb, err := Report(tr, ReportOptions{Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		md := allMarkdown(nb)
		if got := strings.Contains(md, "What the lens costs"); got != tc.timed {
			t.Errorf("%s: cost stated %v, want %v", tc.name, got, tc.timed)
		}
		if tc.timed {
			for _, want := range []string{"read the lens out at " + tc.n + ", after each of 2 layers", "took 2 ms of the 8 ms those steps took (25%)"} {
				if !strings.Contains(md, want) {
					t.Errorf("%s: lacks %q", tc.name, want)
				}
			}
		}
		if got := strings.Contains(md, "the prefill's 6 positions were read out at the last 4 only"); got != tc.cut {
			t.Errorf("%s: cut stated %v, want %v", tc.name, got, tc.cut)
		}
	}
}

// TestReportTranslatesNewNotes: the lens-rows and empty-prompt notes are
// said in the report's language, with the note's numbers.
func TestReportTranslatesNewNotes(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{Prompt: 6, Steps: 1, Seed: 3})
	tr.Notes = append(tr.Notes,
		trace.Note{Code: trace.NoteLensRows, Args: []int{40, 16}, Text: "english"},
		trace.Note{Code: trace.NoteEmptyPrompt, Text: "english"})
	for lang, want := range map[string][]string{
		"en": {"A step recorded 40 query rows; the logit lens was read out for its last 16", "The prompt was empty: the run starts from `<|endoftext|>`"},
		"zh": {"有一步记录了 40 个查询行；logit lens 只读出了最后 16 行", "提示词是空的：运行从 `<|endoftext|>` 开始"},
	} {
		nb, err := Report(tr, ReportOptions{Lang: lang})
		if err != nil {
			t.Fatal(err)
		}
		var md strings.Builder
		for _, c := range nb.Cells {
			md.WriteString(c.Source + "\n")
		}
		for _, w := range want {
			if !strings.Contains(md.String(), w) {
				t.Errorf("%s: lacks %q", lang, w)
			}
		}
	}
}

// TestReportSummaryFilters: the run summary gives top-k and top-p as the
// rerun command passes them, with "off" beside a value that turns the
// filter off, in both languages.
func TestReportSummaryFilters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		topK         int
		topP         float64
		lang         string
		wantK, wantP string
	}{
		{0, 1, "en", "0 (off)", "1 (off)"},
		{40, 0.9, "en", "40", "0.9"},
		{0, 1, "zh", "0（关闭）", "1（关闭）"},
	} {
		tr := viztest.Trace(viztest.Options{Prompt: 4, Steps: 1, NLayer: 2, NHead: 2, Seed: 1})
		tr.Settings.Temperature, tr.Settings.TopK, tr.Settings.TopP = 1, tc.topK, tc.topP
		nb, err := Report(tr, ReportOptions{Lang: tc.lang})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range nb.Cells {
			if c.Kind == output.KindTable {
				for _, row := range c.Table.Rows {
					if len(row) == 2 {
						got[row[0]] = row[1]
					}
				}
			}
		}
		if got["top-k"] != tc.wantK || got["top-p"] != tc.wantP {
			t.Errorf("%s, top-k %d, top-p %v: summary says %q, %q; want %q, %q", tc.lang, tc.topK, tc.topP, got["top-k"], got["top-p"], tc.wantK, tc.wantP)
		}
	}
}
