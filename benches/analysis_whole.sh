#!/usr/bin/env bash
# Whole-process analysis timings (issue 25): `copkit analyze CASE COMPONENT` on a case that
# holds a Barabási–Albert graph (m = 3), opening the case and storing the run included, beside
# python-igraph and NetworKit loading the same edge list and computing the same thing in a
# fresh Python process, in the same run on the same machine. Prints, per measure, the median
# and the slowest of RUNS runs (the p95 of so few runs) and the peak resident memory of the
# median run. Needs `pip install python-igraph networkit`.
#
#   bash benches/analysis_whole.sh target/release/copkit /tmp/analysis 5
#
# The graphs are written once into DIR by python-igraph's Barabási generator (seeded): an
# edge list `baN.txt` for the peers and the same graph as Pajek `baN.net`, imported into
# `baN.copkit` once (not timed here; the import is measured in the interchange benchmarks).
set -euo pipefail
bin=$(realpath "$1")
dir=$2
runs=${3:-5}
mkdir -p "$dir"
cd "$dir"

python3 - <<'PY'
import os, random, igraph
random.seed(1)
for n in [10000, 100000, 1000000]:
    if os.path.exists(f"ba{n}.net"):
        continue
    g = igraph.Graph.Barabasi(n, 3)
    with open(f"ba{n}.txt", "w") as f:
        for a, b in g.get_edgelist():
            f.write(f"{a} {b}\n")
    with open(f"ba{n}.net", "w") as f:
        f.write(f"*Vertices {n}\n")
        for v in range(n):
            f.write(f'{v + 1} "{v}"\n')
        f.write("*Edges\n")
        for a, b in g.get_edgelist():
            f.write(f"{a + 1} {b + 1}\n")
PY
for n in 10000 100000 1000000; do
  if [ ! -f "ba$n.copkit" ]; then
    "$bin" new "ba$n.copkit" --purpose bench >/dev/null
    "$bin" import "ba$n.net" --into "ba$n.copkit" --purpose bench >/dev/null
  fi
done

# "seconds max_rss_kb" of one run of a command.
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
# Median and max of the seconds, and the memory of the median run.
stats() {
  printf '%s\n' "$@" | sort -n | awk '{t[NR]=$1; m[NR]=$2} END {
    i=int((NR+1)/2); printf "median %.2f s, max %.2f s, %.0f MB", t[i], t[NR], m[i]/1024 }'
}

ours() { # case component params...
  local case=$1 comp=$2
  shift 2
  local p=()
  for kv in "$@"; do p+=(--param "$kv"); done
  # --out refuses an existing file: each run writes a fresh one, removed after.
  local r=()
  for i in $(seq "$runs"); do
    rm -f "out.$i.csv"
    r+=("$(measure "$bin" analyze "$case" "$comp" "${p[@]}" --purpose bench --out "out.$i.csv")")
    rm -f "out.$i.csv"
  done
  stats "${r[@]}"
}

peer() { # python code
  local r=()
  for _ in $(seq "$runs"); do
    r+=("$(measure python3 -c "$1")")
  done
  stats "${r[@]}"
}

ig="import igraph; g = igraph.Graph.Read_Edgelist"
nk="import networkit as nk; nk.setNumberOfThreads(2); g = nk.readGraph"
nkr() { echo "$nk('ba$1.txt', nk.Format.EdgeListSpaceZero); $2"; }

row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
echo "| measure | copkit | python-igraph | NetworKit |"
echo "|---|---|---|---|"
row "open + degree, 100k" "$(ours ba100000.copkit degree)" \
  "$(peer "$ig('ba100000.txt', directed=False); g.degree()")" \
  "$(peer "$(nkr 100000 'nk.centrality.DegreeCentrality(g).run()')")"
row "PageRank, 100k" "$(ours ba100000.copkit pagerank)" \
  "$(peer "$ig('ba100000.txt', directed=False); g.pagerank()")" \
  "$(peer "$(nkr 100000 'nk.centrality.PageRank(g, 0.85, 1e-10).run()')")"
row "exact betweenness, 10k" "$(ours ba10000.copkit betweenness)" \
  "$(peer "$ig('ba10000.txt', directed=False); g.betweenness()")" \
  "$(peer "$(nkr 10000 'nk.centrality.Betweenness(g, True).run()')")"
row "sampled betweenness (256 sources), 100k" "$(ours ba100000.copkit betweenness samples=256)" \
  "$(peer "import random; $ig('ba100000.txt', directed=False); random.seed(1); s = random.sample(range(g.vcount()), 256); g.betweenness(sources=s)")" \
  "$(peer "$(nkr 100000 'nk.centrality.EstimateBetweenness(g, 256, True, True).run()')")"
row "closeness, 10k" "$(ours ba10000.copkit closeness)" \
  "$(peer "$ig('ba10000.txt', directed=False); g.closeness()")" \
  "$(peer "$(nkr 10000 'nk.centrality.Closeness(g, False, nk.centrality.ClosenessVariant.Generalized).run()')")"
row "Leiden, 100k" "$(ours ba100000.copkit leiden)" \
  "$(peer "$ig('ba100000.txt', directed=False); g.community_leiden(objective_function='modularity')")" \
  "$(peer "$(nkr 100000 'nk.community.ParallelLeiden(g).run()')")"
row "Louvain, 100k" "$(ours ba100000.copkit louvain)" \
  "$(peer "$ig('ba100000.txt', directed=False); g.community_multilevel()")" \
  "$(peer "$(nkr 100000 'nk.community.PLM(g).run()')")"
row "weak components, 1M" "$(ours ba1000000.copkit components)" \
  "$(peer "$ig('ba1000000.txt', directed=False); g.connected_components()")" \
  "$(peer "$(nkr 1000000 'nk.components.ConnectedComponents(g).run()')")"
