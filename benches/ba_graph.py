#!/usr/bin/env python3
"""Writes seeded Barabási–Albert graphs (m=3) as edge lists for the analysis benchmarks.

    python3 benches/ba_graph.py 10000 target/ba-10k.txt
    python3 benches/ba_graph.py 100000 target/ba-100k.txt

Uses networkx.barabasi_albert_graph(n, 3, seed=42); one "u v" line per edge.
"""
import sys
import networkx as nx

n = int(sys.argv[1])
out = sys.argv[2]
g = nx.barabasi_albert_graph(n, 3, seed=42)
with open(out, "w") as f:
    for u, v in g.edges():
        f.write(f"{u} {v}\n")
print(f"{out}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")
