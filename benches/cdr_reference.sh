#!/usr/bin/env bash
# Reference loads of the call-record benchmark file (BENCHMARKS.md), to set `copkit import
# --template cdr` beside what plain SQLite and a typical analyst's script take on the same
# bytes. None of them does what the import does (identifier normalisation, entity matching,
# events with participants, provenance and grading on every row, an audit record, a row-level
# report): they are floors, not equivalents.
#
#     python3 benches/cdr_csv.py 1000000 /tmp/calls-1m.csv
#     bash benches/cdr_reference.sh /tmp/calls-1m.csv
#
# Needs the sqlite3 command-line shell (apt-get install sqlite3) and python3.
set -euo pipefail
csv=${1:?usage: cdr_reference.sh CALLS.csv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timed() { /usr/bin/time -f "  %e s wall, %U s user, %M KB peak" "$@" 2>&1; }

echo "sqlite3 shell, .import into one table (all text, no index):"
timed sqlite3 "$work/a.db" ".mode csv" ".import $csv calls"

echo "sqlite3 shell, .import, then indexes on caller, callee and start:"
timed sqlite3 "$work/b.db" ".mode csv" ".import $csv calls" \
  "CREATE INDEX calls_caller ON calls(caller);" \
  "CREATE INDEX calls_callee ON calls(callee);" \
  "CREATE INDEX calls_start ON calls(start);"

echo "python3 csv + sqlite3 executemany in one transaction, the same three indexes:"
timed python3 - "$csv" "$work/c.db" <<'PY'
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE calls (caller TEXT, callee TEXT, start TEXT, duration INTEGER, cell TEXT, imei TEXT)")
with open(sys.argv[1], newline="") as f:
    rows = csv.reader(f)
    next(rows)
    db.executemany("INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?)", rows)
for col in ("caller", "callee", "start"):
    db.execute(f"CREATE INDEX calls_{col} ON calls({col})")
db.commit()
PY
