// Package findings turns a recorded run (a trace.Trace) into facts a page
// may state about it: which attention heads play a known role, how far
// back each head reads, where the logit lens settles, the most surprising
// prompt token and the prompt's perplexity, whether the prompt is unlike
// the model's training text, whether the KV cache's window slid, and the
// run's sanity checks.
//
// Every fact is a small struct that carries the number or numbers that
// decided it, and a function returns it only when it holds (ok false, or
// an empty slice, otherwise), so that a page says a sentence only when the
// run bears it out. The thresholds are the exported constants below; each
// fact's documentation says which it uses.
//
// The package reads only the Trace contract (model/trace, model/arch): it
// knows no text and no charts, and never panics on a trace that passes
// trace.Trace.Validate. Attention positions are absolute (as in a Trace);
// layers and heads are 0-based; "layer l" of the logit lens is the
// residual stream after block l.
package findings

// Thresholds of the head roles (HeadStats, HeadRoles).
const (
	// RoleThreshold is the mean share of a head's attention on one fixed
	// key (the previous token, the first token of the window, the query's
	// own token) from which the head is said to play that role, 0..1.
	RoleThreshold = 0.4
	// InductionThreshold is the mean share of attention on the token after
	// an earlier copy of the current bigram from which a head is said to be
	// an induction head, 0..1.
	InductionThreshold = 0.3
	// MinKeys is the fewest keys a query row must see to count towards a
	// head's scores: a row with k keys gives 1/k to any key by chance, so
	// short rows (the first positions of a prompt) would make every head
	// look like a previous-token or first-token head.
	MinKeys = 5
	// MinRows is the fewest counted rows (or, for induction, rows inside a
	// repeated sequence) a score needs before a role can hold.
	MinRows = 3
	// NearDistance is how many tokens back count as "near": attention on
	// keys 0..NearDistance tokens back (the query itself, the previous
	// token and the one before it) is near, the rest is beyond.
	NearDistance = 2
	// ReadThreshold is the share of one row's attention that must lie at
	// a distance or farther for the head to count as reading that far
	// (Distance.Farthest), 0..1.
	ReadThreshold = 0.1
)

// Thresholds of the prompt facts (Prompt, OutOfDistribution).
const (
	// MinScored is the fewest scored prompt tokens (or prompt tokens, for
	// the byte share) an out-of-distribution judgement needs.
	MinScored = 4
	// ByteShareThreshold is the share of prompt tokens that are raw bytes
	// (pieces of a UTF-8 character the tokenizer has no token for) from
	// which a prompt is said to be unlike the model's training text, 0..1.
	ByteShareThreshold = 0.5
)

// ResidualSinkRatio is how many times the median norm of the other
// positions the first position's residual stream must reach to be called
// outsized (ResidualSink).
const ResidualSinkRatio = 3

// Tolerances of the sanity checks (Checks).
const (
	RowSumTolerance = 1e-4 // max |Σ_k p − 1| of a float32 softmax row
	CacheTolerance  = 1e-3 // max |Δlogit| between cached and recomputed logits
)
