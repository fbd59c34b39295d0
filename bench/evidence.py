"""Evidence (log Z) side by side: bayescalc's tempering estimators and its other evidence
methods against dynesty (default, and with 4x the live points), nautilus and pocoMC.

For each problem (exact log Z known, see bench/_evidence_problems.py) and method, over
seeded repeats: the median |log Z - exact| in nats, the median reported error bar, how
many repeats the bar covers at +-2 errors, the median likelihood and gradient evaluations,
the wall-time ratio to bayescalc's SMC on the same problem (medians, same run, 1 thread)
and how many runs reported success. nautilus and pocoMC take 30-60 s a run here: they run
with ``--slow-peers`` (or BAYESCALC_BENCH_SLOW_PEERS=1), on the non-Gaussian problems
only; ``--only-slow-peers`` runs just them (to bench/results/evidence_slow_peers.md), so
that the two halves can run side by side.

Run: ``OMP_NUM_THREADS=1 python -m bench evidence [--quick]`` or
``python -m bench.evidence [--quick] [--slow-peers] [--methods=auto,smc]
[--problems=funnel]`` (the filters keep rows whose names contain one of the strings and
write ``bench/results/evidence_partial.md``, or ``--out=NAME``: ``NAME.md``;
``--dynesty-repeats=1`` runs dynesty's default once instead of twice).
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
import warnings

import numpy as np

from bench._harness import Table, set_threads, write_results

DYNESTY_MAXCALL = 200_000  # dynesty runs on the hardest problems are capped here


def _tempering(name, **kw):
    from bayescalc.posterior import tempering

    fn = getattr(tempering, f"{name}_evidence")

    def run(problem, seed):
        r = fn(problem.model, seed=seed, **kw)
        return r.log_z, r.error, r.n_evals, r.n_grad_evals, r.success
    return run


def _bc_evidence(method):
    def run(problem, seed):
        from bayescalc.posterior import evidence

        r = evidence(problem.model, method=method, seed=seed)
        return r.log_z, r.error, r.n_evals, r.n_grad_evals, r.success
    return run


def _dynesty(nlive):
    def run(problem, seed):
        import dynesty

        loglike = problem.loglike
        sampler = dynesty.NestedSampler(
            lambda t: float(loglike(t[None])[0]), lambda u: problem.prior_transform(u),
            problem.dim, nlive=nlive, rstate=np.random.default_rng(seed))
        sampler.run_nested(print_progress=False, maxcall=DYNESTY_MAXCALL)
        res = sampler.results
        calls = int(np.sum(res.ncall))
        return (float(res.logz[-1]), float(res.logzerr[-1]), calls, 0,
                calls < DYNESTY_MAXCALL)
    return run


def _nautilus(problem, seed):
    from nautilus import Sampler

    sampler = Sampler(problem.prior_transform, problem.loglike, n_dim=problem.dim,
                      vectorized=True, seed=seed)
    sampler.run(verbose=False)
    n_eff = float(sampler.n_eff)
    return (float(sampler.log_z), 1.0 / math.sqrt(n_eff), int(sampler.n_like), 0, True)


def _pocomc(problem, seed):
    import pocomc

    sampler = pocomc.Sampler(prior=pocomc.Prior(problem.scipy_prior),
                             likelihood=problem.loglike, vectorize=True, random_state=seed)
    sampler.run(progress=False)
    log_z, log_z_err = sampler.evidence()
    return float(log_z), float(log_z_err), int(sampler.calls), 0, True


SLOW_PROBLEMS = ("banana", "mixture", "funnel d=10", "shells d=2", "shells d=10")


def methods(slow_peers: bool, only_slow: bool = False) -> dict:
    if only_slow:
        return {"nautilus": _nautilus, "pocoMC": _pocomc}
    out = {
        "bayescalc smc": _tempering("smc"),
        "bayescalc smc, Laplace ref.": _tempering("smc", reference="laplace"),
        "bayescalc ais": _tempering("ais"),
        "bayescalc thermodynamic": _tempering("thermodynamic"),
        "bayescalc stepping-stone": _tempering("stepping_stone"),
    }
    try:  # the evidence dispatcher, where it has been merged
        from bayescalc.posterior import (
            METHODS,
            evidence,  # noqa: F401
        )

        for name in ("laplace", "importance", "bridge", "conditional", "flow", "auto"):
            if name in METHODS or name == "auto":
                out[f"bayescalc {name}"] = _bc_evidence(name)
    except ImportError:
        pass
    out["dynesty (500 live)"] = _dynesty(500)
    out["dynesty (2000 live)"] = _dynesty(2000)
    if slow_peers:
        out["nautilus"] = _nautilus
        out["pocoMC"] = _pocomc
    return out


def repeats_for(name: str, quick: bool) -> int:
    if quick:
        return 1
    if name in ("dynesty (2000 live)", "nautilus", "pocoMC"):
        return 1
    if name == "dynesty (500 live)":
        return int((_flag("--dynesty-repeats") or [2])[0])
    return 3 if name in ("bayescalc smc", "bayescalc smc, Laplace ref.", "bayescalc auto",
                         "bayescalc conditional") else 5 if name == "bayescalc flow" else 2


def _selected(name: str, wanted) -> bool:
    return not wanted or any(w.strip() and w.strip() in name for w in wanted)


def run_all(quick: bool, slow_peers: bool, only_slow: bool = False, methods_filter=None,
            problems_filter=None):
    from bench._evidence_problems import all_problems

    table = Table("log Z against the exact value: medians over seeded repeats",
                  ["problem", "method", "median abs. error (nats)", "median error bar",
                   "bar covers (2 errors)", "likelihood evals", "gradient evals",
                   "time vs smc", "success"])
    summary = {}
    for problem in all_problems(quick):
        base_time = None
        if only_slow and problem.name not in SLOW_PROBLEMS:
            continue
        if not _selected(problem.name, problems_filter):
            continue
        for name, fn in methods(slow_peers, only_slow).items():
            if not _selected(name, methods_filter):
                continue
            if name in ("nautilus", "pocoMC") and problem.name not in SLOW_PROBLEMS:
                continue
            rows = []
            for seed in range(repeats_for(name, quick)):
                start = time.perf_counter()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        log_z, err, n, ng, ok = fn(problem, seed)
                except Exception as exc:  # a method that does not apply: say so
                    print(f"{problem.name} / {name}: {type(exc).__name__}: {exc}", flush=True)
                    rows = None
                    break
                rows.append((abs(log_z - problem.log_z), err, n, ng, ok,
                             time.perf_counter() - start))
            if not rows:
                table.add(problem.name, name, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "no")
                continue
            errors, bars, n, ng, ok, seconds = zip(*rows, strict=True)
            t = statistics.median(seconds)
            base_time = t if name == "bayescalc smc" else base_time
            covers = sum(e <= 2 * b for e, b in zip(errors, bars, strict=True))
            table.add(problem.name, name, float(statistics.median(errors)),
                      float(statistics.median(bars)), f"{covers}/{len(rows)}",
                      int(statistics.median(n)), int(statistics.median(ng)),
                      float(t / base_time) if base_time else float("nan"),
                      f"{sum(ok)}/{len(rows)}")
            summary.setdefault(name, []).append((problem.name, statistics.median(errors),
                                                 statistics.median(n)))
            print(f"{problem.name:22s} {name:30s} |err| {statistics.median(errors):.4f} "
                  f"bar {statistics.median(bars):.4f} covers {covers}/{len(rows)} "
                  f"n {int(statistics.median(n))} t {t:.1f}s", flush=True)
    return table, summary


def main(quick: bool = False, slow_peers: bool | None = None, only_slow: bool = False,
         methods_filter=None, problems_filter=None, name: str = "evidence") -> None:
    if slow_peers is None:
        slow_peers = os.environ.get("BAYESCALC_BENCH_SLOW_PEERS", "") not in ("", "0")
    threads = set_threads(1)
    start = time.perf_counter()
    table, summary = run_all(quick, slow_peers, only_slow, methods_filter, problems_filter)
    if only_slow:
        table.title = "nautilus and pocoMC (--only-slow-peers: defaults, one seed each)"
        write_results("evidence_slow_peers", [table], threads=threads)
        return
    table.notes += [
        "exact log Z: closed forms (linear regression, beta-binomial, mixture, correlated "
        "Gaussian) or 1-D adaptive quadrature to ~1e-12 (banana, funnel, shells)",
        "bayescalc tempering: defaults (2048 particles in 8 independent runs, CESS 0.7, "
        "preconditioned HMC); the error bar is the estimator's own (see "
        "docs/posterior_tempering.md); gradient evaluations are counted separately",
        f"dynesty: NestedSampler defaults (multi-ellipsoid bound, rwalk/unif), "
        f"maxcall={DYNESTY_MAXCALL:,} (success 'no' = the cap was hit); its bar is logzerr",
        "nautilus: defaults (2000 live), its bar 1/sqrt(n_eff); pocoMC: defaults, its bar "
        "from Sampler.evidence()" + ("" if slow_peers else " (not run: --slow-peers)"),
        f"time vs smc: median wall time over the repeats / bayescalc smc's; "
        f"{threads} thread; whole run {time.perf_counter() - start:.0f} s",
    ]
    write_results(name, [table], threads=threads)


def _flag(prefix):
    for arg in sys.argv[1:]:
        if arg.startswith(prefix + "="):
            return arg.split("=", 1)[1].split(",")
    return None


if __name__ == "__main__":
    # --methods=auto,smc and --problems=funnel,shells keep the rows whose names contain
    # one of the given strings (a partial run writes bench/results/evidence_partial.md)
    wanted_methods, wanted_problems = _flag("--methods"), _flag("--problems")
    main(quick="--quick" in sys.argv, slow_peers="--slow-peers" in sys.argv or None,
         only_slow="--only-slow-peers" in sys.argv, methods_filter=wanted_methods,
         problems_filter=wanted_problems,
         name=(_flag("--out") or ["evidence_partial" if wanted_methods or wanted_problems
                                  else "evidence"])[0])
