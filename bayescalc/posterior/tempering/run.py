"""One tempering run: particles walked from the reference to the posterior.

The run starts with ``n`` reference draws at ``beta = 0``. At each rung it chooses the
next ``beta`` by the conditional ESS (:mod:`.ladder`), reweights, resamples (SMC; AIS
keeps its weights), rebuilds the preconditioner from the particle covariance and moves
every particle with ``n_steps`` HMC/MALA steps (:mod:`.kernel`) at the new temperature,
adapting the step size toward the target acceptance. It records, per rung, what every
estimator needs: the log ratio of normalizing constants between successive rungs and its
per-rung variance (SMC, stepping-stone), the mean and variance of
``u = log joint - log reference`` (thermodynamic integration), and the accumulated log
weights of each chain (AIS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..._core.random import torch_generator
from ...model.counting import CountedModel
from .kernel import StepSize, hmc_move, leapfrog_plan, preconditioner, split_preconditioners
from .ladder import next_beta
from .mixing import position_correlation, u_correlation
from .path import TemperedPath
from .slice_kernel import slice_sweep


@dataclass(frozen=True)
class RunOptions:
    """Settings of one run (see the estimators for their meaning and defaults)."""

    n: int = 256
    rho: float = 0.7
    n_steps: int = 2
    max_steps: int = 20
    mixing: float = 0.3
    mixing_positions: bool = False
    spread: float = 0.0
    step_decades: float = 0.0
    max_leapfrog_scaled: int = 32
    n_leapfrog: int | None = None
    trajectory: float = 1.5
    max_leapfrog: int = 8
    target_accept: float = 0.65
    resample: bool = True
    max_rungs: int = 500
    keep_samples: bool = True
    kernel: str = "hmc"
    slice_width: float = 2.0

    def __post_init__(self):
        if not (isinstance(self.n, int) and self.n >= 8):
            raise ValueError(f"particles per run must be an int >= 8, got {self.n!r}")
        if not 0.0 < self.rho < 1.0:
            raise ValueError(f"rho must lie in (0, 1), got {self.rho!r}")
        if not (isinstance(self.n_steps, int) and self.n_steps >= 1):
            raise ValueError(f"n_steps must be a positive int, got {self.n_steps!r}")
        if self.n_leapfrog is not None and not (isinstance(self.n_leapfrog, int)
                                                and self.n_leapfrog >= 1):
            raise ValueError(f"n_leapfrog must be None or a positive int, got "
                             f"{self.n_leapfrog!r}")
        if not (self.trajectory > 0 and isinstance(self.max_leapfrog, int)
                and self.max_leapfrog >= 1):
            raise ValueError("trajectory must be > 0 and max_leapfrog a positive int, got "
                             f"{self.trajectory!r}, {self.max_leapfrog!r}")
        if not (isinstance(self.max_steps, int) and self.max_steps >= self.n_steps):
            raise ValueError(f"max_steps must be an int >= n_steps, got {self.max_steps!r}")
        if not 0.0 < self.mixing < 1.0:
            raise ValueError(f"mixing must lie in (0, 1), got {self.mixing!r}")
        if not 0.0 < self.target_accept < 1.0:
            raise ValueError(f"target_accept must lie in (0, 1), got {self.target_accept!r}")
        if not (self.step_decades >= 0 and isinstance(self.max_leapfrog_scaled, int)
                and self.max_leapfrog_scaled >= 1):
            raise ValueError("step_decades must be >= 0 and max_leapfrog_scaled a positive "
                             f"int, got {self.step_decades!r}, {self.max_leapfrog_scaled!r}")
        if self.kernel not in ("hmc", "slice"):
            raise ValueError(f"kernel must be 'hmc' or 'slice', got {self.kernel!r}")
        if not self.slice_width > 0:
            raise ValueError(f"slice_width must be > 0, got {self.slice_width!r}")
        if not (isinstance(self.max_rungs, int) and self.max_rungs >= 1):
            raise ValueError(f"max_rungs must be a positive int, got {self.max_rungs!r}")


def _systematic(log_weights: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = log_weights.shape[0]
    w = torch.softmax(log_weights, 0)
    cdf = torch.cumsum(w, 0)
    cdf[-1] = 1.0
    u = (torch.rand(1, generator=generator, dtype=torch.float64) + torch.arange(n)) / n
    return torch.searchsorted(cdf, u).clamp(max=n - 1)


def _moments(log_w: torch.Tensor, u: torch.Tensor):
    w = torch.softmax(log_w, 0)
    finite = torch.isfinite(u)
    w = torch.where(finite, w, torch.zeros_like(w))
    total = float(w.sum())
    if total <= 0:
        return -math.inf, 0.0
    w = w / total
    uf = torch.where(finite, u, torch.zeros_like(u))
    mean = float((w * uf).sum())
    var = float((w * (uf - mean) ** 2).sum())
    return mean, var


def _rung_correlation(u_start, z_start, particles, log_w, whiten) -> float:
    """The larger of the correlations of u and (where ``whiten`` is given) of the whitened
    positions between the start of a rung's moves and now (see :mod:`.mixing`)."""
    corr = u_correlation(u_start, particles.u, log_w)
    if whiten is not None:
        corr = max(corr, position_correlation(z_start, particles.z, log_w, whiten))
    return corr


def _validated_step(tried, target: float) -> float:
    """The step a replay of this rung should use, from the (step, acceptance) pairs its
    moves used: the last move's step, unless that move accepted less than half the
    ``target``; then the step whose acceptance came closest to ``target``. (The step
    after the rung's last update is only a proposal for the next rung: replayed at this
    rung on the 32-d correlated Gaussian it crossed the leapfrog stability limit every
    fourth rung, acceptance 0.15, and the replicates lagged there.)"""
    step, rate = tried[-1]
    if rate >= 0.5 * target:
        return float(step)
    return float(min(tried, key=lambda sr: abs(sr[1] - target))[0])


def _frozen(schedule, t: int):
    """Rung ``t``'s temperature, step size and number of moves from ``schedule``."""
    return (float(schedule.betas[t + 1]), float(schedule.steps[t]), int(schedule.moves[t]))


def tempering_run(model, reference, options: RunOptions, seed, schedule=None) -> dict:
    """Walk ``options.n`` particles from ``reference`` to the posterior of ``model``.

    Returns a dict of numpy arrays and counts (picklable, so that runs can go to worker
    processes): ``betas`` (T+1,), ``log_ratio`` and ``rel_var`` (T,), ``mean_u`` and
    ``var_u`` (T+1,), ``acceptance`` and ``step`` (T+1,), ``log_weights_acc`` (n,) (the
    AIS weights), ``samples`` (n, d) and ``log_weights`` (n,) at ``beta = 1``,
    ``complete`` (whether beta reached 1 within ``max_rungs``), ``n_evals``,
    ``n_grad_evals``, ``log_increments`` (a list of T arrays (n,): each rung's log
    incremental weights, for the tail check of :mod:`.replicates`).

    With a :class:`.schedule.Schedule` the run adapts nothing from its own particles: it
    takes the schedule's temperatures, step sizes and numbers of moves (the particle
    covariance is still estimated at each rung).
    """
    counted = CountedModel(model)
    path = TemperedPath(counted, reference)
    generator = torch_generator(seed)
    n, d = options.n, model.dim
    particles = path.sample_reference(n, generator)
    log_w = torch.full((n,), -math.log(n), dtype=torch.float64)
    acc_w = torch.zeros(n, dtype=torch.float64)
    beta = 0.0
    step = StepSize(1.2 * d ** -0.25, target=options.target_accept)
    betas, log_ratio, rel_var, mean_u, var_u, acceptance, steps = [0.0], [], [], [], [], [], []
    moves, correlation, drift, rung_step, increments = [], [], [], [], []
    m, v = _moments(log_w, particles.u)
    mean_u.append(m), var_u.append(v), acceptance.append(math.nan), steps.append(step.value)
    while beta < 1.0 and len(log_ratio) < options.max_rungs:
        u = particles.u
        if schedule is None:
            new_beta = next_beta(log_w, u, beta, options.rho)
        else:
            new_beta, step.value, fixed_moves = _frozen(schedule, len(log_ratio))
        inc = (new_beta - beta) * u
        inc = torch.where(torch.isnan(inc), torch.full_like(inc, -torch.inf), inc)
        log_r = torch.logsumexp(log_w + inc, 0)
        w = torch.softmax(log_w, 0)
        ratio_terms = torch.exp(inc - log_r) - 1.0  # w_i / r - 1
        log_ratio.append(float(log_r))
        increments.append((log_w + inc).numpy().copy())  # for the tail check (replicates.py)
        rel_var.append(float((w * w * ratio_terms * ratio_terms).sum()))
        acc_w = acc_w + inc
        log_w = torch.log_softmax(log_w + inc, 0)
        beta = new_beta
        betas.append(beta)
        chols = split_preconditioners(particles.z, log_w)
        if options.resample:
            ancestors = _systematic(log_w, generator)
            particles = particles.take(ancestors)
            log_w = torch.full((n,), -math.log(n), dtype=torch.float64)
            acc_w = torch.full((n,), float(sum(log_ratio)), dtype=torch.float64)
        else:
            ancestors = torch.arange(n)
        chol = (chols, 1 - ancestors % 2)  # the half that does not hold the ancestor
        rates, tried = [], []
        u_start, z_start = particles.u, particles.z
        mean_start = _moments(log_w, u_start)[0]
        whiten = preconditioner(z_start, log_w) if options.mixing_positions else None
        for k in range(options.max_steps if schedule is None else fixed_moves):
            if options.kernel == "slice":
                particles = slice_sweep(path, particles, beta, chol, generator,
                                        options.slice_width)
                a = torch.ones(n, dtype=torch.float64)
            else:
                if options.n_leapfrog is None:
                    n_leap = leapfrog_plan(step.value, options.trajectory, options.max_leapfrog)
                    traj = options.trajectory
                else:
                    n_leap, traj = options.n_leapfrog, None
                out = hmc_move(path, particles, beta, chol, step.value, n_leap, generator,
                               traj, options.spread, options.step_decades,
                               options.max_leapfrog_scaled)
                particles, a = out[0], out[1]
            w_now = torch.softmax(log_w, 0)
            rate = float((w_now * a).sum())
            rates.append(rate)
            if options.kernel == "hmc" and options.step_decades > 0:
                # adapt on the particles that moved at the adapted step (the others'
                # steps were shrunk at random)
                at_step = w_now * (~out[2])
                if float(at_step.sum()) > 0:
                    rate = float((at_step * a).sum() / at_step.sum())
            tried.append((step.value, rate))
            corr = _rung_correlation(u_start, z_start, particles, log_w, whiten)
            if schedule is not None:
                continue
            step.update(rate)
            if k + 1 >= options.n_steps and corr <= options.mixing:
                break
        moves.append(len(rates))
        rung_step.append(_validated_step(tried, options.target_accept))
        correlation.append(corr)
        acceptance.append(float(np.mean(rates)))
        steps.append(step.value)
        m, v = _moments(log_w, particles.u)
        mean_u.append(m), var_u.append(v)
        drift.append(m - mean_start)
    out = {
        "betas": np.asarray(betas), "log_ratio": np.asarray(log_ratio),
        "rel_var": np.asarray(rel_var), "mean_u": np.asarray(mean_u),
        "var_u": np.asarray(var_u), "acceptance": np.asarray(acceptance),
        "step": np.asarray(steps), "moves": np.asarray(moves),
        "correlation": np.asarray(correlation), "drift": np.asarray(drift),
        "rung_step": np.asarray(rung_step), "log_increments": increments,
        "log_weights_acc": acc_w.numpy().copy(),
        "complete": bool(beta >= 1.0), "mixing": options.mixing, "n_evals": counted.n_evals,
        "n_grad_evals": counted.n_grad_evals,
    }
    if options.keep_samples:
        out["samples"] = particles.z.numpy().copy()
        out["log_weights"] = log_w.numpy().copy()
    return out
