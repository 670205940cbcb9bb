package lessons

import (
	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/trace"
)

// Measure is what a run records beyond gptviz report's trace, for lessons
// 4, 6 and 7 (the optional fields of model/trace/lessonext.go). The CLI
// reads it with RunSpec.Measure and asks the engine for each.
type Measure struct {
	// Baselines: score the prompt with n-gram models (Trace.Baselines).
	Baselines bool
	// Inspect: direct logit attribution of the prompt's next token
	// (Trace.Attribution) and one head drilled down (Trace.Drill) at the
	// head and query DrillTarget picks.
	Inspect bool
	// CacheSteps: decode this many greedy steps with and without the KV
	// cache, timed (Trace.CacheCost); 0 for none.
	CacheSteps int
	// Training: the prompt run again on each shipped snapshot of gptviz's
	// default model, whatever model the reader chose, with its loss curve
	// (Trace.Training).
	Training bool
}

// measures are the registered runs' extra measurements, by run name.
var measures = map[string]Measure{}

// registerMeasured registers s with the measurements m.
func registerMeasured(s RunSpec, m Measure) {
	registerRun(s)
	measures[s.Name] = m
}

// Measure returns what the run records beyond a report's trace (zero for
// most runs).
func (s RunSpec) Measure() Measure { return measures[s.Name] }

// DrillTarget picks the head and query that lesson 6 drills down, from a
// run's recorded attention: the strongest previous-token head of the run
// (the head of the highest previous-token score when none reaches the
// threshold; layer 0, head 0 without attention), queried DrillBack
// positions before the end of the prompt (so that the causal mask hides
// the tokens after it), or at its first token for a shorter prompt.
func DrillTarget(tr *trace.Trace) (layer, head, query int) {
	query = max(tr.PromptLen-1-DrillBack, tr.Steps[0].WindowStart)
	best, ok := drillHead(tr)
	if !ok {
		return 0, 0, query
	}
	return best.Layer, best.Head, query
}

// DrillBack is how many prompt tokens come after the drilled query.
const DrillBack = 2

// drillHead is the head with the highest previous-token score.
func drillHead(tr *trace.Trace) (findings.HeadStats, bool) {
	stats := findings.Heads(tr)
	if len(stats) == 0 {
		return findings.HeadStats{}, false
	}
	best := stats[0]
	for _, s := range stats[1:] {
		if s.Previous > best.Previous {
			best = s
		}
	}
	return best, true
}

// The runs of lessons 4, 6, 7, 10 and 11.
func init() {
	// Lesson 4: the transformer against n-gram models on a sentence of
	// the default model's own text.
	registerMeasured(RunSpec{Name: "markov", Prompt: "When the Rays of Light fall upon the Prism, they are refracted, and the Rays which are most refrangible are refracted most.", TopP: 1, Seed: 1}, Measure{Baselines: true})
	// Lesson 4: a token far back changes the prediction. The two prompts
	// end in the same tokens; only an early "(" or "," differs.
	// Both score ")" as the next text, so the lesson can show whether the
	// "(" far back raised it.
	registerRun(RunSpec{Name: "far-paren", Prompt: "The Rays (which are refracted by the Prism and the Lens", Steps: 1, TopP: 1, Seed: 1, Continuation: ")"})
	registerRun(RunSpec{Name: "far-comma", Prompt: "The Rays, which are refracted by the Prism and the Lens", Steps: 1, TopP: 1, Seed: 1, Continuation: ")"})
	// Lesson 6: attention drilled down, heads' roles, direct logit
	// attribution; and a repeated random sequence for induction heads.
	registerMeasured(RunSpec{Name: "drill", Prompt: "The Rays of Light which fall upon the Prism are refracted", Steps: 1, TopP: 1, Seed: 1}, Measure{Inspect: true})
	registerRun(RunSpec{Name: "repeat", Prompt: "Prism green ninth water Glass Sun odd Line space red. Prism green ninth water Glass Sun odd Line space red.", Steps: 0, TopP: 1, Seed: 1})
	// Lesson 7: the KV cache, measured.
	// Lesson 11: how training builds working memory.
	registerMeasured(RunSpec{Name: "training", Prompt: "The Rays of Light are refracted by the Prism, and the Rays of Light are", Steps: 1, TopP: 1, Seed: 1}, Measure{Training: true})
	registerMeasured(RunSpec{Name: "cache", Prompt: "The Rays of Light are", Steps: 24, TopP: 1, Seed: 1}, Measure{CacheSteps: 48})
}
