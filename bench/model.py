"""Model construction costs: Pyro vectorized over particles vs a per-particle loop, and
the memory of a chunked 1e5-observation likelihood.

1. ``Model.from_pyro`` on a Pyro linear regression (d = 5, N = 100): ``log_joint`` and
   ``log_joint_and_grad`` at n particles, vectorized (one trace inside a particle plate)
   against the per-particle loop the Model falls back to for non-broadcasting models
   (the loop is timed on at most 200 particles and scaled per particle). Also against
   the hand-written torch Model (``bayescalc.models.linear_regression``).
2. ``Model.from_torch`` with 1e5 observations at 4000 particles: the peak resident
   memory growth during one ``log_likelihood`` call (a fresh subprocess per setting;
   Linux: the peak VmHWM is reset through /proc/self/clear_refs just before the call),
   for several ``max_chunk_elements``, against the unchunked size n x N x 8 bytes.

Run: ``OMP_NUM_THREADS=1 python -m bench model [--quick]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import torch

from bench._harness import Table, median_time, set_threads, write_results

F64 = torch.float64


def _pyro_model(X, y):
    import pyro
    import pyro.distributions as dist

    beta = pyro.sample("beta", dist.Normal(torch.zeros(X.shape[1], dtype=F64), 1.0)
                       .to_event(1))
    with pyro.plate("data", X.shape[0]):
        pyro.sample("y", dist.Normal((X * beta).sum(-1), 1.0), obs=y)


def pyro_speed(quick: bool) -> Table:
    from bayescalc import Model, models

    ref = models.linear_regression(d=5, n=100, seed=0)
    m = Model.from_pyro(_pyro_model, ref.X, ref.y)
    density = m._log_prior_and_likelihood
    table = Table("Model.from_pyro: vectorized over particles vs a per-particle loop "
                  "(linear regression, d = 5, N = 100)",
                  ["particles", "call", "vectorized (s)", "loop (s)", "speed-up",
                   "hand-written torch (s)"])
    sizes = [10, 100, 1000] if quick else [10, 100, 1000, 10000]
    for n in sizes:
        z = ref.sample_prior(n, seed=1)
        for call in ("log_joint", "log_joint_and_grad"):
            density.vectorized = True
            f_m, f_ref, k = getattr(m, call), getattr(ref, call), min(n, 200)
            vec = median_time(lambda f=f_m, z=z: f(z), repeats=3)
            hand = median_time(lambda f=f_ref, z=z: f(z), repeats=3)
            density.vectorized = False
            loop = median_time(lambda f=f_m, z=z[:k]: f(z), repeats=1) * n / k
            density.vectorized = True
            table.add(n, call, vec, loop, loop / vec, hand)
    table.notes.append("loop: timed on min(n, 200) particles, scaled per particle; "
                       "medians of repeats in the same run")
    return table


_MEMORY = textwrap.dedent("""
    import json, sys, torch
    torch.set_num_threads(1)
    from torch.distributions import Normal
    from bayescalc import Model
    n_obs, n, bound = 100_000, 4000, int(sys.argv[1])
    y = torch.randn(n_obs, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    m = Model.from_torch(Normal(torch.zeros(1, dtype=torch.float64), 10.0),
                         lambda th, d: Normal(th[:, :1], 1.0), y, max_chunk_elements=bound)
    z = 0.01 * torch.randn(n, 1, dtype=torch.float64)
    Model.from_torch(Normal(torch.zeros(1, dtype=torch.float64), 10.0),
                     lambda th, d: Normal(th[:, :1], 1.0), y[:10]).log_likelihood(z[:2])
    def status(key):  # kB
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1])
    open("/proc/self/clear_refs", "w").write("5")   # reset the peak (VmHWM) to now
    before = status("VmRSS:")
    ll = m.log_likelihood(z)
    after = status("VmHWM:")
    print(json.dumps({"growth_mib": (after - before) / 1024, "max_ll": float(ll.max())}))
""")


def memory(quick: bool) -> Table:
    table = Table("Model.from_torch: peak memory of one log_likelihood call, N = 1e5 "
                  "observations, n = 4000 particles",
                  ["max_chunk_elements", "bound (MiB, one float64 chunk)",
                   "peak RSS growth (MiB)", "max log-likelihood"])
    bounds = [2 ** 20, 2 ** 22] if quick else [2 ** 18, 2 ** 20, 2 ** 22, 2 ** 24]
    for bound in bounds:
        out = subprocess.run([sys.executable, "-c", _MEMORY, str(bound)], check=True,
                             capture_output=True, text=True).stdout
        res = json.loads(out.strip().splitlines()[-1])
        table.add(bound, bound * 8 / 2 ** 20, res["growth_mib"], res["max_ll"])
    table.notes.append("unchunked, the same call would hold n x N = 4e8 float64 per "
                       "intermediate: 3052 MiB each (not run)")
    return table


def main(quick: bool = False) -> None:
    threads = set_threads(1)
    write_results("model", [pyro_speed(quick), memory(quick)], threads=threads)


def memory_only() -> None:  # pragma: no cover - a quick re-measurement
    print(memory(False).markdown())


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
