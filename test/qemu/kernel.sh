#!/usr/bin/env bash
# Fetches and unpacks the guest kernel for the QEMU tier (facts/qemu-e1000.md
# §1–§2) into a cache directory, and prints the path of the uncompressed PVH
# vmlinux on its last line. It also keeps the kernel's own e1000.ko, which
# only the Linux-driver comparison case loads. The kernel is Debian's linux-image-amd64 package,
# downloaded with apt-get download and extracted with dpkg-deb (never
# installed: no postinst, no initramfs-tools). Nothing is written to the
# repository.
#
#   LWGO_QEMU_CACHE   cache directory (default: ~/.cache/lwgo-qemu)
#
# The Debian kernel builds e1000 as a module (CONFIG_E1000=m) and the test
# initramfs carries no modules, so nothing binds the NIC and lwgo's
# userspace driver can map BAR0 (CONFIG_IO_STRICT_DEVMEM=y would refuse it
# while a driver is bound). It also has CONFIG_PVH=y (the vmlinux boots
# directly), CONFIG_PROC_PAGE_MONITOR=y (/proc/self/pagemap) and
# CONFIG_DEVPORT=y (/dev/port, for isa-debug-exit).
set -euo pipefail

cache=${LWGO_QEMU_CACHE:-${HOME:-/root}/.cache/lwgo-qemu}
mkdir -p "$cache"
cd "$cache"

if [ -s vmlinux ] && [ -s vmlinux.pkg ] && [ -s e1000.ko ]; then
	echo "kernel: cached $(cat vmlinux.pkg)" >&2
	echo "$cache/vmlinux"
	exit 0
fi

for c in apt-get apt-cache dpkg-deb xz; do
	command -v "$c" >/dev/null || { echo "kernel.sh: $c is missing" >&2; exit 1; }
done

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$pkg" ]; then
	echo "kernel: apt-get update (package lists are empty)" >&2
	apt-get update -qq </dev/null >&2
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
[ -n "$pkg" ] || { echo "kernel.sh: cannot resolve linux-image-amd64" >&2; exit 1; }

tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "kernel: downloading $pkg" >&2
(cd "$tmp" && apt-get download -q "$pkg" </dev/null 2>&1 | grep -v 'unsandboxed' >&2 || true)
deb=$(ls "$tmp"/"$pkg"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "kernel.sh: apt-get download $pkg produced no .deb" >&2; exit 1; }
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' './boot/config-*' \
	'./lib/modules/*/kernel/drivers/net/ethernet/intel/e1000/e1000.ko'
cp "$tmp"/lib/modules/*/kernel/drivers/net/ethernet/intel/e1000/e1000.ko "$cache/e1000.ko"
vmlinuz=$(ls "$tmp"/boot/vmlinuz-* | head -1)
cp "$tmp"/boot/config-* "$cache/config"
# The bzImage payload is XZ (CONFIG_KERNEL_XZ): find the stream and unpack
# it to a temporary file (not a pipe: xz --single-stream would SIGPIPE tail).
off=$(LC_ALL=C grep -m1 -aboP '\xFD7zXZ\x00' "$vmlinuz" | cut -d: -f1)
[ -n "$off" ] || { echo "kernel.sh: no XZ payload in $vmlinuz" >&2; exit 1; }
tail -c +$((off + 1)) "$vmlinuz" > "$tmp/v.xz"
xz -dc --single-stream "$tmp/v.xz" > "$tmp/vmlinux" 2>/dev/null || [ -s "$tmp/vmlinux" ]
cp "$vmlinuz" "$cache/vmlinuz"
mv "$tmp/vmlinux" "$cache/vmlinux"
echo "$pkg" > "$cache/vmlinux.pkg"
grep -E '^CONFIG_(E1000|PVH|PROC_PAGE_MONITOR|DEVPORT|IO_STRICT_DEVMEM)=' "$cache/config" >&2 || true
echo "kernel: $pkg -> $cache/vmlinux" >&2
echo "$cache/vmlinux"
