#!/usr/bin/env bash
# GraphML and GEXF import at 10k, 20k, 50k and 100k nodes (Barabási–Albert graphs, m = 3,
# written by networkx), the whole `copkit import` process into a new case, beside
# python-igraph's Read_GraphML (and, unless NETWORKX=0, networkx's read_graphml / read_gexf)
# reading the same files, in the same run, alternating tool by tool. Prints the median and the
# 95th percentile (nearest rank) of RUNS wall-clock times per cell and the median CPU time
# (user + system), then every run as wall,cpu.
# Needs `pip install networkx python-igraph`.
#
#   bash benches/graph_import_scale.sh target/release/copkit /tmp/graphs 5
set -euo pipefail
bin=$(realpath "$1")
dir=$2
runs=${3:-5}
networkx=${NETWORKX:-1}
mkdir -p "$dir"
cd "$dir"

python3 - <<'PY'
import os
import networkx as nx
for n in [10000, 20000, 50000, 100000]:
    if not os.path.exists(f"ba{n}.graphml"):
        g = nx.barabasi_albert_graph(n, 3, seed=1)
        nx.write_graphml(g, f"ba{n}.graphml")
        nx.write_gexf(g, f"ba{n}.gexf")
PY

# "wall,cpu": elapsed seconds and user + system CPU seconds of the whole process.
wall() { /usr/bin/time -f "%e %U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%s,%.2f", $1, $2 + $3}'; }
stats() {
  python3 -c '
import math, sys
def summary(xs):
    xs = sorted(xs)
    n = len(xs)
    median = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    return median, xs[math.ceil(0.95 * n) - 1]
runs = [tuple(float(v) for v in x.split(",")) for x in sys.argv[1:]]
if not runs:
    print("-"); sys.exit()
m, p = summary([r[0] for r in runs])
c, _ = summary([r[1] for r in runs])
print(f"{m:.2f} s (p95 {p:.2f}; CPU {c:.2f} s)")' "$@"
}

for n in 10000 20000 50000 100000; do
  for fmt in graphml gexf; do
    ours=() ; igraph=() ; nx_times=()
    for _ in $(seq "$runs"); do
      rm -f case.copkit case.copkit-journal
      "$bin" new case.copkit --purpose bench >/dev/null
      ours+=("$(wall "$bin" import "ba$n.$fmt" --into case.copkit --purpose bench)")
      if [ "$fmt" = graphml ]; then
        igraph+=("$(wall python3 -c "import igraph; igraph.Graph.Read_GraphML('ba$n.graphml')")")
      fi
      if [ "$networkx" = 1 ]; then
        nx_times+=("$(wall python3 -c "import networkx; networkx.read_$fmt('ba$n.$fmt')")")
      fi
    done
    echo "$n $fmt | copkit $(stats "${ours[@]}") | igraph Read_GraphML $(stats "${igraph[@]}") | networkx read_$fmt $(stats "${nx_times[@]}") | all: copkit ${ours[*]}; igraph ${igraph[*]:-}; networkx ${nx_times[*]:-}"
  done
done
