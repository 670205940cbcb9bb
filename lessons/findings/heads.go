package findings

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gptviz/gptviz/model/trace"
)

// Role is a known way an attention head reads working memory.
type Role uint8

// The roles HeadRoles finds.
const (
	// PreviousToken: the head reads the token just before the query
	// (position i−1).
	PreviousToken Role = iota + 1
	// FirstToken: the head parks its attention on the oldest token in the
	// context window (an "attention sink"; Xiao et al. 2023, "Efficient
	// Streaming Language Models with Attention Sinks").
	FirstToken
	// SelfToken: the head reads the query's own token.
	SelfToken
	// Induction: inside a repeated sequence, the head reads the token that
	// followed the earlier copy of the current token, i.e. it predicts that
	// the sequence repeats (Olsson et al. 2022, "In-context Learning and
	// Induction Heads").
	Induction
)

var roleNames = [...]string{PreviousToken: "previous-token", FirstToken: "first-token", SelfToken: "self", Induction: "induction"}

// Roles lists every Role in order.
var Roles = []Role{PreviousToken, FirstToken, SelfToken, Induction}

// String returns the role's name: "previous-token", "first-token", "self"
// or "induction"; "Role(N)" for an invalid one.
func (r Role) String() string {
	if r >= PreviousToken && r <= Induction {
		return roleNames[r]
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Threshold is the score from which a head plays role r: InductionThreshold
// for Induction, RoleThreshold for the others.
func (r Role) Threshold() float64 {
	if r == Induction {
		return InductionThreshold
	}
	return RoleThreshold
}

// Distance is how far back one head reads, over the query rows of the run
// that see at least MinKeys keys (block-averaged rows included, with each
// block's attention placed at its middle key).
type Distance struct {
	Rows int // query rows counted
	// Beyond is the mean share of attention on keys more than NearDistance
	// tokens back (beyond the query, the previous token and the one before
	// it), 0..1.
	Beyond float64
	// Mean is the mean distance read, Σ_k p_k·(q−k), tokens.
	Mean float64
	// Farthest is how far back the head reads at its farthest, tokens: the
	// largest d over the rows such that keys d or more tokens back hold at
	// least ReadThreshold of the row's attention (the row's upper
	// ReadThreshold quantile of distance); 0 when every row keeps more than
	// 1 − ReadThreshold on the query itself.
	Farthest int
}

// HeadStats are one head's attention scores over every recorded query row
// of the run (the prefill's rows and each decode step's new row).
type HeadStats struct {
	Layer, Head int
	// Rows is how many rows the role scores average: rows recorded in full
	// (not block-averaged) that see at least MinKeys keys.
	Rows int
	// Previous, First and Self are the mean shares of attention on the
	// previous token, the oldest token in the window and the query's own
	// token, 0..1.
	Previous, First, Self float64
	// Baseline is the share a head that spread its attention evenly would
	// give one key, averaged over the same rows: mean of 1/keys.
	Baseline float64
	// InductionRows counts the rows inside a repeated sequence: query
	// tokens whose bigram (the token before and the token itself) occurred
	// earlier in the window, with the token after that earlier copy at
	// least 2 positions back. Induction is the mean share of attention on
	// those tokens after the earlier copies, 0..1, and InductionBaseline
	// the share an even spread would give them. All 0 when the run repeats
	// no bigram.
	InductionRows     int
	Induction         float64
	InductionBaseline float64
	// Distance is how far back the head reads.
	Distance Distance
}

// Score returns the head's score for role r and the rows it averages.
func (s HeadStats) Score(r Role) (score float64, rows int) {
	switch r {
	case PreviousToken:
		return s.Previous, s.Rows
	case FirstToken:
		return s.First, s.Rows
	case SelfToken:
		return s.Self, s.Rows
	case Induction:
		return s.Induction, s.InductionRows
	}
	return 0, 0
}

// role returns the HeadRole of s for r, holding or not.
func (s HeadStats) role(r Role) HeadRole {
	score, rows := s.Score(r)
	base := s.Baseline
	if r == Induction {
		base = s.InductionBaseline
	}
	return HeadRole{Layer: s.Layer, Head: s.Head, Role: r, Score: score, Rows: rows, Baseline: base}
}

// HeadRole is a head that plays a role: its Score reached the role's
// Threshold over at least MinRows rows.
type HeadRole struct {
	Layer, Head int
	Role        Role
	Score       float64 // mean share of attention on the role's key(s), 0..1
	Rows        int     // rows averaged
	Baseline    float64 // the share an even spread of attention would give, 0..1
}

// Holds reports whether the role's score decides it: at least MinRows
// rows and Score ≥ Role.Threshold().
func (h HeadRole) Holds() bool { return h.Rows >= MinRows && h.Score >= h.Role.Threshold() }

// Roles returns the roles s plays (see HeadRole.Holds), in Roles order.
func (s HeadStats) Roles() []HeadRole {
	var out []HeadRole
	for _, r := range Roles {
		if h := s.role(r); h.Holds() {
			out = append(out, h)
		}
	}
	return out
}

// Heads returns the attention statistics of every head, layer by layer
// ([n_layer × n_head], layer-major), from the attention the trace
// recorded; nil when it recorded none. Rows the trace does not hold in
// full shape (too short for their query) are skipped.
func Heads(tr *trace.Trace) []HeadStats {
	cfg := tr.Model.Config
	acc := make([]headAcc, max(cfg.NLayer, 0)*max(cfg.NHead, 0))
	seen := false
	for si := range tr.Steps {
		st := &tr.Steps[si]
		for l, la := range st.Attention {
			if l >= cfg.NLayer {
				break
			}
			for h, rows := range la.Probs {
				if h >= cfg.NHead {
					break
				}
				for q, row := range rows {
					r := attnRow{st: st, q: q, row: row, stride: la.KeyStride, summarised: la.Summarised && la.KeyStride > 1}
					if acc[l*cfg.NHead+h].add(tr, r) {
						seen = true
					}
				}
			}
		}
	}
	if !seen {
		return nil
	}
	out := make([]HeadStats, len(acc))
	for i := range acc {
		out[i] = acc[i].stats(i/cfg.NHead, i%cfg.NHead)
	}
	return out
}

// HeadRoles returns every role a head plays in the run (HeadRole.Holds),
// ordered by role (Roles order), then by score, highest first.
func HeadRoles(tr *trace.Trace) []HeadRole {
	var out []HeadRole
	for _, s := range Heads(tr) {
		out = append(out, s.Roles()...)
	}
	slices.SortStableFunc(out, func(a, b HeadRole) int {
		if a.Role != b.Role {
			return cmp.Compare(a.Role, b.Role)
		}
		return cmp.Compare(b.Score, a.Score)
	})
	return out
}

// Strongest returns the highest-scoring head for the fixed-key roles
// (PreviousToken, FirstToken, SelfToken) among stats with at least MinRows
// rows, whether or not it reaches the threshold: what a page can say when
// no head plays a role. ok is false when no head has MinRows rows.
func Strongest(stats []HeadStats) (best HeadRole, ok bool) {
	for _, s := range stats {
		for _, r := range []Role{PreviousToken, FirstToken, SelfToken} {
			h := s.role(r)
			if h.Rows >= MinRows && (!ok || h.Score > best.Score) {
				best, ok = h, true
			}
		}
	}
	return best, ok
}

// FarthestReader returns the head with the largest mean distance read
// (Distance.Mean); ok is false when no head counted a row.
func FarthestReader(stats []HeadStats) (best HeadStats, ok bool) {
	for _, s := range stats {
		if s.Distance.Rows > 0 && (!ok || s.Distance.Mean > best.Distance.Mean) {
			best, ok = s, true
		}
	}
	return best, ok
}

// MeanBeyond is the mean of Distance.Beyond over the heads that counted a
// row: the share of attention, head by head, that goes beyond the
// previous NearDistance tokens. ok is false when none counted a row.
func MeanBeyond(stats []HeadStats) (share float64, ok bool) {
	n := 0
	for _, s := range stats {
		if s.Distance.Rows > 0 {
			share += s.Distance.Beyond
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return share / float64(n), true
}

// attnRow is one recorded attention row: row q of step st.
type attnRow struct {
	st         *trace.Step
	q          int
	row        []float32
	stride     int
	summarised bool
}

// headAcc sums one head's scores over rows.
type headAcc struct {
	rows                   int
	prev, first, self, uni float64
	indRows                int
	ind, indUni            float64
	distRows               int
	beyond, mean           float64
	far                    int
}

// add counts row r; it reports whether the row was counted.
func (a *headAcc) add(tr *trace.Trace, r attnRow) bool {
	qk := r.st.QueryStart + r.q - r.st.WindowStart // the query's key index
	keys := qk + 1
	if qk < 0 || keys < MinKeys {
		return false
	}
	if r.summarised {
		return a.addBlocks(r, qk)
	}
	if len(r.row) < keys {
		return false
	}
	row := r.row[:keys]
	a.rows++
	a.prev += float64(row[qk-1])
	a.first += float64(row[0])
	a.self += float64(row[qk])
	a.uni += 1 / float64(keys)
	a.distRows++
	far, tail := 0, 0.0
	for k, p := range row { // farthest key first
		d := qk - k
		a.mean += float64(p) * float64(d)
		if d > NearDistance {
			a.beyond += float64(p)
		}
		if tail += float64(p); tail >= ReadThreshold && far == 0 {
			far = d
		}
	}
	a.far = max(a.far, far)
	if targets := inductionTargets(tr, r.st.WindowStart, r.st.QueryStart+r.q); len(targets) > 0 {
		a.indRows++
		for _, t := range targets {
			a.ind += float64(row[t-r.st.WindowStart])
		}
		a.indUni += float64(len(targets)) / float64(keys)
	}
	return true
}

// addBlocks counts a block-averaged row for the distances only: each
// block's attention sits at its middle visible key.
func (a *headAcc) addBlocks(r attnRow, qk int) bool {
	nk := r.st.QueryStart + r.st.NQuery - r.st.WindowStart // keys of the step's longest row
	far, tail := 0, 0.0
	counted := false
	for c, p := range r.row { // farthest block first
		lo, hi := c*r.stride, min((c+1)*r.stride, nk)
		hiV := min(hi, qk+1)
		if lo > qk || hi <= lo {
			break
		}
		counted = true
		mass := float64(p) * float64(hi-lo)
		mid := qk - (lo+hiV-1)/2
		a.mean += mass * float64(mid)
		if n := min(hiV, qk-NearDistance) - lo; n > 0 {
			a.beyond += float64(p) * float64(n)
		}
		if tail += mass; tail >= ReadThreshold && far == 0 {
			far = mid
		}
	}
	if counted {
		a.distRows++
		a.far = max(a.far, far)
	}
	return counted
}

// inductionTargets returns the positions an induction head would read
// from query position j in a window starting at ws: i+1 for every earlier
// i ≥ ws with tokens[i−1..i] = tokens[j−1..j] and i+1 ≤ j−2.
func inductionTargets(tr *trace.Trace, ws, j int) []int {
	if j < 1 || j >= len(tr.Tokens) {
		return nil
	}
	cur, prev := tr.Tokens[j].ID, tr.Tokens[j-1].ID
	var out []int
	for i := max(ws, 1); i+1 <= j-2; i++ {
		if tr.Tokens[i].ID == cur && tr.Tokens[i-1].ID == prev {
			out = append(out, i+1)
		}
	}
	return out
}

// stats turns the sums into means.
func (a *headAcc) stats(layer, head int) HeadStats {
	s := HeadStats{Layer: layer, Head: head, Rows: a.rows, InductionRows: a.indRows}
	if a.rows > 0 {
		n := float64(a.rows)
		s.Previous, s.First, s.Self, s.Baseline = a.prev/n, a.first/n, a.self/n, a.uni/n
	}
	if a.indRows > 0 {
		n := float64(a.indRows)
		s.Induction, s.InductionBaseline = a.ind/n, a.indUni/n
	}
	if a.distRows > 0 {
		n := float64(a.distRows)
		s.Distance = Distance{Rows: a.distRows, Beyond: a.beyond / n, Mean: a.mean / n, Farthest: a.far}
	}
	return s
}
