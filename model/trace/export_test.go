package trace

// SetLimits lowers MaxBytes and MaxRenderValues for a test and returns the
// function that restores them. Tests using it must not run in parallel.
func SetLimits(bytes, values int64) (restore func()) {
	oldB, oldV := maxBytes, maxRenderValues
	maxBytes, maxRenderValues = bytes, values
	return func() { maxBytes, maxRenderValues = oldB, oldV }
}

// SetStringLimit lowers MaxStringBytes for a test and returns the function
// that restores it. Tests using it must not run in parallel.
func SetStringLimit(n int64) (restore func()) {
	old := maxStringBytes
	maxStringBytes = n
	return func() { maxStringBytes = old }
}

// ScanValues runs Read's pre-pass over a whole trace and returns the
// recorded values it counted.
func ScanValues(data []byte) (int64, error) {
	p := &prepass{data: data}
	err := p.value(traceSchema, 0)
	return p.values, err
}
