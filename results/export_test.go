package results

// MergeStats is mergeStats, for the external tests.
var MergeStats = mergeStats
