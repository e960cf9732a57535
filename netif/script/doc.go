// Package script is a scripted netif.Device for tests of protocol clients
// on one stack (DHCP, DNS): the test queues the frames the stack is to
// receive and reads back the ones it sent, with no peer stack at all.
//
// Receive copies queued frames into Bufs from the stack's pool (One first,
// then Inbox) and drops a frame when the pool is empty; Transmit records
// every frame in Sent (unless Discard) and frees it. One and Discard let
// allocation tests feed and sink frames without growing slices. Like the
// other netif devices, it is used from the stack's goroutine only.
package script
