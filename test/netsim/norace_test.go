//go:build !race

package netsim

// raceEnabled: the race detector is off.
const raceEnabled = false
