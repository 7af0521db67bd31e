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
cargo deb --no-build --locked --dbgsym >/dev/null
# The package first, then its debug symbols (one line each; callers read them in this order).
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
for file in "$target/debian/copkit_${version}-1_"*.deb "$target/debian/copkit-dbgsym_${version}-1_"*.ddeb; do
  [ -f "$file" ] || { echo "build-deb.sh: cargo-deb did not write $file" >&2; exit 1; }
  echo "$file"
done
