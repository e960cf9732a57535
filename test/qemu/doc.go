// Package qemu is lwgo's QEMU tier: it boots Debian's kernel under
// qemu-system-x86_64 (TCG) with an emulated e1000 and an initramfs whose
// /init is lwgo's test guest (./guest), and checks the guest's verdict,
// returned through isa-debug-exit (facts/qemu-e1000.md).
//
// The tests carry the build tag "qemu" and run from `make qemu` (part of
// `make test`), which first fetches the kernel with kernel.sh:
//
//	LWGO_QEMU_KERNEL=$(test/qemu/kernel.sh) go test -tags qemu -v ./test/qemu
//
// Cases:
//
//   - TestPingGateway: lwgo on QEMU's user network (restrict=on) takes a
//     DHCP lease (core/dhcp) and pings the gateway 10.0.2.2.
//
//   - TestTCP64MiB: 64 MiB each way between the guest's lwgo and the Linux
//     kernel's TCP in a network namespace this test creates, through a TAP
//     netdev (198.18.0.0/24), both directions checked with SHA-256.
//
//   - TestTCPLinuxE1000: the same exchange through the Linux kernel's own
//     e1000.ko and TCP in the same kind of guest; reports lwgo's throughput
//     relative to it.
//
//   - TestMMIOAccessRule: a plain register write has no hidden read (an ICR
//     cause survives it); records that XCHG loses the cause.
//
//   - TestOtherModels: the ping case on QEMU's 82545EM and 82544GC.
//
//   - TestApplianceHostfwd: the guest serves a page on port 80 and the host
//     fetches it through a hostfwd port forward: the pattern of the visor
//     appliance case.
//
//   - TestVisorAppliance: the visor appliance (apps/visor -e1000 auto
//     -dhcp, started by ./visorinit as /init; the image `make demo` boots
//     with ./cmd/demo) on QEMU's e1000: the host fetches its configuration
//     page through hostfwd on 127.0.0.1 (401 without credentials, 200 with
//     them, /api/status as JSON) and reports the time from QEMU start to
//     the first answered request.
//
// Each case reports the time from QEMU start to the guest's first lwgo frame
// and to the verdict. A new case is one Boot: a kernel command line for the
// guest (or another /init packed with buildImage), a netdev, and an optional
// host-side check. The visor appliance will be TestApplianceHostfwd with the
// visor's /init: Boot.Start, fetch its configuration page through hostfwd,
// Kill (or Wait for its verdict).
//
// Missing prerequisites (qemu-system-x86_64, the kernel, root for the TAP
// case) skip the tests outside CI and fail them when CI=true.
package qemu
