#!/usr/bin/env bash
# Checks the README's two set-up commands on a fresh Debian 12 (bookworm) with only
# build-essential and rustup's stable toolchain: no libclang, no system SQLite, no window
# libraries while building. Run as root on a Debian or Ubuntu host with debootstrap; it takes
# a cold build's time (about 25 minutes on 2 cores). Issue 27's check; the result of its last
# run is in the closing note of the stop that added it.
#
#   sudo bash packaging/fresh-machine-check.sh /var/tmp/copkit-chroot
set -euo pipefail
root=${1:?usage: fresh-machine-check.sh CHROOT_DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$root/usr" ] || debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
cp /etc/resolv.conf "$root/etc/resolv.conf"
# A host behind an intercepting proxy needs its certificates inside too.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
chroot "$root" /bin/bash -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q build-essential ca-certificates git"
mkdir -p "$root/root/.rustup/toolchains" "$root/root/.cargo/bin"
toolchain=$(rustup show active-toolchain | cut -d' ' -f1)
cp -a "$HOME/.rustup/toolchains/$toolchain" "$root/root/.rustup/toolchains/"
printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "default"\n' "$toolchain" >"$root/root/.rustup/settings.toml"
cp -a "$HOME/.cargo/bin/." "$root/root/.cargo/bin/"
for m in proc dev sys; do mountpoint -q "$root/$m" || mount --bind "/$m" "$root/$m"; done
rm -rf "$root/root/copkit" && git clone -q "$repo" "$root/root/copkit"
chroot "$root" /bin/bash -c '
  export HOME=/root PATH=/root/.cargo/bin:/usr/bin:/bin
  cd /root/copkit
  if ls /usr/lib/llvm-* /usr/lib/x86_64-linux-gnu/libclang* >/dev/null 2>&1; then echo "libclang is present: not a fair check"; exit 1; fi
  cargo test && cargo build --release
  # Only now the runtime libraries a desktop has, and a virtual screen to open the window on.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q xvfb libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 x11-utils imagemagick
  Xvfb :42 -screen 0 1280x800x24 & xvfb=$!; sleep 2
  DISPLAY=:42 cargo run --release & app=$!; sleep 25
  DISPLAY=:42 xwininfo -root -tree | grep "COPKIT Workbench"
  DISPLAY=:42 import -window root /root/window.png
  kill $app $xvfb'
echo "passed: tests, release build and the window on the demo case ($root/root/window.png)"
