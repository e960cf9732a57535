// Package netns builds throwaway test networks: a Linux network namespace
// whose kernel talks, through a TAP device, to a stack running in this
// process. It is test plumbing, and shells out to ip(8) from iproute2.
//
// New creates the namespace <prefix>-<pid>-<n> and the TAP <prefix[:4]><pid>t<n>,
// opened by this process in the root namespace and then moved into the new
// one, and gives the kernel side 198.18.x.1/24 (the RFC 2544 benchmarking
// range; nothing is routed out). The stack is meant to take 198.18.x.2/24.
// Nothing in the root namespace's addresses or routes is touched. Close
// removes everything; CleanupOnSignal closes live networks when the process
// is interrupted, and CleanupStale removes the leftovers of killed runs (by
// name prefix, only for processes that no longer exist).
//
// Commands run inside the namespace with Command and Run (ip netns exec,
// bounded by a context), and Go code with Do (setns on a locked thread),
// which is how a test opens kernel sockets in the namespace without external
// tools.
//
// All of it needs root and /dev/net/tun; Available says why not.
package netns
