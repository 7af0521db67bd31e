#!/usr/bin/env python3
"""Times rustworkx on the Barabási–Albert edge lists from ba_graph.py, for BENCHMARKS.md
(the same measures as igraph_bench.py; rustworkx has no Louvain).

    python3 benches/rustworkx_bench.py target/ba-10k.txt target/ba-100k.txt
"""
import sys
import time
import rustworkx as rx


def load(path):
    edges = [tuple(map(int, line.split())) for line in open(path)]
    n = 1 + max(max(e) for e in edges)
    g = rx.PyGraph(multigraph=False)
    g.add_nodes_from(range(n))
    g.add_edges_from_no_data(edges)
    return g


def timed(label, f):
    t = time.perf_counter()
    f()
    print(f"{label}: {time.perf_counter() - t:.3f} s")


small, large = load(sys.argv[1]), load(sys.argv[2])
print(f"rustworkx {rx.__version__}")
# PageRank is defined on directed graphs in rustworkx: each undirected edge both ways.
large_d = large.to_directed()
timed("pagerank 100k", lambda: rx.pagerank(large_d, alpha=0.85, tol=1e-10, max_iter=1000))
timed("components 100k", lambda: rx.connected_components(large))
timed("betweenness exact 10k", lambda: rx.betweenness_centrality(small))
