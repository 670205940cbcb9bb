package lessons

import (
	"errors"
	"strings"

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

// Lesson 10, when working memory is full: a dialogue longer than the
// context window, its turns evicted, a question about an evicted turn.
func init() {
	registerRun(RunSpec{Name: "dialogue", Prompt: dialoguePrompt, Steps: 24, TopP: 1, Seed: 1})
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
// of the tokens that hold it, from..to−1, and the step at which its last
// token left the window (−1: some of it is still in the window; 0: before
// the first step, the prompt being longer than the window).
type turn struct {
	text     string
	from, to int
	goneAt   int
	partly   bool // some tokens evicted, some not
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
		n := 0
		for p := t.from; p < t.to; p++ {
			if s, ok := gone[p]; ok {
				n++
				t.goneAt = max(t.goneAt, s)
			}
		}
		if n < t.to-t.from {
			t.partly, t.goneAt = n > 0, -1
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
		status := e.T("in the window", "仍在窗口中")
		switch {
		case tn.goneAt == 0:
			status = e.T("evicted before the first step", "第一步之前就被逐出")
		case tn.goneAt > 0:
			status = e.T("evicted at step ", "在第 ") + itoa(tn.goneAt) + e.T("", " 步被逐出")
		case tn.partly:
			status = e.T("partly evicted", "部分被逐出")
		}
		t.Rows = append(t.Rows, []string{itoa(i + 1), tn.text, itoa(tn.from) + "–" + itoa(tn.to-1), status})
	}
	return t, nil
}
