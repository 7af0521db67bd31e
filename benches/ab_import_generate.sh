#!/usr/bin/env bash
# Times two copkit binaries side by side, alternating run by run, on the whole processes a user
# runs: `copkit import` of the 1M-row call-record CSV (benches/cdr_csv.py) into a new case, and
# `copkit generate --size medium`. Prints one line per run: binary, job, wall s, user s, sys s,
# peak RSS MB. Usage: bash benches/ab_import_generate.sh BASE NEW CSV [RUNS]
set -euo pipefail
base=$1 new=$2 csv=$3 runs=${4:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
measure() { # label job binary args...
  local label=$1 job=$2 bin=$3; shift 3
  /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$bin" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  read -r wall user sys rss <"$work/t"
  printf '%-5s %-9s %6.2f %6.2f %5.2f %5d\n' "$label" "$job" "$wall" "$user" "$sys" "$((rss / 1024))"
}
printf '%-5s %-9s %6s %6s %5s %5s\n' bin job wall user sys rssMB
for i in $(seq 1 "$runs"); do
  for label in base new; do
    bin=$base; [ "$label" = new ] && bin=$new
    rm -f "$work"/c.copkit "$work"/g.copkit
    "$bin" new "$work/c.copkit" --purpose bench >/dev/null
    measure "$label" import "$bin" import "$csv" --into "$work/c.copkit" --template cdr --purpose bench
    measure "$label" medium "$bin" generate --scenario drug-trafficking --seed 1 --size medium --out "$work/g.copkit" --purpose bench
  done
done
