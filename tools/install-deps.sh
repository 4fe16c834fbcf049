#!/bin/sh
# Install the Debian 12 packages Strata needs to build, boot and test.
# Idempotent: does nothing when everything is present. Needs root for apt-get;
# otherwise prints the one command to run.
set -e

PKGS="make gcc python3 qemu-system-x86 qemu-system-arm gcc-aarch64-linux-gnu \
grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools ovmf qemu-efi-aarch64 \
bochs bochsbios vgabios \
device-tree-compiler cpio u-boot-qemu libfdt-dev clang libclang-rt-14-dev \
acpica-tools valgrind"

# libfdt for the arm64 hypervisor: Debian's libfdt-dev:arm64 conflicts with the
# host's libfdt-dev, so its .deb is unpacked into DEPS instead of installed.
DEPS=${STRATA_DEPS:-$(dirname "$0")/../build/deps}
fetch_arm64_libfdt() {
	[ -f "$DEPS/arm64/usr/lib/aarch64-linux-gnu/libfdt.a" ] && return 0
	mkdir -p "$DEPS/arm64"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q libfdt-dev:arm64) &&
		dpkg-deb -x "$tmp"/libfdt-dev_*_arm64.deb "$DEPS/arm64"
	rm -rf "$tmp"
	[ -f "$DEPS/arm64/usr/lib/aarch64-linux-gnu/libfdt.a" ]
}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ] && dpkg --print-foreign-architectures | grep -qx arm64; then
	fetch_arm64_libfdt && exit 0
fi

need_arch=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arch=1

if [ "$(id -u)" != 0 ]; then
	echo "strata: missing packages:$missing" >&2
	echo "strata: run as root:" >&2
	[ $need_arch = 1 ] && echo "  dpkg --add-architecture arm64 &&" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "strata: installing:$missing"
[ $need_arch = 1 ] && dpkg --add-architecture arm64
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
[ -n "$missing" ] && apt-get install -y -q --no-install-recommends $missing
fetch_arm64_libfdt || { echo "strata: cannot fetch libfdt-dev:arm64" >&2; exit 1; }
