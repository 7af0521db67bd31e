#!/usr/bin/env bash
# GML, Pajek and node-link JSON import at 10k and 100k nodes (Barabási–Albert graphs, m = 3,
# written by networkx), the whole `copkit import` process into a new case, beside the peers
# reading the same files in a fresh Python process in the same run: python-igraph's Read_GML
# and Read_Pajek, networkx's read_gml and node_link_graph. Prints the median and the slowest
# (the p95 of so few runs) of each. Needs `pip install networkx python-igraph`.
#
#   bash benches/interchange_scale.sh target/release/copkit /tmp/graphs 5
set -euo pipefail
bin=$(realpath "$1")
dir=$2
runs=${3:-5}
mkdir -p "$dir"
cd "$dir"

python3 - <<'PY'
import json, os
import networkx as nx
for n in [10000, 100000]:
    if not os.path.exists(f"ba{n}.gml"):
        g = nx.barabasi_albert_graph(n, 3, seed=1)
        nx.write_gml(g, f"ba{n}.gml")
        nx.write_pajek(g, f"ba{n}.net")
        with open(f"ba{n}.json", "w") as f:
            json.dump(nx.node_link_data(g, edges="edges"), f)
PY

wall() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "median %.2f s, max %.2f s", m, a[NR]}'; }

for n in 10000 100000; do
  for fmt in gml net json; do
    ours=()
    for _ in $(seq "$runs"); do
      rm -f case.copkit
      "$bin" new case.copkit --purpose bench >/dev/null
      ours+=("$(wall "$bin" import "ba$n.$fmt" --into case.copkit --purpose bench)")
    done
    case $fmt in
      gml) peers=("igraph|import igraph; igraph.Graph.Read_GML('ba$n.gml')" "networkx|import networkx; networkx.read_gml('ba$n.gml')") ;;
      net) peers=("igraph|import igraph; igraph.Graph.Read_Pajek('ba$n.net')" "networkx|import networkx; networkx.read_pajek('ba$n.net')") ;;
      json) peers=("networkx|import json, networkx; networkx.node_link_graph(json.load(open('ba$n.json')), edges='edges')") ;;
    esac
    line="$n $fmt copkit: $(stats "${ours[@]}")"
    for p in "${peers[@]}"; do
      name=${p%%|*}
      code=${p#*|}
      theirs=()
      for _ in $(seq "$runs"); do
        theirs+=("$(wall python3 -c "$code")")
      done
      line="$line | $name: $(stats "${theirs[@]}")"
    done
    echo "$line"
  done
done
