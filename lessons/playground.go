package lessons

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

// PlaygroundOptions choose how Playground presents a run's sampling
// playground.
type PlaygroundOptions struct {
	// Lang is "en" (also when empty) or "zh".
	Lang string
	// ID is the playground's element id, unique in its page: 1 to 64
	// characters from [a-z0-9-]; "" means viz.PlaygroundID. A page with
	// several playgrounds (one per run compared) gives each its own.
	ID string
	// Heading is the markdown line that opens the cells, e.g. "### Try
	// other settings"; "" means the default heading in Lang, "-" none.
	Heading string
}

// Playground returns the cells of a sampling playground for any Trace
// whose decode steps recorded their top logits (trace.Prediction.Logits):
// an explanation (the filter order temperature → top-k → top-p and the
// renormalisation, greedy as T → 0, top-p adapting to the distribution,
// what the recorded top-N means for this run), the Go call, the
// interactive playground (output.KindPlayground) and notes for what it
// left out. Every number the text states is the run's. A trace without
// recorded logits (written by an older gptviz, or a run with no steps)
// gives a single note saying so, not an error. Errors: an invalid ID
// (*OptionError) or an inconsistent trace (wrapping viz.ErrInvalid).
func Playground(tr *trace.Trace, opt PlaygroundOptions) ([]output.Cell, error) {
	if tr == nil {
		return nil, errors.New("playground: nil trace")
	}
	l := i18n.ParseLang(opt.Lang)
	if opt.Lang != "" && opt.Lang != "en" && opt.Lang != "zh" {
		return nil, &OptionError{"lang", opt.Lang, `want "en" or "zh"`}
	}
	id := opt.ID
	if id == "" {
		id = viz.PlaygroundID
	}
	if !validPlaygroundID(id) {
		return nil, &OptionError{"id", strconv.Quote(id), "want 1 to 64 characters from [a-z0-9-]"}
	}
	pt := func(key string, args ...any) string { return pgTexts.Get(l, key, args...) }
	var cells []output.Cell
	heading := opt.Heading
	if heading == "" {
		heading = pt("pg.h")
	}
	pg, err := viz.SamplingPlayground(tr, viz.Lang(string(l)))
	if errors.Is(err, viz.ErrNoData) {
		if heading != "-" {
			cells = append(cells, output.MarkdownCell(heading))
		}
		return append(cells, output.NoteCell(pt("pg.none"))), nil
	}
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	md := pt("pg.md")
	if heading != "-" {
		md = heading + "\n\n" + md
	}
	s := tr.Settings
	run := pt("pg.run.sampled", num(s.Temperature, 3), offOr(l, s.TopK > 0, strconv.Itoa(s.TopK)), offOr(l, s.TopP < 1, num(s.TopP, 3)))
	if s.Temperature == 0 {
		run = pt("pg.run.greedy")
	}
	sep := " " // between sentences; Chinese runs them together
	if l == i18n.Chinese {
		sep = ""
	}
	md += "\n\n" + run + sep
	if pg.Exact {
		md += pt("pg.recorded.all", pg.Steps, pg.Vocab)
	} else {
		md += pt("pg.recorded.top", pg.Steps, pg.N, pg.Vocab)
	}
	cells = append(cells,
		output.MarkdownCell(md),
		output.CodeCell("go", "pg, err := viz.SamplingPlayground(tr) // "+pt("pg.code")),
		output.PlaygroundCell(&output.Playground{ID: id, Title: pg.Title, Data: pg.Data}),
	)
	for _, n := range pg.Notes {
		cells = append(cells, output.NoteCell(n))
	}
	return cells, nil
}

func init() { blocks["playground"] = playgroundBlock }

// playgroundBlock is ::playground [run=R] [id=ID] [heading="…"]: the run's
// sampling playground (Playground) under the lesson's own headings, with a
// heading only when heading= gives one. A page with two playgrounds gives
// the second an id=.
func playgroundBlock(e *Env, a *Args) ([]output.Cell, error) {
	r, err := e.Run(a)
	if err != nil {
		return nil, err
	}
	cs, err := Playground(r.Trace, PlaygroundOptions{Lang: e.Lang, ID: a.String("id", ""), Heading: a.String("heading", "-")})
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	return cs, nil
}

// offOr returns s when on, else the word "off".
func offOr(l i18n.Lang, on bool, s string) string {
	if on {
		return s
	}
	return pgTexts.Get(l, "pg.off")
}

// validPlaygroundID reports whether id is 1–64 characters from [a-z0-9-]
// (output's rule for element ids).
func validPlaygroundID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// pgTexts are the playground's texts, {English, Chinese}.
var pgTexts = i18n.Table{
	"pg.h": {"### Try other sampling settings on this run", "### 在这次运行上试试别的采样设置"},
	"pg.md": {`The sampler turns the model's next-token distribution into one token in a fixed order: **temperature** first ` +
		`(divide the logits by T: below 1 sharpens, above 1 flattens; T → 0 becomes *greedy*, always the top token), then **top-k** ` +
		`(keep the k most likely), then **top-p** (keep the smallest set of most likely tokens whose probability reaches p — ` +
		`so the number kept adapts to the distribution's shape: few when the model is sure, many when it is not), and finally ` +
		`what survives is **renormalised** to sum to 1. Even at T = 1 sampling is random: a fixed seed only makes the draws repeatable. ` +
		`Move the sliders to see each filter's effect on every step of this run; the table marks the token the run actually sampled.`,
		`采样器按固定的顺序把模型给出的下一个 token 分布变成一个 token：先是**温度**（temperature，` +
			`把 logits 除以 T：小于 1 更尖锐，大于 1 更平坦；T → 0 就成了*贪心*解码，总选第一名），然后是 **top-k**（只留最可能的 k 个），` +
			`再是 **top-p**（留下概率累计达到 p 的最小集合——所以留下多少个会随分布的形状而变：模型有把握时很少，拿不准时很多），` +
			`最后把留下的部分**重新归一化**（renormalise），使总和为 1。即使 T = 1，采样也是随机的：固定种子（seed）只是让抽取可以重复。` +
			`拖动滑块，看每个过滤步骤在这次运行的每一步上起什么作用；表格标出了这次运行实际采样到的 token。`},
	"pg.run.sampled": {"The sliders start at this run's settings: temperature %[1]s, top-k %[2]s, top-p %[3]s.",
		"滑块的初始位置是这次运行的设置：温度 %[1]s，top-k %[2]s，top-p %[3]s。"},
	"pg.run.greedy": {"This run decoded greedily (temperature 0), so each step took its top token; the sliders start there.",
		"这次运行是贪心解码（温度 0），每一步都取第一名；滑块从这里开始。"},
	"pg.recorded.all": {"For each of its %[1]d decode steps the trace kept the logits of the whole vocabulary (%[2]d tokens), so the page recomputes the sampler exactly for any setting.",
		"这次运行的 %[1]d 个解码步骤，每一步的记录都保存了整个词表（%[2]d 个 token）的 logits，所以页面对任何设置都能精确地重算采样器。"},
	"pg.recorded.top": {"For each of its %[1]d decode steps the trace kept only the %[2]d highest logits of the %[3]d tokens: with top-k at most %[2]d (or temperature 0) the page computes exactly what the sampler computes; otherwise it ignores the unrecorded tokens, and says so.",
		"这次运行的 %[1]d 个解码步骤，每一步的记录只保存了 %[3]d 个 token 中最高的 %[2]d 个 logits：top-k 不超过 %[2]d（或温度为 0）时，页面算出的与采样器完全一致；否则它会忽略没有记录的 token，并会注明。"},
	"pg.code": {"the recorded top logits, recomputed in the page", "记录下来的最高 logits，在页面里重新计算"},
	"pg.none": {"This trace recorded no logits for its decode steps (a run without steps, or a trace written by an older gptviz), so there is no sampling playground for it.",
		"这份记录没有保存解码步骤的 logits（没有解码步骤的运行，或旧版 gptviz 写的记录），所以没有采样实验台。"},
	"pg.off": {"off", "关闭"},
}
