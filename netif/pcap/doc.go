// Package pcap records Ethernet frames in the classic libpcap file format
// (https://wiki.wireshark.org/Development/LibpcapFileFormat), readable by
// tcpdump, Wireshark and tshark: smoltcp's PcapWriter and gVisor's
// link/sniffer, without the OS.
//
// Writer writes a capture to any io.Writer: a 24-byte global header (magic
// 0xa1b2c3d4, little-endian, version 2.4, thiszone 0, sigfigs 0, the
// snapshot length, link type 1 = Ethernet) once in NewWriter, then one
// record per WriteFrame: a 16-byte header (ts_sec, ts_usec from the injected
// clock.Source, incl_len = min(len, snaplen), orig_len = len) and the first
// incl_len bytes of the frame. Timestamps are the Source's Time, which
// starts at an arbitrary epoch: a hosted program that wants wall-clock dates
// in its captures passes a Source counting from the Unix epoch.
//
// Device wraps any netif.Device and records every frame it receives (after
// the inner Receive) and every frame it is asked to transmit (before the
// inner Transmit, which may free or reuse the Buf). As with Linux's packet
// taps, a frame the inner device refuses (returns fewer than asked) has
// already been recorded, and is recorded again if the stack retries it.
//
// Wrapping order decides what is seen: pcap.New(fault.New(end, …), w)
// records what the stack sent, before impairment; fault.New(pcap.New(end,
// w), …) records what went on the wire. Two Devices on the two ends of a
// pipe may share one Writer, giving one capture of both directions.
//
// Errors: the first error from the io.Writer (a short write counts as
// io.ErrShortWrite) is remembered, returned by Err, and stops recording;
// the stack's traffic is unaffected. Recording never panics and costs what
// the io.Writer's Write costs: two calls per frame, so a buffered writer
// (bufio.Writer, flushed by the owner) is the usual choice.
//
// Allocation: none per frame; the record header is a scratch array in the
// Writer (TestWriteFrameDoesNotAllocate).
//
// Concurrency: a Writer is used from one goroutine; Devices sharing a
// Writer must be polled by the same goroutine.
//
// Not implemented: pcapng, nanosecond timestamps, link types other than
// Ethernet, reading captures.
package pcap
