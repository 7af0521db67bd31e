#!/usr/bin/env python3
"""Writes a seeded call-detail-record CSV for the `copkit import --template cdr` benchmark
(BENCHMARKS.md): 5 000 phone numbers, 300 cells, 5 000 IMEIs, one row per call.

    python3 benches/cdr_csv.py 1000000 target/calls-1m.csv
"""
import datetime
import random
import sys

rows = int(sys.argv[1])
out = sys.argv[2]
rng = random.Random(42)
phones = [f"07700{900000 + i:06d}" for i in range(5000)]
cells = [f"LJ-{i}" for i in range(300)]
imeis = [f"35693803{i:07d}" for i in range(5000)]
with open(out, "w") as f:
    f.write("caller,callee,start,duration,cell,imei\n")
    t = 1709251200  # 2024-03-01 00:00:00 UTC
    for _ in range(rows):
        t += rng.randint(0, 20)
        a, b = rng.sample(phones, 2)
        start = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        f.write(f"{a},{b},{start},{rng.randint(1, 3600)},{rng.choice(cells)},{rng.choice(imeis)}\n")
print(f"{out}: {rows} rows")
