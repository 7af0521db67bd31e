#!/usr/bin/env bash
# Documents per second for `copkit import-docs` on a generated folder of plain-text documents
# (BENCHMARKS.md, "Documents"). Usage: bash benches/documents_import.sh BIN DIR [N]
# BIN: a release copkit (cargo build --release --no-default-features); DIR: a scratch folder.
# The documents are statements of 150-600 words from a fixed vocabulary with names, places
# and numbers; one in ten is written in Windows-1252 (accented words), so the encoding
# detector runs on them. Seeded: the same N gives the same files.
set -euo pipefail
BIN=${1:?copkit binary}
DIR=${2:?scratch folder}
N=${3:-10000}
rm -rf "$DIR/docs" "$DIR/bench.copkit"
mkdir -p "$DIR/docs"
python3 - "$DIR/docs" "$N" <<'PY'
import os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(21)
words = ("the a of to and in that was he she they at on with from by for van truck boat marina "
         "warehouse shipment cash meeting phone call night morning driver courier account "
         "transfer border harbour crates papers money delivery contact saw left arrived").split()
names = "Anna Ben Carl Dmitri Elena Farid Greta Hugo Ivanov Jana Kofi Lena Marco Nadia Omar".split()
places = "Rotterdam Antwerp Hamburg Calais Dover Marseille Genoa Gdansk Lyon Brussels".split()
accented = "café entrepôt déclaration quai côté près été garçon".split()
for i in range(n):
    sub = os.path.join(out, f"{i // 1000:02d}")
    os.makedirs(sub, exist_ok=True)
    latin = i % 10 == 0
    lines = []
    for _ in range(rng.randint(10, 40)):
        line = []
        for _ in range(rng.randint(10, 18)):
            r = rng.random()
            line.append(rng.choice(names) if r < 0.06 else rng.choice(places) if r < 0.1
                        else str(rng.randint(1, 9999)) if r < 0.13
                        else rng.choice(accented) if latin and r < 0.2 else rng.choice(words))
        lines.append(" ".join(line) + ".")
    data = ("\n".join(lines) + "\n").encode("cp1252" if latin else "utf-8")
    open(os.path.join(sub, f"statement-{i:05d}.txt"), "wb").write(data)
PY
du -sh "$DIR/docs"
"$BIN" new "$DIR/bench.copkit" --purpose bench >/dev/null
/usr/bin/time -f "import-docs: %e s wall, %U s user, %M KB peak" \
  "$BIN" import-docs "$DIR/bench.copkit" "$DIR/docs" --purpose bench | tail -1
for q in 'Ivanov' '"cash delivery"' 'entrep*' 'NEAR(Ivanov Rotterdam, 5)' 'truck NOT boat'; do
  /usr/bin/time -f "search $q: %e s wall, %U s user" "$BIN" search "$DIR/bench.copkit" "$q" --limit 20 --purpose bench | tail -1
done
ls -l "$DIR/bench.copkit"
