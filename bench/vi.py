"""bayescalc.vi against Pyro SVI and a bare torch reparameterization loop.

Problems: Bayesian logistic regression (N = 10,000, D = 20, seeded), linear regression
(N = 10,000, D = 20, exact Gaussian posterior, sds ~0.01) and three real-data shapes with
exact posteriors (scale mismatch, uncentred correlated predictors, 24 collinear ones).

Reports: steps/s (median of repeats, 1 thread), gradient evaluations to reach a target
KL, the final ELBO (20,000-draw estimate), and errors of the posterior mean and
covariance where exact. ``python -m bench vi [--quick]``.
"""

from __future__ import annotations

import math
import statistics
import time
import warnings

import torch

import bayescalc as bc
from bench import _vi_problems as P
from bench._harness import Table, set_threads, write_results

ELBO_DRAWS = 20_000


def many_draw_elbo(model, q, n=ELBO_DRAWS, seed=123):
    with torch.no_grad():
        z = q.sample((n,), generator=seed)
        lw = model.log_joint(z) - q.log_prob(z)
    return float(lw.mean()), float(lw.std() / math.sqrt(n))


# -- contenders: steps per second ----------------------------------------------------
def _pyro_step_fn(model, guide_name, lr=0.01):
    import pyro
    import pyro.distributions as dist
    from pyro.infer import SVI, Trace_ELBO
    from pyro.infer.autoguide import AutoMultivariateNormal, AutoNormal

    X, y, sd = model.X, model.y, model.prior_sd
    d = X.shape[1]
    logistic = model._row is P._logistic_rows

    def pyro_model():
        beta = pyro.sample("beta", dist.Normal(torch.zeros(d, dtype=torch.float64),
                                               sd * torch.ones(d, dtype=torch.float64))
                           .to_event(1))
        eta = X @ beta
        with pyro.plate("data", X.shape[0]):
            if logistic:
                pyro.sample("y", dist.Bernoulli(logits=eta), obs=y)
            else:
                pyro.sample("y", dist.Normal(eta, 1.0), obs=y)

    pyro.clear_param_store()
    pyro.set_rng_seed(0)
    guide = (AutoNormal if guide_name == "AutoNormal" else AutoMultivariateNormal)(pyro_model)
    svi = SVI(pyro_model, guide, pyro.optim.Adam({"lr": lr}), Trace_ELBO())
    return svi, guide


def _bare_step_fn(model, family):
    """The per-step floor: a hand-written reparameterized ELBO + Adam, no checks."""
    X, y, sd = model.X, model.y, model.prior_sd
    d = X.shape[1]
    loc = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    if family == "meanfield":
        log_scale = torch.full((d,), -2.0, dtype=torch.float64, requires_grad=True)
        params = [loc, log_scale]
    else:
        raw = torch.eye(d, dtype=torch.float64).mul(-2.0).requires_grad_(True)
        params = [loc, raw]
    opt = torch.optim.Adam(params, lr=0.01)
    logistic = model._row is P._logistic_rows

    def step():
        eps = torch.randn(1, d, dtype=torch.float64)
        if family == "meanfield":
            z = loc + eps * log_scale.exp()
            ent = log_scale.sum()
        else:
            L = torch.tril(raw, -1) + torch.diag(torch.diagonal(raw).exp())
            z = loc + eps @ L.T
            ent = torch.diagonal(raw).sum()
        eta = z @ X.T
        if logistic:                 # the same kernel as Pyro's Bernoulli(logits=)
            lik = -torch.nn.functional.binary_cross_entropy_with_logits(
                eta, y.expand_as(eta), reduction="sum")
        else:
            lik = (-0.5 * (y - eta) ** 2).sum()
        loss = -(lik - 0.5 * (z**2).sum() / sd**2 + ent)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _rate(run, n1, n2, repeats):
    """Steps/s from the time difference of runs of n1 and n2 steps (fixed costs cancel)."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(n1)
        t1 = time.perf_counter()
        run(n2)
        t2 = time.perf_counter()
        rates.append((n2 - n1) / max((t2 - t1) - (t1 - t0), 1e-9))
    return statistics.median(rates)


def speed_table(quick):
    model = P.logistic_regression()
    n1, n2 = (100, 400) if quick else (200, 1200)
    repeats = 3 if quick else 5
    table = Table("VI: steps per second, logistic regression (N = 10,000, D = 20, 1 sample "
                  "per step, 1 thread)",
                  ["contender", "family", "steps/s", "ratio to bayescalc", "final ELBO"])
    rows = {}
    for family in ("meanfield", "fullrank"):
        def ours(n, family=family):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return bc.vi.fit(model, family, steps=n, check_every=10**9, seed=0,
                                 progress=False, n_final=10, estimator="reparam")
        step = _bare_step_fn(model, family)
        guide_name = "AutoNormal" if family == "meanfield" else "AutoMultivariateNormal"
        svi, guide = _pyro_step_fn(model, guide_name)
        runners = {"bayescalc": ours,
                   "bare torch loop": lambda n, step=step: [step() for _ in range(n)],
                   f"Pyro SVI {guide_name}": lambda n, svi=svi: [svi.step() for _ in range(n)]}
        rates = {k: [] for k in runners}
        for _ in range(repeats):                 # interleaved: the load hits all alike
            for k, run in runners.items():
                rates[k].append(_rate(run, n1, n2, 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = bc.vi.fit(model, family, seed=0, progress=False)
        rows[("bayescalc", family)] = (statistics.median(rates["bayescalc"]),
                                       many_draw_elbo(model, r.approx)[0])
        rows[("bare torch loop", family)] = (statistics.median(rates["bare torch loop"]),
                                             float("nan"))
        svi, guide = _pyro_step_fn(model, guide_name)
        for _ in range(1000 if quick else 5000):
            svi.step()
        rows[(f"Pyro SVI {guide_name}", family)] = (
            statistics.median(rates[f"Pyro SVI {guide_name}"]), _pyro_elbo(model, guide))
    for (name, family), (rate, final) in rows.items():
        ours_rate = rows[("bayescalc", family)][0]
        table.add(name, family, round(rate), rate / ours_rate,
                  "" if final != final else f"{final:.2f}")
    table.notes.append("steps/s: median over repeats of (n2 - n1) / (t(n2) - t(n1)), so the "
                       "Laplace start and the final 2,000-draw estimate of fit cancel; "
                       "bayescalc runs its estimator='reparam' step (the default 'stl' adds "
                       "one triangular solve)")
    table.notes.append("final ELBO: 20,000-draw estimate after each contender's own run "
                       "(bayescalc: defaults, converged; Pyro: 5,000 steps at lr 0.01)")
    return table, rows


def _pyro_elbo(model, guide, n=ELBO_DRAWS):
    from pyro.infer.autoguide import AutoMultivariateNormal

    with torch.no_grad():
        if isinstance(guide, AutoMultivariateNormal):
            L = guide.scale[:, None] * guide.scale_tril      # Pyro >= 1.8 splits the two
            q = bc.vi.FullRankNormal(model.dim, loc=guide.loc.detach(), scale_tril=L.detach())
        else:
            q = bc.vi.MeanFieldNormal(model.dim, loc=guide.locs.beta.detach(),
                                      scale=guide.scales.beta.detach())
    return many_draw_elbo(model, q, n)[0]


# -- gradient evaluations to a target KL ---------------------------------------------
def _evals_to_target(model, kl_of, target, every=1, **fit_options):
    """Run fit with a callback; the first gradient count at which KL <= target (checked
    every ``every`` steps)."""
    hit = {}

    def cb(info):
        if info.step % every == 0 and kl_of(info.approx()) <= target:
            hit["n"] = info.n_grad_evals
            return True
        return False

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bc.vi.fit(model, callback=cb, progress=False, **fit_options)
    return hit.get("n"), r


def fast_method_table(quick):
    table = Table("VI: gradient evaluations to come within 0.05 nats of the family's "
                  "optimum (full-rank Gaussian)",
                  ["problem", "method", "start", "grad evals to target", "final KL / gap",
                   "n_grad_evals (defaults, converged)"])
    lin = P.linear_regression()

    def kl_lin(q):
        return float(P.gaussian_kl(q.mean.detach(), q.covariance.detach(),
                                   lin.posterior_mean, lin.posterior_cov))

    logi = P.logistic_regression()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = bc.vi.fit(logi, "fullrank", method="bam", init="standard", steps=300, tol=0,
                        seed=1, progress=False)
    ref_elbo = many_draw_elbo(logi, ref.approx, 50_000)[0]

    def gap_logi(q):
        return ref_elbo - many_draw_elbo(logi, q, 4000)[0]

    for name, model, kl_of in [("linear regression", lin, kl_lin),
                               ("logistic regression", logi, gap_logi)]:
        for method, init in [("bam", "standard"), ("bam", "laplace"), ("advi", "laplace"),
                             ("advi", "standard")]:
            if method == "advi" and init == "standard" and (quick or name.startswith("logi")):
                continue
            steps = 200 if method == "bam" else 5000
            every = 1 if (method == "bam" or name.startswith("linear")) else 50
            n, r = _evals_to_target(model, kl_of, 0.05, every, approx="fullrank",
                                    method=method,
                                    init=init, seed=0, steps=steps,
                                    **({"n_samples": 8} if method == "advi" and
                                       init == "standard" else {}))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                full = bc.vi.fit(model, "fullrank", method=method, init=init, seed=0,
                                 progress=False)
            table.add(name, method, init, "not reached" if n is None else n,
                      kl_of(full.approx), full.n_grad_evals)
    table.notes.append("ADVI from a standard start needs ~160,000 gradient evaluations on "
                       "the linear regression and 9,500-48,000 on the logistic one (issue "
                       "11's measurements); 'laplace' starts count the mode search and the "
                       "Hessian (d gradient evaluations)")
    table.notes.append(f"logistic: the gap is to a 300-iteration BaM reference ELBO "
                       f"({ref_elbo:.4f}, 50,000 draws); KLs use 4,000 draws (se ~0.002)")
    return table


# -- real-data shapes -------------------------------------------------------------------
def shapes_table(quick):
    table = Table("VI: full-rank defaults on the real-data shapes (exact Gaussian posteriors)",
                  ["shape", "method", "max mean error / sd", "sd ratio min", "sd ratio max",
                   "max cov rel. error", "KL", "n_grad_evals"])
    problems = [("linear regression (N=10^4, D=20)", P.linear_regression()),
                ("scale mismatch (sd 0.001 vs 1)", P.scale_mismatch()),
                ("uncentred correlated", P.correlated_uncentred()),
                ("24 collinear", P.collinear())]
    for name, m in problems:
        sd = torch.diagonal(m.posterior_cov).sqrt()
        for method in ("advi", "bam"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = bc.vi.fit(m, "fullrank", method=method, seed=0, progress=False)
            err = ((r.mean - m.posterior_mean).abs() / sd).max().item()
            ratio = torch.diagonal(r.cov).sqrt() / sd
            cov_err = ((r.cov - m.posterior_cov).abs().max() /
                       m.posterior_cov.abs().max()).item()
            kl = float(P.gaussian_kl(r.mean, r.cov, m.posterior_mean, m.posterior_cov))
            table.add(name, method, err, ratio.min().item(), ratio.max().item(), cov_err, kl,
                      r.n_grad_evals)
    return table


def main(quick: bool = False) -> None:
    threads = set_threads(1)
    speed, _ = speed_table(quick)
    tables = [speed, fast_method_table(quick), shapes_table(quick)]
    write_results("vi", tables, threads=threads)


if __name__ == "__main__":
    main()
