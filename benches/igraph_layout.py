#!/usr/bin/env python3
"""Times python-igraph's force layouts on the Barabási–Albert edge lists from ba_graph.py, to
compare with `copkit bench-layout` (BENCHMARKS.md).

    python3 benches/igraph_layout.py target/ba-10k.txt target/ba-100k.txt

Fruchterman–Reingold (igraph uses its grid variant above 1000 nodes) is timed at two
iteration counts; the difference gives the time of one iteration without the set-up.
DrL runs its own fixed schedule, so only its total time is reported.
"""
import sys
import time
import igraph as ig


def load(path):
    edges = [tuple(map(int, line.split())) for line in open(path)]
    n = 1 + max(max(e) for e in edges)
    return ig.Graph(n=n, edges=edges)


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


print(f"igraph {ig.__version__}")
for path in sys.argv[1:]:
    g = load(path)
    label = f"{path} ({g.vcount()} nodes, {g.ecount()} edges)"
    lo, hi = 5, 25
    t_lo = timed(lambda: g.layout_fruchterman_reingold(niter=lo))
    t_hi = timed(lambda: g.layout_fruchterman_reingold(niter=hi))
    per = (t_hi - t_lo) / (hi - lo)
    print(
        f"{label}: fruchterman_reingold niter={lo} {t_lo:.2f} s, niter={hi} {t_hi:.2f} s, "
        f"{per * 1e3:.1f} ms/iteration = {1 / per:.2f} iterations/s"
    )
    t = timed(lambda: g.layout_drl())
    print(f"{label}: drl (default schedule) {t:.2f} s total")
