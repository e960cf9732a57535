// Package tap is a Linux TAP interface as a netif.Device, for running lwgo as
// an ordinary process against the kernel's own TCP/IP stack (usually in a
// network namespace; see platform/netns).
//
// # Frames
//
// Open creates the interface with TUNSETIFF IFF_TAP|IFF_NO_PI on a
// non-blocking descriptor; the interface disappears when the Device is
// closed. Receive reads one frame per read(2) straight into a Buf from the
// stack's pool (the frame starts pbuf.DeviceHeadroom bytes into the slot, so
// replies built in place have room for a device header); Transmit writes one
// frame per write(2). EAGAIN ends a batch, nothing blocks, and every failure
// is counted in Stats and dropped. Received frames are untrusted: runts,
// frames larger than a slot and malformed virtio headers are dropped and
// counted, never passed on half-checked. Receive and Transmit do not
// allocate.
//
// # Virtio-net header (opt-in)
//
// With Config.VnetHdr the TAP is opened with IFF_VNET_HDR and every frame
// carries a struct virtio_net_hdr, put into the frame's headroom on transmit
// (or gathered with writev when there is none). Receive honours what
// Config.Offload allowed the kernel (TUNSETOFFLOAD):
//
//   - OffloadCsum (TUN_F_CSUM): frames marked NEEDS_CSUM carry only the
//     pseudo-header sum; Receive completes the checksum in place and marks
//     the Buf pbuf.RxL4ChecksumOK.
//   - OffloadTSO4 (TUN_F_TSO4): the kernel sends TCPv4 super-frames of up to
//     64 KiB. Receive reads them with readv into the Buf and a 128 KiB
//     scratch, cuts them into MSS-sized frames (new IPv4 length, ID and
//     checksum; TCP sequence number, FIN/PSH on the last segment only, CWR
//     on the first only, and the full TCP checksum) and marks both checksums
//     verified.
//   - GRO (with OffloadTSO4): a super-frame is read into a buffer of the
//     device's own pool and handed over whole, one TCP segment of up to
//     64 KiB (IPv4 length and header checksum made right, the kernel's
//     partial TCP checksum marked verified: the data never left the host);
//     the cutting above is the fallback when every GRO buffer is held.
//
// and offers the stack what the kernel takes on transmit:
//
//   - OffloadTxCsum: frames flagged pbuf.TxL4ChecksumPartial go out with
//     NEEDS_CSUM (netif.Caps.TxChecksumOffload).
//   - OffloadTxTSO4: TCPv4 super-segments (pbuf.Buf.GSOSize) go out with
//     GSO_TCPV4, one write(2) each (netif.Caps.TSOMax 65535).
//
// DATA_VALID is ignored (the stack verifies such checksums itself); other
// GSO types are never enabled and are dropped. The default is off: without
// IFF_VNET_HDR the kernel resolves checksums and segmentation in software
// and sends plain frames of at most MTU bytes.
//
// # Waking the loop
//
// Notify(w) starts one goroutine that sleeps in poll(2) on the descriptor and
// calls w.Wake (platform/hosted's Waker) when frames are readable. It never
// reads frames or touches the stack: Receive re-arms it each time it drains
// the descriptor to EAGAIN, so only the stack's goroutine touches the stack.
// Without Notify, drive the loop with hosted.Spin or short deadlines.
//
// # Not implemented
//
// TSO6, USO, multi-queue TAPs, IFF_TUN, batched writes.
package tap
