package findings

import "github.com/gptviz/gptviz/model/trace"

// CacheRates compares cached with uncached decoding over the steps of a
// run's CacheCost: work (FLOPs), wall time (ms) and the speed each
// reached. TimeRatio = FLOPRatio × SpeedRatio: the time saved is smaller
// than the work saved exactly when a cached FLOP runs slower than an
// uncached one (SpeedRatio < 1).
type CacheRates struct {
	CachedFLOPs, UncachedFLOPs   int64   // Σ over the steps
	CachedMillis, UncachedMillis float64 // Σ over the steps, ms
	// CachedGFLOPS and UncachedGFLOPS are the speeds, 10⁹ FLOPs per second.
	CachedGFLOPS, UncachedGFLOPS float64
	// FLOPRatio and TimeRatio are uncached ÷ cached; SpeedRatio is
	// CachedGFLOPS ÷ UncachedGFLOPS.
	FLOPRatio, TimeRatio, SpeedRatio float64
}

// SlowerPerFLOP reports whether a cached FLOP ran slower than an uncached
// one, so that the cache saved less time than work.
func (r CacheRates) SlowerPerFLOP() bool { return r.SpeedRatio < 1 }

// CacheSpeed returns the CacheRates of the run; ok is false when it
// measured no cached vs uncached steps, or their times or FLOPs are not
// all positive (timings cleared for a reproducible page).
func CacheSpeed(tr *trace.Trace) (r CacheRates, ok bool) {
	cc := tr.CacheCost
	if cc == nil {
		return r, false
	}
	for _, s := range cc.Steps {
		r.CachedFLOPs += s.CachedFLOPs
		r.UncachedFLOPs += s.UncachedFLOPs
		r.CachedMillis += s.CachedMillis
		r.UncachedMillis += s.UncachedMillis
	}
	if r.CachedFLOPs <= 0 || r.UncachedFLOPs <= 0 || !(r.CachedMillis > 0) || !(r.UncachedMillis > 0) {
		return CacheRates{}, false
	}
	r.CachedGFLOPS = float64(r.CachedFLOPs) / r.CachedMillis / 1e6
	r.UncachedGFLOPS = float64(r.UncachedFLOPs) / r.UncachedMillis / 1e6
	r.FLOPRatio = float64(r.UncachedFLOPs) / float64(r.CachedFLOPs)
	r.TimeRatio = r.UncachedMillis / r.CachedMillis
	r.SpeedRatio = r.CachedGFLOPS / r.UncachedGFLOPS
	return r, true
}
