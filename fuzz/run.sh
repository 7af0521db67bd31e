#!/bin/sh
# Runs every importer fuzz target for the given time each (default 60 seconds).
# Needs a nightly toolchain and cargo-fuzz: cargo install cargo-fuzz
# Crashes land in fuzz/artifacts/<target>/; turn each into a regression test.
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
for target in csv_import graphml_import; do
    echo "== $target for ${SECONDS_EACH}s"
    cargo +nightly fuzz run "$target" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096
done
