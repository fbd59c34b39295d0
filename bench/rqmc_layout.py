"""Why the default RQMC layout doubles nets only in d <= 8 (issue 8, item 14).

``monte_carlo(method="qmc")`` spends a budget of ``(8 + k) 2^m`` points either as 8 + k
equal scrambled Sobol' nets of ``2^m`` (scipy's ``qmc_quad`` layout) or as 8 nets, k of
them doubled to ``2^(m+1)``. The estimate is the mean of all points either way, so the
two differ only by the variance of a doubled net against two independent nets:
``Var(2^(m+1)-net) = Var(2^m-net) (1 + rho) / 2``, with ``rho`` the correlation of the
doubled net's two halves (each half is a scrambled ``2^m`` net). Doubling wins iff
``rho < 0``. ``rho`` is measured *paired* (both halves of the same net, over seeds), which
is precise even for the heavy-tailed errors of the corner peak, where comparing the RMS
errors of two layouts needs tens of thousands of seeds.

Tables: (1) ``g = 1 + rho`` per Genz family, dimension and net size (mean over
integrands, with a bootstrap standard error); (2) the direct comparison on the bench's
five corner_peak d = 10 integrands at 1e4 evaluations: RMS relative errors over many
seeds of the doubled layout, the equal layout and scipy's ``qmc_quad``, with bootstrap
95% intervals of the ratios.

Run: ``OMP_NUM_THREADS=1 python -m bench rqmc_layout [--quick]`` (about 10 min; quick:
a minute or two).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from bench._genz import FAMILIES, draw
from bench._harness import Table, set_threads, write_results


def halves(case, d, m, seeds, seed0):
    """Relative errors of the two halves of ``seeds`` scrambled nets of 2^(m+1) points."""
    from bayescalc.integrate.sampling import point_sets as samplers

    exact = case.exact
    first, second = np.empty(seeds), np.empty(seeds)
    for i in range(seeds):
        layout = samplers.plan("qmc", 2 ** (m + 1), d, seed0 + i, n_replicates=1)
        values = case(samplers.points(layout, layout.batches[0]))
        first[i] = values[: 2**m].mean() / exact - 1
        second[i] = values[2**m:].mean() / exact - 1
    return first, second


def gain(first, second):
    return 1 + np.sum(first * second) / (np.sum(first**2 + second**2) / 2)


def gain_table(dims, sizes, seeds, integrands):
    table = Table("g = 1 + rho: a doubled Sobol' net against two independent ones",
                  ["family", "d", "net 2^(m+1)", "g per integrand (+- bootstrap se)",
                   "mean g", "+- se", "doubling wins (mean g < 1)"])
    boot = np.random.default_rng(0)
    for family in FAMILIES:
        for d in dims:
            rng = np.random.default_rng(2027 + d)
            cases = [draw(family, d, rng) for _ in range(integrands)]
            for m in sizes:
                gs, ses = [], []
                for c, case in enumerate(cases):
                    a, b = halves(case, d, m, seeds, 10**6 * (c + 1))
                    gs.append(gain(a, b))
                    resampled = [gain(a[k], b[k]) for k in
                                 (boot.integers(0, seeds, seeds) for _ in range(200))]
                    ses.append(float(np.std(resampled)))
                mean = float(np.mean(gs))
                se = math.sqrt(sum(s * s for s in ses)) / len(ses)
                table.add(family, d, 2 ** (m + 1),
                          " ".join(f"{g:.2f}+-{s:.2f}" for g, s in zip(gs, ses, strict=True)),
                          mean, se, mean < 1)
    table.notes.append(f"{integrands} integrands per cell (Genz draws, rng 2027 + d), {seeds} "
                       "seeded nets each; g < 1: the doubled net has less variance than two "
                       "independent nets of half its size; the default layout doubles nets "
                       "only in d <= MAX_DOUBLED_DIM = 8")
    return table


def corner_peak_table(seeds, budget=10_000, family="corner_peak", d=10):
    """The bench's cell (its five integrands, drawn as rqmc_cells_table draws them)."""
    from scipy.integrate import qmc_quad
    from scipy.stats import qmc

    from bayescalc.integrate.sampling import point_sets as samplers

    rng = np.random.default_rng(2027)
    cases = []
    for b in (10_000, 100_000):
        for fam in FAMILIES:
            for dim in (6, 10):
                for _ in range(5):
                    case = draw(fam, dim, rng)
                    if (fam, dim, b) == (family, d, budget):
                        cases.append(case)
    per = 2 ** int(math.floor(math.log2(budget // 8)))
    sets = budget // per
    low, high = np.zeros(d), np.ones(d)

    def ours(case, seed, mixed):
        layout = (_doubled(budget, d, seed) if mixed else
                  samplers.plan("qmc", budget, d, seed, mixed=False))
        values = np.concatenate([case(samplers.points(layout, b)) for b in layout.batches])
        return values.mean()

    errors = {"doubled": [], "equal": [], "scipy": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in cases:
            exact = case.exact
            e = {k: np.empty(seeds) for k in errors}
            for s in range(seeds):
                e["doubled"][s] = ours(case, s, True) / exact - 1
                e["equal"][s] = ours(case, 50_000 + s, False) / exact - 1
                q = qmc_quad(case.scipy_form, low, high, n_estimates=sets, n_points=per,
                             qrng=qmc.Sobol(d, rng=10_000 + s))
                e["scipy"][s] = q.integral / exact - 1
            for k in errors:
                errors[k].append(e[k])
    boot = np.random.default_rng(1)

    def ratio(a, b, index=slice(None)):
        return math.exp(np.mean([0.5 * math.log(np.mean(x[index] ** 2) / np.mean(y[index] ** 2))
                                 for x, y in zip(errors[a], errors[b], strict=True)]))

    table = Table(f"{family} d = {d}, {budget} evaluations: RMS relative error ratios over "
                  f"{seeds} seeds", ["ratio", "geometric mean over the integrands",
                                     "bootstrap 95% interval", "per integrand (RMS a / RMS b)"])
    for a, b in (("doubled", "scipy"), ("equal", "scipy"), ("doubled", "equal")):
        draws = sorted(ratio(a, b, boot.integers(0, seeds, seeds)) for _ in range(400))
        per_case = " ".join(f"{math.sqrt(np.mean(x**2) / np.mean(y**2)):.2f}"
                            for x, y in zip(errors[a], errors[b], strict=True))
        table.add(f"{a} / {b}", ratio(a, b), f"[{draws[10]:.3f}, {draws[389]:.3f}]", per_case)
    table.notes.append(f"the bench's {len(cases)} integrands of the cell; doubled: 1 x "
                       f"{2 * per} + 7 x {per}; equal and scipy: {sets} x {per}; the "
                       "bootstrap resamples the seeds")
    return table


def _doubled(budget, d, seed):
    """The doubled layout whatever the dimension (the default only doubles in d <= 8)."""
    from bayescalc.integrate.sampling import point_sets as samplers

    saved = samplers.MAX_DOUBLED_DIM
    samplers.MAX_DOUBLED_DIM = d
    try:
        return samplers.plan("qmc", budget, d, seed)
    finally:
        samplers.MAX_DOUBLED_DIM = saved


def main(quick: bool = False) -> None:
    threads = set_threads(1)
    tables = [gain_table((6, 10) if quick else (3, 6, 8, 9, 10, 12), (10,) if quick else
                         (10, 13), 100 if quick else 200, 2 if quick else 3),
              corner_peak_table(100 if quick else 1000)]
    write_results("rqmc_layout", tables, threads=threads)


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
