package trace

// SetLimits lowers MaxBytes and MaxRenderValues for a test and returns the
// function that restores them. Tests using it must not run in parallel.
func SetLimits(bytes, values int64) (restore func()) {
	oldB, oldV := maxBytes, maxRenderValues
	maxBytes, maxRenderValues = bytes, values
	return func() { maxBytes, maxRenderValues = oldB, oldV }
}
