#!/usr/bin/env python3
"""Reference values for the analysis tests, computed with networkx.

Writes tests/fixtures/graphs/{karate,lesmis,florentine}.json: the graph (nodes, edges with
weights) and what networkx computes for it. Run from the repository root:

    pip install networkx==3.6.1 igraph==1.0.0
    python3 benches/reference/make_graph_fixtures.py

PageRank uses networkx's pure-Python implementation (no numpy needed). Iterative measures are computed to a tolerance far below the 1e-6 the Rust tests allow.
"""
import json
import random
import networkx as nx
try:
    import igraph as ig  # pip install igraph==1.0.0 (Leiden reference values)
except ImportError:
    ig = None
from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

GRAPHS = {
    "karate": nx.karate_club_graph,
    "lesmis": nx.les_miserables_graph,
    "florentine": nx.florentine_families_graph,
}


def main():
    for name, make in GRAPHS.items():
        g = make()
        nodes = [str(n) for n in g.nodes()]
        weighted = name == "lesmis"
        edges = [
            [str(u), str(v), float(d.get("weight", 1.0)) if weighted else 1.0]
            for u, v, d in g.edges(data=True)
        ]
        key = lambda d: {str(k): float(v) for k, v in d.items()}
        # Karate's edges carry a 'weight' attribute too; the tests treat it as unweighted.
        h = nx.Graph()
        h.add_nodes_from(g.nodes())
        h.add_weighted_edges_from((u, v, w) for (u, v, w) in
                                  [(a, b, d.get("weight", 1.0) if weighted else 1.0)
                                   for a, b, d in g.edges(data=True)])
        expected = {
            "degree": key(dict(h.degree())),
            "betweenness": key(nx.betweenness_centrality(h, normalized=True)),
            "closeness": key(nx.closeness_centrality(h)),
            "harmonic": key(nx.harmonic_centrality(h)),
            "eigenvector": key(nx.eigenvector_centrality(h, max_iter=100000, tol=1e-15)),
            "pagerank": key(_pagerank_python(h, alpha=0.85, tol=1e-15, max_iter=100000, weight=None)),
            "kcore": key(nx.core_number(h)),
            "components": len(list(nx.connected_components(h))),
        }
        if weighted:
            expected["pagerank_weighted"] = key(
                _pagerank_python(h, alpha=0.85, tol=1e-15, max_iter=100000, weight="weight"))
            # Weights as distances, networkx's convention.
            expected["betweenness_weighted"] = key(
                nx.betweenness_centrality(h, normalized=True, weight="weight"))
        louvain = nx.community.louvain_communities(h, seed=42, weight=None)
        expected["louvain_modularity_networkx_seed42"] = nx.community.modularity(h, louvain, weight=None)
        if ig is not None:
            # Leiden is not in networkx itself (only a backend API); python-igraph has it.
            order = list(h.nodes())
            pos = {n: i for i, n in enumerate(order)}
            gi = ig.Graph(n=len(order), edges=[(pos[u], pos[v]) for u, v in h.edges()])
            best = None
            for s in range(10):
                random.seed(s)
                ig.set_random_number_generator(random)
                c = gi.community_leiden(objective_function="modularity", resolution=1.0,
                                        n_iterations=-1)
                q = gi.modularity(c.membership)
                best = q if best is None else max(best, q)
            expected["leiden_modularity_igraph_best_of_10"] = best
        out = {
            "graph": name,
            "library": f"networkx {nx.__version__}"
                       + (f", python-igraph {ig.__version__}" if ig is not None else ""),
            "nodes": nodes,
            "edges": edges,
            "expected": expected,
        }
        with open(f"tests/fixtures/graphs/{name}.json", "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)
        print(name, len(nodes), len(edges))


if __name__ == "__main__":
    main()
