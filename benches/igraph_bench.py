#!/usr/bin/env python3
"""Times python-igraph on the Barabási–Albert edge lists from ba_graph.py, for BENCHMARKS.md.

    python3 benches/igraph_bench.py target/ba-10k.txt target/ba-100k.txt
"""
import sys
import time
import igraph as ig


def load(path):
    edges = [tuple(map(int, line.split())) for line in open(path)]
    n = 1 + max(max(e) for e in edges)
    return ig.Graph(n=n, edges=edges)


def timed(label, f):
    t = time.perf_counter()
    f()
    print(f"{label}: {time.perf_counter() - t:.3f} s")


small, large = load(sys.argv[1]), load(sys.argv[2])
print(f"igraph {ig.__version__}")
timed("pagerank 100k", lambda: large.pagerank(damping=0.85))
timed("components 100k", lambda: large.connected_components(mode="weak"))
timed("betweenness exact 10k", lambda: small.betweenness())
timed("louvain 100k", lambda: large.community_multilevel())
