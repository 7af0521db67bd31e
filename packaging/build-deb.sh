#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (its metadata is [package.metadata.deb] in
# Cargo.toml): a release build, then the built binary writes its own man pages and shell
# completions into packaging/generated/, then cargo-deb packages it all, stripping the binary
# and putting its line tables into a separate copkit-dbgsym .ddeb. Prints the paths of both.
#
# Needs cargo-deb (`cargo install cargo-deb --locked`) and binutils (objcopy, for the
# debug-symbol split). Honours CARGO_TARGET_DIR; the packages land in TARGET/debian/.
#
# Usage: packaging/build-deb.sh [CARGO_BUILD_ARGS...]
# Arguments go to `cargo build` (e.g. --no-default-features makes a headless package, which is
# quicker to build when only the packaging itself is being tried).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

if ! cargo deb --version >/dev/null 2>&1; then
  echo "build-deb.sh: cargo-deb is not installed; install it with 'cargo install cargo-deb --locked'." >&2
  exit 1
fi

target=$(cargo metadata --no-deps --format-version 1 --locked |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$target" ] || { echo "build-deb.sh: cargo metadata named no target directory" >&2; exit 1; }

cargo build --release --locked "$@"

generated="$repo/packaging/generated"
rm -rf "$generated"
"$target/release/copkit" manpages "$generated/man" >/dev/null
"$target/release/copkit" completions "$generated/completions" >/dev/null

# --no-build: the binary that wrote the pages above is the one packaged.
cargo deb --no-build --locked --dbgsym --output "$target/debian" >/dev/null
ls -1 "$target"/debian/copkit_*.deb "$target"/debian/copkit-dbgsym_*.ddeb
