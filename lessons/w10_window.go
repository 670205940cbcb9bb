package lessons

import (
	"errors"
	"strings"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
)

// DialogueName is the name the first turn of lesson 10's dialogue gives,
// which its last turn asks for.
const DialogueName = "Isaac"

// dialoguePrompt is lesson 10's dialogue: user and assistant turns, one a
// line, ending with a question about the first turn.
const dialoguePrompt = "User: My name is " + DialogueName + ", and I study Light.\n" +
	"Assistant: Welcome, " + DialogueName + ".\n" +
	"User: What does a Prism do?\n" +
	"Assistant: A Prism refracts the Rays of Light and parts them into Colours.\n" +
	"User: Which Rays are refracted most?\n" +
	"Assistant: The violet Rays are the most refrangible.\n" +
	"User: And which least?\n" +
	"Assistant: The red Rays are the least refrangible.\n" +
	"User: What does a Lens do?\n" +
	"Assistant: A Lens gathers the Rays into a Focus.\n" +
	"User: What is my name?\n" +
	"Assistant:"

// controlPrompt is the control of lesson 10: the dialogue's first two
// turns and its question, short enough that the name stays in the window.
const controlPrompt = "User: My name is " + DialogueName + ", and I study Light.\n" +
	"Assistant: Welcome, " + DialogueName + ".\n" +
	"User: What is my name?\n" +
	"Assistant:"

// Lesson 10, when working memory is full: a dialogue longer than the
// context window, its turns evicted, a question about an evicted turn.
func init() {
	// Both runs score the name as the answer's continuation, so the page
	// can compare P(name) with and without the name in the window.
	registerRun(RunSpec{Name: "dialogue", Prompt: dialoguePrompt, Steps: 24, TopP: 1, Seed: 1, Continuation: " " + DialogueName})
	registerRun(RunSpec{Name: "dialogue-control", Prompt: controlPrompt, Steps: 24, TopP: 1, Seed: 1, Continuation: " " + DialogueName})
	dv := func(name string, f func(tr *trace.Trace, ts []turn) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			ts, err := turns(tr)
			if err != nil {
				return "", err
			}
			return f(tr, ts), nil
		})
	}
	dv("dlg-turns", func(tr *trace.Trace, ts []turn) string { return itoa(len(ts)) })
	dv("dlg-evicted", func(tr *trace.Trace, ts []turn) string { return itoa(len(tr.Evictions)) })
	dv("dlg-evicted-prompt", func(tr *trace.Trace, ts []turn) string { return itoa(evictedAt(tr, 0)) })
	dv("dlg-turns-gone", func(tr *trace.Trace, ts []turn) string {
		n := 0
		for _, t := range ts {
			if t.goneAt >= 0 {
				n++
			}
		}
		return itoa(n)
	})
	dv("dlg-window-start", func(tr *trace.Trace, ts []turn) string { return itoa(finalWindowStart(tr)) })
	dv("dlg-total", func(tr *trace.Trace, ts []turn) string { return itoa(len(tr.Tokens)) })
	dv("dlg-answer", func(tr *trace.Trace, ts []turn) string { return strings.TrimSpace(generatedText(tr)) })
	dv("dlg-name", func(tr *trace.Trace, ts []turn) string { return DialogueName })
	dv("dlg-first-read", func(tr *trace.Trace, ts []turn) string { return itoa(tr.Steps[0].WindowStart) })
	df := func(name string, f func(tr *trace.Trace, ts []turn) bool) {
		runFact(name, func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
			ts, err := turns(tr)
			if err != nil {
				return false, err
			}
			return f(tr, ts), nil
		})
	}
	// The first turn had left working memory before the model answered.
	df("dlg-first-gone", func(tr *trace.Trace, ts []turn) bool { return ts[0].goneAt == 0 })
	df("dlg-first-gone-later", func(tr *trace.Trace, ts []turn) bool { return ts[0].goneAt > 0 })
	df("dlg-prompt-overflows", func(tr *trace.Trace, ts []turn) bool { return evictedAt(tr, 0) > 0 })
	df("dlg-answer-has-name", func(tr *trace.Trace, ts []turn) bool { return strings.Contains(generatedText(tr), DialogueName) })
	df("dlg-block", func(tr *trace.Trace, ts []turn) bool { return tr.OverflowOf() == trace.OverflowBlock })
	// What the overflow policy did (findings.Overflow); every value is 0
	// and every fact false when nothing was evicted.
	ov := func(tr *trace.Trace) findings.WindowOverflow { w, _ := findings.Overflow(tr); return w }
	for name, f := range map[string]func(w findings.WindowOverflow) string{
		"dlg-evicted-decode": func(w findings.WindowOverflow) string { return itoa(w.Decoding) },
		"dlg-block-size":     func(w findings.WindowOverflow) string { return itoa(w.BlockSize) },
		"dlg-decode-blocks":  func(w findings.WindowOverflow) string { return itoa(w.DecodeBlocks) },
		"dlg-recomputed":     func(w findings.WindowOverflow) string { return itoa(w.Recomputed) },
		"dlg-final-cached":   func(w findings.WindowOverflow) string { return itoa(w.FinalCached) },
		"dlg-min-cached":     func(w findings.WindowOverflow) string { return itoa(w.MinCached) },
		"dlg-free":           func(w findings.WindowOverflow) string { return itoa(w.NPositions - w.FinalCached) },
		"dlg-kept":           func(w findings.WindowOverflow) string { return itoa(w.NPositions - w.BlockSize) },
		"dlg-first-evict-step": func(w findings.WindowOverflow) string {
			for _, b := range w.Blocks {
				if b.Step > 0 {
					return itoa(b.Step)
				}
			}
			return "0"
		},
	} {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) { return f(ov(tr)), nil })
	}
	for name, f := range map[string]func(w findings.WindowOverflow) bool{
		// Block eviction ran during generation.
		"dlg-block-evicted": func(w findings.WindowOverflow) bool { return w.Policy == trace.OverflowBlock && w.Decoding > 0 },
		// Sliding eviction ran during generation.
		"dlg-slide-evicted": func(w findings.WindowOverflow) bool { return w.Policy == trace.OverflowSlide && w.Decoding > 0 },
		// More than one decode step evicted.
		"dlg-several-blocks": func(w findings.WindowOverflow) bool { return w.DecodeBlocks > 1 },
		// The window ended with room to spare.
		"dlg-not-full": func(w findings.WindowOverflow) bool { return w.Total > 0 && w.FinalCached < w.NPositions },
	} {
		runFact(name, func(e *Env, a *Args, tr *trace.Trace) (bool, error) { return f(ov(tr)), nil })
	}
	// The control: P(name's first token) right after the question, with
	// and without the name in the window (findings.ContinuationLead).
	lead := func(e *Env, name string) (findings.Lead, bool, error) {
		r, err := e.Run(&Args{Named: map[string]string{"run": name}, used: map[string]bool{}})
		if err != nil {
			return findings.Lead{}, false, err
		}
		l, ok := findings.ContinuationLead(r.Trace)
		return l, ok, nil
	}
	leads := func(e *Env) (dlg, ctl findings.Lead, ok bool, err error) {
		dlg, ok1, err := lead(e, "dialogue")
		if err != nil {
			return dlg, ctl, false, err
		}
		ctl, ok2, err := lead(e, "dialogue-control")
		return dlg, ctl, ok1 && ok2, err
	}
	runValue("dlg-name-p", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		l, _ := findings.ContinuationLead(tr)
		return probText(l.Whole), nil
	})
	runValue("dlg-name-tokens", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		l, _ := findings.ContinuationLead(tr)
		return itoa(l.Tokens), nil
	})
	values["dlg-name-ratio"] = func(e *Env, a *Args) (string, error) {
		dlg, ctl, _, err := leads(e)
		if err != nil || dlg.Whole <= 0 {
			return "", err
		}
		return num(ctl.Whole/dlg.Whole, 3), nil
	}
	// Even with the name in view, its first token is not the model's top
	// choice after the question.
	facts["dlg-control-not-top"] = func(e *Env, a *Args) (bool, error) {
		_, ctl, ok, err := leads(e)
		return ok && ctl.TopKnown && !ctl.IsTop, err
	}
	// Both runs scored the name.
	facts["dlg-control"] = func(e *Env, a *Args) (bool, error) {
		_, _, ok, err := leads(e)
		return ok, err
	}
	// With the name in view the model finds it clearly more likely.
	facts["dlg-control-over"] = func(e *Env, a *Args) (bool, error) {
		dlg, ctl, ok, err := leads(e)
		return ok && ctl.Over(dlg), err
	}
	// The name was in view when the run scored its answer: a token that
	// spells part of it lies at or after the oldest position it saw.
	runFact("dlg-name-visible", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		l, ok := findings.ContinuationLead(tr)
		if !ok {
			return false, nil
		}
		for _, p := range namePositions(tr) {
			if p >= l.FirstSeen {
				return true, nil
			}
		}
		return false, nil
	})
	tables["dlg-control"] = controlTable
	tables["turns"] = turnsTable
	tables["dlg-answer"] = func(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
		var toks []string
		for _, t := range tr.Tokens[tr.PromptLen:] {
			toks = append(toks, tokenText(t))
		}
		return &output.Table{Header: []string{e.T("generated text", "生成的文本"), "tokens"}, Align: []string{"left", "left"},
			Rows: [][]string{{strings.TrimSpace(generatedText(tr)), strings.Join(toks, " ")}}}, nil
	}
}

// turn is one line of the dialogue: its text and the absolute positions
// of the tokens that hold it, from..to−1; the step at which its last token
// left the window (goneAt; −1: some of it is still in the window; 0:
// before the first step, the prompt being longer than the window), and
// the step at which its first token left (firstGone, −1 when none did).
type turn struct {
	text      string
	from, to  int
	goneAt    int
	firstGone int
	partly    bool // some tokens evicted, some not
	evicted   int  // how many of its tokens were evicted
}

// turns splits the prompt into lines and maps each to its tokens by their
// bytes. It errors when the tokens do not spell the prompt.
func turns(tr *trace.Trace) ([]turn, error) {
	var ends []int // byte offset after each prompt token
	off := 0
	for _, t := range tr.Tokens[:tr.PromptLen] {
		off += len(t.Text)
		ends = append(ends, off)
	}
	if off != len(tr.Prompt) {
		return nil, errors.New("the prompt's tokens do not spell the prompt")
	}
	gone := map[int]int{}
	for _, ev := range tr.Evictions {
		gone[ev.Position] = ev.Step
	}
	var out []turn
	start, tok := 0, 0
	for _, line := range strings.SplitAfter(tr.Prompt, "\n") {
		if line == "" {
			continue
		}
		end := start + len(line)
		t := turn{text: strings.TrimSpace(line), from: tok, goneAt: -1}
		for tok < len(ends) && ends[tok] <= end {
			tok++
		}
		if tok < len(ends) && ends[tok]-len(tr.Tokens[tok].Text) < end {
			tok++ // a token that straddles the line end belongs to this turn
		}
		t.to = max(tok, t.from+1)
		t.firstGone = -1
		for p := t.from; p < t.to; p++ {
			if s, ok := gone[p]; ok {
				if t.evicted == 0 || s < t.firstGone {
					t.firstGone = s
				}
				t.evicted++
				t.goneAt = max(t.goneAt, s)
			}
		}
		if t.evicted < t.to-t.from {
			t.partly, t.goneAt = t.evicted > 0, -1
		}
		out = append(out, t)
		start = end
	}
	if len(out) == 0 {
		return nil, errors.New("the prompt is empty")
	}
	return out, nil
}

// evictedAt counts the tokens evicted at step s.
func evictedAt(tr *trace.Trace, s int) int {
	n := 0
	for _, ev := range tr.Evictions {
		if ev.Step == s {
			n++
		}
	}
	return n
}

// finalWindowStart is the oldest position in the window after the run.
func finalWindowStart(tr *trace.Trace) int { return tr.Steps[len(tr.Steps)-1].WindowStart }

// generatedText is the text of the tokens the run generated.
func generatedText(tr *trace.Trace) string {
	var b strings.Builder
	for _, t := range tr.Tokens[tr.PromptLen:] {
		b.WriteString(t.Text)
	}
	return b.String()
}

// turnsTable lists the dialogue's turns and what became of them.
func turnsTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	ts, err := turns(tr)
	if err != nil {
		return nil, err
	}
	t := &output.Table{
		Caption: e.T("The dialogue's turns in working memory", "对话各轮在工作记忆中的去留"),
		Header:  []string{"#", e.T("turn", "这一轮"), e.T("positions", "位置"), e.T("at the end of the run", "运行结束时")},
		Align:   []string{"right", "left", "right", "left"},
	}
	for i, tn := range ts {
		t.Rows = append(t.Rows, []string{itoa(i + 1), tn.text, itoa(tn.from) + "–" + itoa(tn.to-1), turnStatus(e, tn)})
	}
	return t, nil
}

// turnStatus says what became of a turn: in the window, evicted before
// the first step (step 0) or at a decode step, split between two steps,
// or partly evicted (with how many of its tokens).
func turnStatus(e *Env, tn turn) string {
	when := func(s int) string {
		if s == 0 {
			return e.T("before the prefill (step 0)", "在预填充（第 0 步）之前")
		}
		return e.T("at step ", "在第 ") + itoa(s) + e.T("", " 步")
	}
	switch {
	case tn.goneAt >= 0 && tn.firstGone == tn.goneAt:
		return e.T("evicted ", "") + when(tn.goneAt) + e.T("", "被逐出")
	case tn.goneAt >= 0:
		return e.T("partly evicted ", "一部分") + when(tn.firstGone) + e.T(", the rest ", "被逐出，其余的") + when(tn.goneAt) + e.T("", "被逐出")
	case tn.partly:
		return itoa(tn.evicted) + e.T(" of ", " / ") + itoa(tn.to-tn.from) + e.T(" tokens evicted ", " 个 token ") + when(tn.firstGone) + e.T(", the rest in the window", "被逐出，其余仍在窗口中")
	}
	return e.T("in the window", "仍在窗口中")
}

// namePositions are the prompt positions whose tokens spell part of an
// occurrence of DialogueName.
func namePositions(tr *trace.Trace) []int {
	var spans [][2]int
	for off := 0; ; {
		i := strings.Index(tr.Prompt[off:], DialogueName)
		if i < 0 {
			break
		}
		spans = append(spans, [2]int{off + i, off + i + len(DialogueName)})
		off += i + len(DialogueName)
	}
	var out []int
	off := 0
	for p, t := range tr.Tokens[:tr.PromptLen] {
		end := off + len(t.Text)
		for _, sp := range spans {
			if off < sp[1] && end > sp[0] {
				out = append(out, p)
				break
			}
		}
		off = end
	}
	return out
}

// controlTable sets the dialogue beside its control: prompt tokens,
// whether the name was in view, P(the whole name) right after the
// question and its −ln in nats, P(its first token) and the model's own
// top choice there.
func controlTable(e *Env, a *Args, _ *trace.Trace) (*output.Table, error) {
	t := &output.Table{
		Caption: e.T("The same question with and without the name in the window", "同一个问题：名字在窗口内与不在窗口内"),
		Header: []string{e.T("run", "运行"), e.T("prompt, tokens", "提示词（token 数）"), e.T("name in view when answering", "回答时名字在视野内"),
			e.T("P(the whole name)", "P(整个名字)"), e.T("−ln P, nats", "−ln P（nat）"), e.T("P(its first token)", "P(它的第一个 token)"), e.T("model's top choice there", "模型在这里的首选")},
		Align: []string{"left", "right", "left", "right", "right", "right", "left"},
	}
	for _, name := range []string{"dialogue", "dialogue-control"} {
		r, err := e.Run(&Args{Named: map[string]string{"run": name}, used: map[string]bool{}})
		if err != nil {
			return nil, err
		}
		tr := r.Trace
		l, ok := findings.ContinuationLead(tr)
		if !ok {
			continue
		}
		seen := e.T("no", "否")
		for _, p := range namePositions(tr) {
			if p >= l.FirstSeen {
				seen = e.T("yes", "是")
				break
			}
		}
		top := ""
		for _, st := range tr.Steps {
			if nx := st.Next; nx != nil && nx.Position == tr.PromptLen-1 && len(nx.Top) > 0 {
				top = nx.Top[0].Display + " (" + probText(nx.Top[0].Prob) + ")"
				break
			}
		}
		label := e.T("the long dialogue", "长对话")
		if name == "dialogue-control" {
			label = e.T("control: the short dialogue", "对照：短对话")
		}
		t.Rows = append(t.Rows, []string{label, itoa(tr.PromptLen), seen, probText(l.Whole), num(l.WholeNats, 3), probText(l.Prob), top})
	}
	return t, nil
}
