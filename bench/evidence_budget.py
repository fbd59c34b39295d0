"""log Z at the peers' budgets: bayescalc's quadrature given exactly as many likelihood
evaluations as nautilus, pocoMC and dynesty spent on the same problem.

The main evidence table compares each method at its own default cost. Issue 10 asks for
accuracy *at equal likelihood evaluations*; for the problems with d <= 3 this table runs
``evidence(model, method="quadrature", max_evals=N)`` with ``N`` each peer's evaluation
count, read from ``bench/results/evidence_slow_peers.md`` (nautilus, pocoMC) and
``bench/results/evidence.md`` (dynesty's default). The quadrature is deterministic (the
seed only draws the mode search's extra starts).

Run: ``OMP_NUM_THREADS=1 python -m bench evidence_budget`` (about 10 s).
"""

from __future__ import annotations

import re
import time
import warnings

from bench._harness import RESULTS, Table, set_threads, write_results

PROBLEMS = ("banana", "mixture", "shells d=2")
PEERS = {"nautilus": "evidence_slow_peers.md", "pocoMC": "evidence_slow_peers.md",
         "dynesty (500 live)": "evidence.md"}


def peer_rows() -> dict:
    """``{(problem, peer): (abs. error, bar, evaluations)}`` from the saved results."""
    rows = {}
    for peer, file in PEERS.items():
        path = RESULTS / file
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 6 and cells[0] in PROBLEMS and cells[1] == peer:
                n = cells[5]
                if re.fullmatch(r"[0-9.e+-]+", cells[2]) and re.fullmatch(r"[0-9]+", n):
                    rows[cells[0], peer] = (float(cells[2]), float(cells[3]), int(n))
    return rows


def main(quick: bool = False) -> None:
    from bayescalc.posterior import evidence
    from bench._evidence_problems import all_problems

    threads = set_threads(1)
    problems = {p.name: p for p in all_problems(False) if p.name in PROBLEMS}
    table = Table("bayescalc quadrature at each peer's evaluation count (d <= 3)",
                  ["problem", "peer", "peer abs. error", "peer bar", "evaluations",
                   "bayescalc abs. error", "bayescalc bar", "bar covers", "bayescalc evals",
                   "bayescalc success", "bayescalc time (s)"])
    start = time.perf_counter()
    for (name, peer), (err, bar, n) in sorted(peer_rows().items()):
        problem = problems[name]
        t0 = time.perf_counter()
        budget = n
        for _ in range(3):  # max_evals counts the rules' points: leave room for the rest
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = evidence(problem.model, method="quadrature", tol=5e-3, max_evals=budget,
                             seed=0)
            if r.n_evals <= n:
                break
            budget -= r.n_evals - n + 64
        seconds = time.perf_counter() - t0
        delta = abs(r.log_z - problem.log_z)
        table.add(name, peer, err, bar, n, float(delta), float(r.error),
                  bool(delta <= 2 * r.error), int(r.n_evals), bool(r.success), float(seconds))
        print(f"{name:12s} {peer:20s} peer {err:.4f} at {n}: bayescalc {delta:.2e} "
              f"bar {r.error:.2e} n {r.n_evals} {r.success}", flush=True)
    table.notes += [
        "peers: their rows of the main evidence table (defaults; nautilus and pocoMC one "
        "seed, dynesty's default the median of its repeats)",
        "bayescalc: evidence(method='quadrature', tol=5e-3, max_evals=M) with M lowered "
        "until all its evaluations (the mode search included) are at most the peer's "
        "count; an unconverged run reports success=False with its own bar",
        f"{threads} thread; whole run {time.perf_counter() - start:.0f} s",
    ]
    write_results("evidence_budget", [table], threads=threads)


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
