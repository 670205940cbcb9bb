package lessons

import (
	"errors"
	"fmt"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
)

// Lesson 9, the generation loop: the blog's loop and its three mistakes
// against the run's evidence, a correct loop, and the sampling filters.
func init() {
	runValue("prompt-last-pos", func(e *Env, a *Args, tr *trace.Trace) (string, error) { return itoa(tr.PromptLen - 1), nil })
	runValue("prompt-earlier", func(e *Env, a *Args, tr *trace.Trace) (string, error) { return itoa(tr.PromptLen - 1), nil })
	// Earlier prompt positions whose top guess was the prompt's own next
	// token: sampling there mostly hands back text we already have.
	runValue("prompt-top-hits", func(e *Env, a *Args, tr *trace.Trace) (string, error) { return itoa(promptTopHits(tr)), nil })
	runFact("prompt-top-hits", func(e *Env, a *Args, tr *trace.Trace) (bool, error) { return promptTopHits(tr) > 0, nil })
	runValue("distinct-generated", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		seen := map[int]bool{}
		for _, t := range tr.Tokens[tr.PromptLen:] {
			seen[t.ID] = true
		}
		return itoa(len(seen)), nil
	})
	step := func(name string, f func(p *trace.Prediction, a *Args) (string, error)) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			p, err := prediction(a, tr)
			if err != nil {
				return "", err
			}
			return f(p, a)
		})
	}
	step("chosen", func(p *trace.Prediction, _ *Args) (string, error) { return p.Chosen.Display, nil })
	step("chosen-prob", func(p *trace.Prediction, _ *Args) (string, error) { return num(p.Chosen.Prob, 3), nil })
	step("chosen-sample-prob", func(p *trace.Prediction, _ *Args) (string, error) { return num(p.Chosen.SampleProb, 3), nil })
	step("entropy", func(p *trace.Prediction, _ *Args) (string, error) { return num(p.Entropy, 3), nil })
	step("filter-kept", func(p *trace.Prediction, a *Args) (string, error) {
		f, err := filter(p, a)
		if err != nil {
			return "", err
		}
		return thousands(int64(f.Kept)), nil
	})
	step("filter-mass", func(p *trace.Prediction, a *Args) (string, error) {
		f, err := filter(p, a)
		if err != nil {
			return "", err
		}
		return num(f.Mass, 3), nil
	})
	// The entropies of the run's predictions: lowest and highest.
	runValue("entropy-min", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		lo, _ := entropyRange(tr)
		return num(lo, 3), nil
	})
	runValue("entropy-max", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		_, hi := entropyRange(tr)
		return num(hi, 3), nil
	})
	// top-p removed tokens that top-k had kept, at step= (default 1).
	runFact("top-p-cut", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		p, err := prediction(a, tr)
		if err != nil {
			return false, err
		}
		k, err1 := findFilter(p, "top-k")
		q, err2 := findFilter(p, "top-p")
		if err1 != nil || err2 != nil {
			return false, nil
		}
		return q.Kept < k.Kept, nil
	})
	tables["sampling-steps"] = samplingTable

	// The first decode step whose chosen token the filters left with less
	// probability than the raw distribution gave it.
	fall := func(name string, f func(tr *trace.Trace, st trace.Step) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			st, ok := chosenFell(tr)
			if !ok {
				return "", errors.New("no step's chosen token lost probability to the filters")
			}
			return f(tr, st), nil
		})
	}
	fall("fall-step", func(tr *trace.Trace, st trace.Step) string { return itoa(st.Index) })
	fall("fall-token", func(tr *trace.Trace, st trace.Step) string { return st.Next.Chosen.Display })
	fall("fall-raw", func(tr *trace.Trace, st trace.Step) string { return num(st.Next.Chosen.Prob, 3) })
	fall("fall-after", func(tr *trace.Trace, st trace.Step) string { return num(st.Next.Chosen.SampleProb, 3) })
	runValue("temperature", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return num(tr.Settings.Temperature, 3), nil
	})
	runFact("chosen-fell", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		_, ok := chosenFell(tr)
		return ok, nil
	})
	runFact("sharpens", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		return tr.Settings.Temperature > 0 && tr.Settings.Temperature < 1, nil
	})
	runFact("flattens", func(e *Env, a *Args, tr *trace.Trace) (bool, error) { return tr.Settings.Temperature > 1, nil })
}

// chosenFell finds the first sampled decode step whose chosen token has a
// lower probability after temperature and the filters (SampleProb) than
// under the raw distribution (Prob).
func chosenFell(tr *trace.Trace) (trace.Step, bool) {
	for _, st := range tr.Steps {
		if p := st.Next; p != nil && !p.Greedy && p.Chosen.SampleProb < p.Chosen.Prob {
			return st, true
		}
	}
	return trace.Step{}, false
}

// promptTopHits counts the prompt positions after the first whose top
// candidate was the prompt's actual token there.
func promptTopHits(tr *trace.Trace) int {
	n := 0
	for _, s := range tr.Scores {
		if !s.NoContext && len(s.Top) > 0 && s.Top[0].ID == s.ID {
			n++
		}
	}
	return n
}

// prediction returns the prediction of decode step step= (default 1).
func prediction(a *Args, tr *trace.Trace) (*trace.Prediction, error) {
	i, err := a.Int("step", 1)
	if err != nil {
		return nil, err
	}
	if i < 1 || i >= len(tr.Steps) || tr.Steps[i].Next == nil {
		return nil, fmt.Errorf("step=%d: the run has decode steps 1..%d", i, len(tr.Steps)-1)
	}
	return tr.Steps[i].Next, nil
}

// filter returns the filter named by filter= of p.
func filter(p *trace.Prediction, a *Args) (trace.FilterResult, error) {
	return findFilter(p, a.String("filter", ""))
}

func findFilter(p *trace.Prediction, name string) (trace.FilterResult, error) {
	var names []string
	for _, f := range p.Filters {
		if f.Name == name {
			return f, nil
		}
		names = append(names, f.Name)
	}
	return trace.FilterResult{}, fmt.Errorf("filter=%q: the step recorded %v", name, names)
}

// entropyRange is the lowest and highest entropy of the run's
// predictions, in bits.
func entropyRange(tr *trace.Trace) (lo, hi float64) {
	first := true
	for _, st := range tr.Steps {
		if st.Next == nil {
			continue
		}
		if first || st.Next.Entropy < lo {
			lo = st.Next.Entropy
		}
		if first || st.Next.Entropy > hi {
			hi = st.Next.Entropy
		}
		first = false
	}
	return lo, hi
}

// samplingTable lists each decode step: the chosen token, how many
// tokens each filter kept and the mass they held, and the chosen token's
// probability before (raw softmax) and after the filters and
// renormalisation.
func samplingTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	t := &output.Table{
		Caption: e.T("What the filters kept at each step", "每一步各个过滤器留下了什么"),
		Header: []string{e.T("step", "步"), e.T("chosen", "选中的 token"), e.T("after temperature", "温度之后"),
			e.T("after top-k", "top-k 之后"), e.T("after top-p", "top-p 之后"), e.T("mass kept", "保留的概率质量"),
			e.T("P(chosen), raw", "P（选中），原始"), e.T("P(chosen), sampled from", "P（选中），实际采样")},
		Align: []string{"right", "left", "right", "right", "right", "right", "right", "right"},
	}
	for _, st := range tr.Steps {
		p := st.Next
		if p == nil {
			continue
		}
		kept := map[string]trace.FilterResult{}
		for _, f := range p.Filters {
			kept[f.Name] = f
		}
		cell := func(name string) string {
			if f, ok := kept[name]; ok {
				return thousands(int64(f.Kept))
			}
			return "–"
		}
		last := "–"
		if n := len(p.Filters); n > 0 {
			last = num(p.Filters[n-1].Mass, 3)
		}
		t.Rows = append(t.Rows, []string{itoa(st.Index), p.Chosen.Display, cell("temperature"), cell("top-k"), cell("top-p"),
			last, num(p.Chosen.Prob, 3), num(p.Chosen.SampleProb, 3)})
	}
	if len(t.Rows) == 0 {
		return nil, errors.New("the run has no decode steps")
	}
	t.Folded = len(t.Rows) > 24
	return t, nil
}
