//go:build race

package history

// raceEnabled: the race detector makes the year-long simulation ten times
// slower, so TestGrowthOfAYear runs a smaller table under it.
const raceEnabled = true
