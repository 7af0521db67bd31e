#!/bin/sh
# Runs every importer fuzz target (or those named in $2) for the given time each (default 60
# seconds), one at a time, at the lowest CPU priority so other work on the machine keeps going.
# Needs a nightly toolchain and cargo-fuzz: cargo install cargo-fuzz
# Each corpus (fuzz/corpus/<target>/, not in git) is seeded from the test fixtures of its
# format, so the fuzzer starts from valid files rather than from nothing.
# Crashes land in fuzz/artifacts/<target>/; turn each into a regression test.
set -euf # -f: the patterns below are for find, not the shell
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
TARGETS="${2:-csv_import graphml_import gexf_import ftm_import xlsx_import parquet_import}"
for target in $TARGETS; do
    corpus="fuzz/corpus/$target"
    mkdir -p "$corpus"
    case "$target" in
        csv_import) pattern='*.csv *.tsv' ;;
        graphml_import) pattern='*.graphml' ;;
        gexf_import) pattern='*.gexf' ;;
        ftm_import) pattern='*.ftm.json' ;;
        xlsx_import) pattern='*.xlsx' ;;
        parquet_import) pattern='*.parquet' ;;
    esac
    for p in $pattern; do
        find tests/fixtures -name "$p" -type f -exec cp {} "$corpus/" \;
    done
    echo "== $target for ${SECONDS_EACH}s ($(ls "$corpus" | wc -l) files in the corpus)"
    nice -n 19 cargo +nightly fuzz run "$target" "$corpus" -- \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 -print_final_stats=1
done
