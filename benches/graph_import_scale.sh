#!/usr/bin/env bash
# GraphML and GEXF import at 10k, 20k, 50k and 100k nodes (Barabási–Albert graphs, m = 3,
# written by networkx), the whole `copkit import` process into a new case, beside
# python-igraph's Read_GraphML and networkx's read_graphml / read_gexf reading the same files,
# in the same run. Needs `pip install networkx python-igraph`.
#
#   bash benches/graph_import_scale.sh target/release/copkit /tmp/graphs 3
set -euo pipefail
bin=$(realpath "$1")
dir=$2
runs=${3:-3}
mkdir -p "$dir"
cd "$dir"

python3 - <<'EOF'
import os
import networkx as nx
for n in [10000, 20000, 50000, 100000]:
    if not os.path.exists(f"ba{n}.graphml"):
        g = nx.barabasi_albert_graph(n, 3, seed=1)
        nx.write_graphml(g, f"ba{n}.graphml")
        nx.write_gexf(g, f"ba{n}.gexf")
EOF

wall() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }

for n in 10000 20000 50000 100000; do
  for fmt in graphml gexf; do
    ours=()
    for _ in $(seq "$runs"); do
      rm -f "case.copkit"
      "$bin" new case.copkit --purpose bench >/dev/null
      ours+=("$(wall "$bin" import "ba$n.$fmt" --into case.copkit --purpose bench)")
    done
    if [ "$fmt" = graphml ]; then
      peer=igraph
      code="import igraph; igraph.Graph.Read_GraphML('ba$n.graphml')"
    else
      peer=networkx
      code="import networkx; networkx.read_gexf('ba$n.gexf')"
    fi
    theirs=()
    for _ in $(seq "$runs"); do
      theirs+=("$(wall python3 -c "$code")")
    done
    nx_graphml=()
    if [ "$fmt" = graphml ]; then
      for _ in $(seq "$runs"); do
        nx_graphml+=("$(wall python3 -c "import networkx; networkx.read_graphml('ba$n.graphml')")")
      done
    fi
    echo "$n $fmt copkit: ${ours[*]} s | $peer: ${theirs[*]} s | networkx graphml: ${nx_graphml[*]:-} s"
  done
done
