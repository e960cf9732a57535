//go:build !race

package xcheck

// tcpRace: the race detector is off.
const tcpRace = false
