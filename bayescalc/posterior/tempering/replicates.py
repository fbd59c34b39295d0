"""Independent tempering runs over spawned seeds, serially or on an executor.

Every estimator of this package runs ``n_replicates`` independent tempering runs, each
from its own child seed (``SeedSequence.spawn``), possibly on a process pool or a Dask
client through :func:`bayescalc.integrate.sampling.map_batches`. The runs are combined in
the calling process in seed order, so the answer depends on the seed alone, never on the
number of workers. The spread of the replicates is what the SMC and thermodynamic error
bars are made of: a standard error over R runs, scaled by ``t_{R-1, 0.975} / 1.96`` so
that +-1.96 errors is the Student-t 95% interval with R - 1 degrees of freedom.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..._core.progress import progress_bar
from ..._core.random import spawn_seeds
from ...integrate.sampling import check_executor, map_batches, psis_khat
from ...model.counting import CountedModel
from .reference import make_reference
from .run import RunOptions, tempering_run
from .schedule import refine_schedule, schedule_from_pilot


@dataclass
class Replicates:
    """The runs of one estimator call and what they cost (setup included)."""

    runs: list
    reference: object
    laplace: object
    n_evals: int
    n_grad_evals: int
    seconds: float
    pilot: dict | None = None
    increment_khat: np.ndarray | None = None
    drift: tuple | None = None

    @property
    def climbing(self) -> int | None:
        """The first rung (0-based) where the particles' log likelihood kept rising under
        the moves (see :func:`rung_drift`), else None."""
        if self.drift is None:
            return None
        rel, t = self.drift
        hit = np.flatnonzero((rel > DRIFT_SD) & (t > drift_threshold(len(rel), len(self.runs))))
        return int(hit[0]) if hit.size else None

    @property
    def heavy_tail(self) -> bool:
        """Resampling runs whose incremental weights had a Pareto k-hat above
        ``HEAVY_TAIL_KHAT`` at some rung (see :func:`increment_khat`)."""
        return self.max_increment_khat > HEAVY_TAIL_KHAT

    @property
    def max_increment_khat(self) -> float:
        """The largest per-rung k-hat of :func:`increment_khat` (-inf without one)."""
        k = self.increment_khat
        return -math.inf if k is None or len(k) == 0 else float(np.nanmax(k, initial=-np.inf))

    def promised(self, error: float) -> float:
        """The error an estimator may promise from its runs' ``error``: ``inf`` where
        :attr:`heavy_tail` (no measured spread bounds what every run misses alike),
        doubled where the k-hat exceeds ``SPREAD_KHAT`` (the weights' fourth moment is
        infinite, so the runs' sample variance is itself heavy-tailed and mostly low:
        the 3-d funnel at k-hat 0.38-0.44 was 0.15-0.18 nats low at bars of 0.05-0.06)."""
        k = self.max_increment_khat
        if k > HEAVY_TAIL_KHAT or self.climbing is not None:
            return math.inf
        return 2.0 * float(error) if k > SPREAD_KHAT else float(error)

    @property
    def complete(self) -> bool:
        """Every run reached beta = 1 within its rung budget."""
        return all(r["complete"] for r in self.runs)

    def total(self, key: str) -> np.ndarray:
        """``sum(run[key])`` for each run, shape (R,)."""
        return np.array([float(np.sum(r[key])) for r in self.runs])


#: The Pareto k-hat of a rung's incremental weights above which their variance is
#: infinite (Vehtari et al. 2024) and the runs' spread no longer bounds the error.
HEAVY_TAIL_KHAT = 0.5
#: Above this k-hat (1/4) the weights' fourth moment is infinite: the runs' spread is
#: doubled before it is reported.
SPREAD_KHAT = 0.25


def increment_khat(runs) -> np.ndarray:
    """Per rung, the Pareto k-hat of the runs' log incremental weights
    (``run["log_increments"]``), pooled over the runs where they share the ladder (a
    frozen schedule), else the median over runs of each run's own; shape (T,).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> bounded = [{"log_increments": [-rng.random(256) ** 2], "betas": np.r_[0.0, 1.0]}
    ...            for _ in range(8)]
    >>> float(increment_khat(bounded)[0]) < 0.5
    True
    >>> pareto = [{"log_increments": [np.log1p(rng.pareto(1.0, 256))],
    ...            "betas": np.r_[0.0, 1.0]} for _ in range(8)]
    >>> float(increment_khat(pareto)[0]) > 0.7
    True
    """
    ladders = [tuple(np.asarray(r["betas"]).tolist()) for r in runs]
    if all(ladder == ladders[0] for ladder in ladders):
        return np.array([psis_khat(np.concatenate([r["log_increments"][t] for r in runs]))
                         for t in range(len(runs[0]["log_increments"]))])
    per_run = [max((psis_khat(x) for x in r["log_increments"]), default=np.nan) for r in runs]
    return np.array([np.nanmedian(per_run)]) if np.isfinite(per_run).any() else np.array([])


#: A rung's moves raised the mean of u by more than DRIFT_SD of its standard deviation,
#: averaged over the runs, significantly (:func:`drift_threshold`): the particles were
#: still climbing toward mass they had not reached.
DRIFT_SD = 0.12


def drift_threshold(n_rungs: int, n_runs: int) -> float:
    """The t-statistic a rung's drift must exceed: one-sided level 0.01 over all
    ``n_rungs`` rungs (Bonferroni), Student-t with ``n_runs - 1`` degrees of freedom
    (a 60-rung ladder on the 25-d regression had one rung at t = 3.6 by chance).

    Examples
    --------
    >>> round(drift_threshold(1, 8), 2), round(drift_threshold(60, 8), 2)
    (3.0, 6.5)
    """
    from scipy.stats import t

    return float(t.ppf(1.0 - 0.01 / max(int(n_rungs), 1), max(int(n_runs) - 1, 1)))


def rung_drift(runs):
    """Per rung, the rise of the particles' mean ``u`` over the rung's moves (in units of
    the standard deviation of ``u`` there), averaged over the runs, and its t-statistic
    over the runs; None unless the runs share the ladder (a frozen schedule).

    At equilibrium the moves leave the tempered distribution, and so the mean of ``u``,
    unchanged: the rise is noise, below 0.08 sd (t <= 2.8) on the conjugate, logistic,
    banana, mixture, shells, eight-schools and 32-d correlated-Gaussian models (2 seeds
    each; one rung of 60 at 0.10 sd, t = 3.6, on the 25-d regression). Where the particles
    have not reached part of the mass, the moves keep carrying them toward it: on Neal's
    funnel (d = 3, 10; with a bounded prior box too, where the increments' k-hat stays
    at 0.26) 0.13-0.32 sd at t = 4-23, and SMC was 0.2-1.3 nats low.

    Examples
    --------
    >>> import numpy as np
    >>> runs = [{"betas": np.r_[0.0, 0.5, 1.0], "drift": np.array([0.0, 0.3 + 0.01 * i]),
    ...          "var_u": np.ones(3)} for i in range(8)]
    >>> rel, t = rung_drift(runs)
    >>> rel.round(3).tolist(), bool(t[1] > 3)
    ([0.0, 0.335], True)
    """
    ladders = [tuple(np.asarray(r["betas"]).tolist()) for r in runs]
    if len(runs) < 2 or any(ladder != ladders[0] for ladder in ladders):
        return None
    sd = np.sqrt(np.array([np.asarray(r["var_u"][1:], dtype=float) for r in runs]))
    rel = np.array([np.asarray(r["drift"], dtype=float) for r in runs]) / np.where(
        sd > 0, sd, np.inf)
    mean = rel.mean(0)
    spread = rel.std(0, ddof=1) / math.sqrt(len(runs))
    t = np.where(spread > 0, mean / np.where(spread > 0, spread, 1.0),
                 np.where(mean > 0, np.inf, 0.0))
    return mean, t


def t_factor(r: int) -> float:
    """``t_{r-1, 0.975} / 1.96``: widens an r-replicate standard error to a t interval.

    Examples
    --------
    >>> round(t_factor(8), 3)
    1.206
    """
    from scipy.stats import t

    return float(t.ppf(0.975, r - 1) / 1.959963984540054)


def _check_model(model):
    for name in ("log_joint", "log_likelihood", "log_prior", "dim"):
        if not hasattr(model, name):
            raise TypeError(f"model must be a bayescalc Model, got {type(model).__name__}")
    return model.model if isinstance(model, CountedModel) else model


def run_replicates(model, *, seed, executor, progress, resample, desc, n_particles=2048,
                   n_replicates=8, reference="auto", rho=0.7, n_steps=2, max_steps=20,
                   mixing=0.3, mixing_positions=False, spread=0.0, step_decades=0.0,
                   max_leapfrog_scaled=32,
                   n_leapfrog=None,
                   trajectory=1.5, max_leapfrog=8, target_accept=0.65, max_rungs=500,
                   widen=1.5, df=5.0, kernel="hmc", slice_width=2.0,
                   freeze=True, run_variance=0.03, max_refine=4) -> Replicates:
    """Build the reference, run ``n_replicates`` runs of ``n_particles // n_replicates``
    particles each (``resample``: SMC-style, else AIS-style), and collect them.

    ``freeze=True``: one more run of the same size, the pilot, adapts the ladder, the
    step sizes and the moves per rung; its estimate is discarded and the replicates
    replay its schedule (:mod:`.schedule`), so that each replicate's estimate does not
    depend on choices made from its own noise. A pilot that does not reach beta = 1
    leaves the replicates adaptive. Where the pilot's per-rung variances add up to more
    than ``run_variance`` (the predicted variance of one run's log Z), each of its rungs
    is split into up to ``max_refine`` (:func:`.schedule.refine_schedule`)."""
    model = _check_model(model)
    check_executor(executor)
    if isinstance(n_replicates, bool) or not isinstance(n_replicates, (int, np.integer)) \
            or n_replicates < 2:
        raise ValueError(f"n_replicates must be an int >= 2, got {n_replicates!r}")
    if isinstance(n_particles, bool) or not isinstance(n_particles, (int, np.integer)):
        raise ValueError(f"n_particles must be an int, got {n_particles!r}")
    per_run = int(n_particles) // int(n_replicates)
    if per_run < 8:
        raise ValueError(f"n_particles = {n_particles} gives {per_run} particles to each of "
                         f"n_replicates = {n_replicates} runs; at least 8 are needed")
    options = RunOptions(n=per_run, rho=float(rho), n_steps=n_steps, max_steps=max_steps,
                         mixing=float(mixing), mixing_positions=bool(mixing_positions),
                         spread=float(spread), step_decades=float(step_decades),
                         max_leapfrog_scaled=int(max_leapfrog_scaled), n_leapfrog=n_leapfrog,
                         trajectory=float(trajectory), max_leapfrog=max_leapfrog,
                         target_accept=float(target_accept), resample=resample,
                         max_rungs=max_rungs, kernel=kernel, slice_width=float(slice_width))
    start = time.perf_counter()
    setup_seed, pilot_seed, *run_seeds = spawn_seeds(seed, int(n_replicates) + 2)
    counted = CountedModel(model)
    ref, fit = make_reference(model, counted, reference, widen=widen, df=df, seed=setup_seed)
    pilot, schedule = (_pilot(model, ref, options, pilot_seed, float(run_variance),
                              int(max_refine)) if freeze else (None, None))
    bar = progress_bar(int(n_replicates), enabled=progress, desc=desc)

    def seeds():
        for s in run_seeds:
            yield s
            bar.update(1)

    try:
        runs = map_batches(partial(tempering_run, model, ref, options, schedule=schedule),
                           seeds(), executor=executor)
    finally:
        bar.close()
    done = runs if pilot is None else [pilot, *runs]
    khat = increment_khat(runs) if resample else None
    drift = rung_drift(runs) if resample else None
    for r in done:  # checked; not carried in the results
        r.pop("log_increments", None)
    return Replicates(
        runs=runs, reference=ref, laplace=fit,
        n_evals=counted.n_evals + sum(r["n_evals"] for r in done),
        n_grad_evals=counted.n_grad_evals + sum(r["n_grad_evals"] for r in done),
        seconds=time.perf_counter() - start, pilot=pilot, increment_khat=khat, drift=drift)


def _pilot(model, ref, options, seed, run_variance, max_refine):
    """The pilot run and the schedule it adapted, refined to ``run_variance`` (None where
    the pilot did not reach beta = 1)."""
    pilot = tempering_run(model, ref, options, seed)
    if not pilot["complete"]:
        return pilot, None
    return pilot, refine_schedule(schedule_from_pilot(pilot), pilot["rel_var"], run_variance,
                                  max_factor=max_refine)


def common_diagnostics(reps: Replicates) -> dict:
    """What every estimator reports about its runs."""
    first = reps.runs[0]
    out = {
        "reference": reps.reference.kind,
        "n_replicates": len(reps.runs),
        "n_particles_per_run": int(first["log_weights_acc"].shape[0]),
        "n_rungs": [int(len(r["log_ratio"])) for r in reps.runs],
        "betas": first["betas"],
        "acceptance": first["acceptance"],
        "step_size": first["step"],
        "moves": first["moves"],
        "max_correlation": float(max(np.max(r["correlation"], initial=0.0) for r in reps.runs)),
        "seconds": reps.seconds,
        "pilot_rungs": None if reps.pilot is None else int(len(reps.pilot["log_ratio"])),
        "increment_khat": reps.increment_khat,
        "rung_drift": None if reps.drift is None else reps.drift[0],
    }
    if reps.laplace is not None:
        out["laplace_mode"] = reps.laplace.mode
        out["laplace_clipped"] = reps.laplace.clipped
    return out


def status(reps: Replicates, what: str, extra_ok: bool = True, extra_message: str = ""):
    """``(success, message)`` for an estimator: every run complete and ``extra_ok``."""
    if not reps.complete:
        return False, (f"{what}: a run did not reach beta = 1 within max_rungs rungs "
                       f"(rungs used: {[len(r['log_ratio']) for r in reps.runs]}); "
                       "raise max_rungs or lower rho")
    low = min(float(np.nanmin(r["acceptance"][1:])) if len(r["acceptance"]) > 1 else 1.0
              for r in reps.runs)
    if low < 0.05:
        return False, (f"{what}: the HMC kernel accepted {low:.1%} of moves at some rung, "
                       "the particles did not move; try n_leapfrog=1 (MALA) or a "
                       "different reference")
    adapted = reps.runs if reps.pilot is None else [reps.pilot]  # the runs that chose moves
    stuck = [float(c) for r in adapted for c in r["correlation"] if c > r["mixing"]]
    if stuck:
        return False, (f"{what}: at {len(stuck)} rung(s) the particles had not decorrelated "
                       f"after max_steps moves (correlation of u up to {max(stuck):.2f} > "
                       f"{reps.runs[0]['mixing']}): log Z may be biased, beyond its error "
                       "bar; raise max_steps, lower trajectory or use a closer reference")
    if reps.heavy_tail:
        k = reps.increment_khat
        t = int(np.nanargmax(k))
        return False, (f"{what}: the incremental weights at rung {t + 1} of {len(k)} are "
                       f"heavy-tailed (Pareto k-hat {k[t]:.2f} > {HEAVY_TAIL_KHAT}): the runs "
                       "miss mass that rare particles carry (a funnel's neck), log Z is "
                       "likely low by more than their spread shows, and the error is "
                       "reported as inf (the spread is diagnostics['replicate_error']); "
                       "use method='auto', which checks tempering by importance sampling "
                       "from a flow, or a reference closer to the posterior")
    if reps.climbing is not None:
        t = reps.climbing
        rel, tstat = reps.drift
        return False, (f"{what}: at rung {t + 1} of {len(rel)} the particles' log likelihood "
                       f"kept rising under the moves ({rel[t]:+.2f} sd of u over the runs, "
                       f"t = {tstat[t]:.1f}): they had not reached all of the tempered "
                       "distribution (a funnel's neck), log Z is likely low by more than "
                       "their spread shows, and the error is reported as inf (the spread "
                       "is diagnostics['replicate_error']); use method='auto', which checks "
                       "tempering by importance sampling from a flow")
    if not extra_ok:
        return False, f"{what}: {extra_message}"
    rungs = [len(r["log_ratio"]) for r in reps.runs]
    k = reps.max_increment_khat
    doubled = (f"; error doubled: the incremental weights' k-hat {k:.2f} > {SPREAD_KHAT} "
               "(their spread is itself heavy-tailed)" if k > SPREAD_KHAT else "")
    return True, (f"{what} over {len(reps.runs)} independent runs of "
                  f"{reps.runs[0]['log_weights_acc'].shape[0]} particles from the "
                  f"{reps.reference.kind} reference, {min(rungs)}-{max(rungs)} temperatures"
                  + doubled)
