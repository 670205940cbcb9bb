package viz

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/gptviz/gptviz/model/trace"
)

// Playground is the data of a sampling playground: the recorded top logits
// of every decode step, which the page's own script (output's
// assets/playground.js, plain JavaScript) turns back into next-token
// distributions for whatever temperature, top-k and top-p the reader sets
// with sliders. Put it into a page with an output.Playground cell.
type Playground struct {
	// ID is "sampling-playground" unless the caller renames it (IDs of a
	// page must be unique).
	ID string
	// Title is a short plain-text caption.
	Title string
	// Data is the JSON object playground.js reads (format in
	// PlaygroundData): pure data, strings HTML-escaped by encoding/json.
	Data json.RawMessage
	// Steps is the number of decode steps it holds (those whose logits
	// were recorded), ≥ 1.
	Steps int
	// N is the fewest logits recorded at any of those steps, Vocab the
	// model's vocabulary size; Exact says every step recorded the whole
	// vocabulary (N == Vocab), so every setting is recomputed exactly.
	// Otherwise the page is exact wherever top-k is on with K ≤ N (and for
	// greedy decoding), and elsewhere ignores the unrecorded tail, which it
	// says.
	N, Vocab int
	Exact    bool
	// Notes say in plain words what the playground cannot show (steps
	// without recorded logits). Empty when nothing was left out.
	Notes []string
}

// PlaygroundData is the JSON format of Playground.Data, version 1, which
// output/assets/playground.js reads. Token text is display text (␣ for a
// leading space), never markup: the script only ever sets it as text.
type PlaygroundData struct {
	Version int `json:"v"` // 1
	Vocab   int `json:"vocab"`
	// Run is the run's own sampling settings: where the sliders start and
	// what "the run's settings" resets them to.
	Run PlaygroundSettings `json:"run"`
	// TokensFrom is the absolute position of Tokens[0]; Tokens are the
	// display forms of the run's tokens from there on (the context shown
	// before each step's sampled token).
	TokensFrom int      `json:"tokens_from"`
	Tokens     []string `json:"tokens"`
	// Labels maps a token id (decimal) to its display form, for every id
	// the trace names (candidates, chosen tokens, the run's tokens); a
	// recorded logit whose id has no label is shown as "#id".
	Labels map[string]string `json:"labels"`
	Steps  []PlaygroundStep  `json:"steps"`
	// Words are the page's words in its language; {0}, {1} … are filled in
	// by the script.
	Words map[string]string `json:"words"`
}

// PlaygroundSettings are sampling settings as the sliders hold them:
// Temperature 0 is greedy, TopK 0 and TopP 1 are off (model.SamplingParams).
type PlaygroundSettings struct {
	Temperature float64 `json:"temperature"`
	TopK        int     `json:"top_k"`
	TopP        float64 `json:"top_p"`
}

// PlaygroundStep is one decode step: its recorded logits (trace.TopLogits,
// highest first, ties by id: the sampler's order) and what the run sampled.
type PlaygroundStep struct {
	Step     int   `json:"step"`     // Step.Index, ≥ 1
	Position int   `json:"position"` // absolute position whose logits these are; the sampled token goes to Position+1
	IDs      []int `json:"ids"`
	// Logits are float32 values written in their shortest form: the script
	// rounds each with Math.fround to get the very float32 the Go sampler
	// saw.
	Logits    []float32 `json:"logits"`
	LogSumExp float64   `json:"lse"` // over the whole vocabulary, so exp(logit − lse) is the raw probability
	Chosen    int       `json:"chosen"`
	Greedy    bool      `json:"greedy"`
}

// PlaygroundID is the default ID of SamplingPlayground's playground.
const PlaygroundID = "sampling-playground"

// SamplingPlayground builds the sampling playground of a run: every decode
// step whose top logits the trace recorded (trace.Prediction.Logits), the
// run's settings, the labels of the tokens it names and the page's words
// in the chosen language. Errors wrap ErrNoData when no decode step
// recorded its logits (traces written before they were, or runs with no
// steps) and ErrInvalid when a step's logits do not fit the vocabulary.
func SamplingPlayground(tr *trace.Trace, options ...Option) (*Playground, error) {
	lc := settingsOf(options)
	vocab := tr.Model.Config.VocabSize
	d := PlaygroundData{
		Version: 1, Vocab: vocab,
		Run:    PlaygroundSettings{Temperature: tr.Settings.Temperature, TopK: tr.Settings.TopK, TopP: tr.Settings.TopP},
		Labels: map[string]string{},
		Words:  map[string]string{},
	}
	if d.Run.TopP <= 0 || d.Run.TopP > 1 || math.IsNaN(d.Run.TopP) {
		d.Run.TopP = 1
	}
	if !(d.Run.Temperature >= 0) || math.IsInf(d.Run.Temperature, 0) {
		d.Run.Temperature = 1
	}
	d.Run.TopK = max(d.Run.TopK, 0)
	label := func(id int, disp, text string) {
		if _, ok := d.Labels[strconv.Itoa(id)]; !ok && (disp != "" || text != "") {
			d.Labels[strconv.Itoa(id)] = display(disp, text, id)
		}
	}
	pg := &Playground{ID: PlaygroundID, Title: lc.t("pg.title"), Vocab: vocab, Exact: true}
	missing := 0
	for _, st := range tr.Steps {
		p := st.Next
		if !st.Kind.Generates() || p == nil {
			continue
		}
		tl := p.Logits
		if tl == nil || len(tl.IDs) == 0 {
			missing++
			continue
		}
		if len(tl.Values) != len(tl.IDs) || len(tl.IDs) > vocab {
			return nil, fmt.Errorf("sampling playground: step %d: %d logits for %d ids, vocabulary %d: %w", st.Index, len(tl.Values), len(tl.IDs), vocab, ErrInvalid)
		}
		for _, c := range p.Top {
			label(c.ID, c.Display, c.Text)
		}
		label(p.Chosen.ID, p.Chosen.Display, p.Chosen.Text)
		d.Steps = append(d.Steps, PlaygroundStep{
			Step: st.Index, Position: p.Position, IDs: tl.IDs, Logits: tl.Values,
			LogSumExp: tl.LogSumExp, Chosen: p.Chosen.ID, Greedy: p.Greedy,
		})
		if pg.N == 0 || len(tl.IDs) < pg.N {
			pg.N = len(tl.IDs)
		}
		if len(tl.IDs) < vocab {
			pg.Exact = false
		}
	}
	if len(d.Steps) == 0 {
		return nil, fmt.Errorf("sampling playground: no decode step recorded its logits: %w", ErrNoData)
	}
	if missing > 0 {
		pg.Notes = append(pg.Notes, lc.t("pg.missing", missing))
	}
	// The context: a few tokens before the first step's position, and
	// everything after it.
	from := max(0, min(d.Steps[0].Position-playgroundContext+1, len(tr.Tokens)))
	d.TokensFrom = from
	for i := from; i < len(tr.Tokens); i++ {
		t := tr.Tokens[i]
		d.Tokens = append(d.Tokens, display(t.Display, t.Text, t.ID))
		label(t.ID, t.Display, t.Text)
	}
	for k := range playgroundWords {
		d.Words[k] = lc.t(k)
	}
	pg.Steps = len(d.Steps)
	data, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("sampling playground: %w", err)
	}
	pg.Data = data
	return pg, nil
}

// playgroundContext is how many tokens before a step's sampled token the
// playground shows.
const playgroundContext = 12

// playgroundWords are the phrases keys the page's script uses (Words);
// their texts are in phrases.
var playgroundWords = map[string]bool{
	"pg.step": true, "pg.temperature": true, "pg.topk": true, "pg.topp": true, "pg.greedy": true, "pg.off": true,
	"pg.reset": true, "pg.token": true, "pg.raw": true, "pg.aftert": true, "pg.afterk": true, "pg.afterp": true,
	"pg.removedk": true, "pg.removedp": true, "pg.removedg": true, "pg.sampled": true, "pg.others": true,
	"pg.tail": true, "pg.ignored": true, "pg.survive": true, "pg.entropy": true, "pg.mass": true,
	"pg.exact": true, "pg.approx": true, "pg.full": true, "pg.context": true, "pg.notrerun": true,
	"pg.outside": true, "pg.rank": true, "pg.pipeline": true, "pg.recorded": true, "pg.held": true,
}
