//go:build race

package netsim

// raceEnabled: the race detector is on; the heavy cases shrink.
const raceEnabled = true
