#!/usr/bin/env bash
# Early warning scores (issue 25): generates each scenario's medium case for the given seeds
# and runs `copkit score` for bursts, phone-swaps, handovers and co-location on each, printing
# one JSON line per score.
# Usage: bash benches/early_warning.sh BIN DIR [SEEDS...]   (seeds default to 1 2 3)
set -euo pipefail
bin=$1
dir=$2
shift 2
if [ $# -gt 0 ]; then seeds=("$@"); else seeds=(1 2 3); fi
export COPKIT_ANALYST=bench
mkdir -p "$dir"
for seed in "${seeds[@]}"; do
    for scenario in drug-trafficking firearms fraud; do
        case_file="$dir/$scenario-$seed.copkit"
        [ -e "$case_file" ] || "$bin" generate --scenario "$scenario" --seed "$seed" \
            --size medium --out "$case_file" --purpose bench >/dev/null
        for component in bursts phone-swaps handovers co-location; do
            score=$("$bin" score "$case_file" --component "$component" --purpose bench \
                --format json | tr -d '\n ')
            echo "{\"scenario\":\"$scenario\",\"seed\":$seed,\"component\":\"$component\",\"score\":$score}"
        done
    done
done
