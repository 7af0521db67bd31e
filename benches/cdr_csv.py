#!/usr/bin/env python3
"""Writes a seeded call-detail-record CSV for the `copkit import --template cdr` benchmark
(BENCHMARKS.md): 5 000 phone numbers, 300 cells, 5 000 IMEIs, one row per call.

    python3 benches/cdr_csv.py 1000000 target/calls-1m.csv

By default each call comes from a random handset, the worst case for the import (nearly every
row makes a new phone-handset link). `--handsets per-phone` gives each phone one handset, or
two for one phone in ten, as real call records look; the other columns are drawn as before.
"""
import datetime
import random
import sys

rows = int(sys.argv[1])
out = sys.argv[2]
per_phone = sys.argv[3:5] == ["--handsets", "per-phone"]
rng = random.Random(42)
phones = [f"07700{900000 + i:06d}" for i in range(5000)]
cells = [f"LJ-{i}" for i in range(300)]
imeis = [f"35693803{i:07d}" for i in range(5000)]
# Own random stream, so the default file stays byte-identical to earlier runs.
handset_rng = random.Random(7)
handsets = {p: [imeis[i]] + ([imeis[(i + 1) % 5000]] if handset_rng.random() < 0.1 else [])
            for i, p in enumerate(phones)}
with open(out, "w") as f:
    f.write("caller,callee,start,duration,cell,imei\n")
    t = 1709251200  # 2024-03-01 00:00:00 UTC
    for _ in range(rows):
        t += rng.randint(0, 20)
        a, b = rng.sample(phones, 2)
        start = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        duration, cell, imei = rng.randint(1, 3600), rng.choice(cells), rng.choice(imeis)
        if per_phone:
            imei = handset_rng.choice(handsets[a])
        f.write(f"{a},{b},{start},{duration},{cell},{imei}\n")
print(f"{out}: {rows} rows")
