#!/usr/bin/env bash
# Hand edits from the command line on a generated medium case (about 20,000 entities and
# 480,000 events): the whole process a script runs for each (`copkit add entity`, `set
# --grade`, `note`, `undo`), opening the case each time, N runs of each; median and p95.
#
#   bash benches/edit_latency.sh target/release/copkit /tmp/edits 20
set -euo pipefail
bin=$(realpath "$1")
dir=$2
runs=${3:-20}
mkdir -p "$dir"
cd "$dir"
rm -f medium.copkit
"$bin" generate --scenario drug-trafficking --seed 1 --size medium --out medium.copkit \
  --purpose bench >/dev/null

time_runs() {
  local name=$1
  shift
  local times=()
  for _ in $(seq "$runs"); do
    times+=("$(/usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1)")
  done
  python3 - "$name" "${times[@]}" <<'EOF'
import statistics, sys
name, xs = sys.argv[1], sorted(float(x) for x in sys.argv[2:])
p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
print(f"{name}: median {statistics.median(xs) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, n={len(xs)}")
EOF
}

p=(--purpose bench)
time_runs "add entity" "$bin" add entity medium.copkit --type Person --label "Ada Brook" \
  --grade B2 --source-ref "log 14/03" "${p[@]}"
time_runs "set grading" "$bin" set medium.copkit E1 --grade A1 --reason "second source" "${p[@]}"
time_runs "note" "$bin" note medium.copkit E1 --text "seen at the port" "${p[@]}"
time_runs "undo" "$bin" undo medium.copkit "${p[@]}"
time_runs "info (open and count, for scale)" "$bin" info medium.copkit "${p[@]}"
