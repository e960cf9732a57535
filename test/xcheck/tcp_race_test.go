//go:build race

package xcheck

// tcpRace: the race detector is on; the heavy TCP cases shrink.
const tcpRace = true
