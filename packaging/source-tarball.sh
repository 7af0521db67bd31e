#!/usr/bin/env bash
# Writes a source tarball that builds with no network: the committed tree (git archive HEAD),
# every dependency's source under vendor/ (cargo vendor, from Cargo.lock as it is), and a
# .cargo/config.toml that keeps the repository's own settings and points crates.io at
# vendor/. Run on a connected machine; build the result on an air-gapped one with
#
#   tar -xzf copkit-VERSION-src.tar.gz && cd copkit-VERSION
#   cargo build --release --offline --locked
#
# Usage: packaging/source-tarball.sh [OUT_DIR]   (default: target/dist; prints the path)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out_dir=$(mkdir -p "${1:-$repo/target/dist}" && cd "${1:-$repo/target/dist}" && pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n1)
name="copkit-$version"

if ! git -C "$repo" diff --quiet HEAD -- Cargo.toml Cargo.lock; then
  echo "source-tarball.sh: Cargo.toml or Cargo.lock has uncommitted changes; the tarball is" \
    "made from the last commit, so commit them first." >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$repo" archive --format=tar --prefix="$name/" HEAD | tar -x -C "$work"

# cargo vendor prints the [source] table the build needs; it goes after the repository's own
# .cargo/config.toml (which sets COPKIT_DATA_DIR for the tests) rather than replacing it.
(cd "$work/$name" && cargo vendor --locked vendor >"$work/vendor-config.toml" 2>"$work/vendor.log") \
  || { cat "$work/vendor.log" >&2; exit 1; }
grep -q "replace-with" "$work/vendor-config.toml" \
  || { echo "source-tarball.sh: cargo vendor printed no [source] table" >&2; exit 1; }
mkdir -p "$work/$name/.cargo"
{
  if [ -f "$repo/.cargo/config.toml" ]; then
    cat "$repo/.cargo/config.toml"
    echo
  fi
  echo "# Added by packaging/source-tarball.sh: dependencies come from vendor/, never the network."
  cat "$work/vendor-config.toml"
} >"$work/$name/.cargo/config.toml.new"
mv "$work/$name/.cargo/config.toml.new" "$work/$name/.cargo/config.toml"

tarball="$out_dir/$name-src.tar.gz"
# Sorted names, fixed owner and the commit's time: the same commit gives the same tarball.
mtime=$(git -C "$repo" log -1 --format=%cI HEAD)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" \
  -C "$work" -cf - "$name" | gzip -n >"$tarball.part"
mv "$tarball.part" "$tarball"
echo "$tarball"
