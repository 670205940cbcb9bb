package output

// EChartsJS returns the Apache ECharts bundle (EChartsVersion) that every
// HTML page inlines, and PageCSS the pages' stylesheet: for a server that
// serves pages drawing the same charts (gptviz serve) without a copy.
func EChartsJS() string { return echartsJS }

// PageCSS returns the stylesheet every HTML page inlines (see EChartsJS).
func PageCSS() string { return pageCSS }
