"""``conditional_evidence``: one coordinate by quadrature, the others by conditional
Laplace with an importance-sampling correction.

Hierarchical posteriors (Neal's funnel, the centred eight schools) have no useful
joint Gaussian approximation: the scale of the group parameters changes by orders of
magnitude with one hyperparameter. Conditional on that hyperparameter ``h`` they are
(close to) Gaussian. So, as INLA does (Rue, Martino & Chopin 2009),

    Z = int Z(h) dh,    Z(h) = int exp(log_joint(h, x)) dx,

with ``Z(h)`` from the Laplace approximation at the conditional mode ``x*(h)``,
corrected by importance sampling from a Student-t at that mode with the Laplace Gaussian
as a control variate (exact, with zero variance, where the conditional is Gaussian), and
the outer integral by the trapezoid rule on a grid that is halved until two levels agree
(the trapezoid rule converges geometrically on smooth decaying integrands, so the change
between levels bounds the error of the finer one).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.optimize
import torch
from scipy import special

from .._core.random import as_generator
from .._core.warnings import ReliabilityWarning
from ..integrate import psis_smooth
from ..integrate.sampling import KHAT_THRESHOLD, check_executor, psis_khat
from ._common import LOG_2PI, counted, log_joint, log_joint_hessian, weighted_mean_chol
from .control_variates import cv_log_mean
from .result import EvidenceResult

#: Where the walk along ``h`` stops: ``log Z(h)`` this far below its maximum (e^-25 of
#: the peak: below 1e-10 of the integral for any unimodal profile wider than the grid).
DROP = 25.0
#: Nodes of the coarsest grid at most: a profile that does not fall by ``DROP`` within
#: them is reported as unbounded (an improper posterior along ``h``).
MAX_NODES = 100
#: Nodes whose share of the integral is below this do not vote in the k-hat check.
NEGLIGIBLE = 1e-4
#: Where a node's k-hat exceeds 0.5, this many times its draws are added.
MORE = 4
#: A conditional mode's gradient norm at most this times (1 + |log joint|).
GTOL = 1e-5
#: Newton steps per conditional mode at most (then L-BFGS).
NEWTON_STEPS = 30
#: The proposal's scale over the Laplace one: on the bench's 10-d funnel (a box prior:
#: conditionals with exponential shoulders) the largest k-hat over the nodes with mass
#: fell from 0.67-0.76 to 0.46-0.56, and the errors from -0.004..-0.011 nats (bars
#: 0.005-0.007, one not covering) to -0.0004..-0.006 (all covered), 4 seeds.
WIDEN = 1.3


def conditional_evidence(model, *, seed=None, executor=None, progress=False, coordinate=None,
                         n_draws=256, target=0.01, max_levels=4, draws=None,
                         df=4.0, points=()) -> EvidenceResult:
    """log Z by quadrature over one coordinate and conditional Laplace-importance sampling
    over the others.

    1. The coordinate ``h`` (unless ``coordinate`` is given): the one along which the
       conditional Laplace log-determinant of the others varies most, measured at three
       points (the centre and +-2 spreads of ``draws``, else of prior draws) per
       coordinate; the scale parameter of a hierarchical model.
    2. At each node ``h_k`` of a grid: the conditional mode ``x*`` of the others
       (damped Newton with the autodiff Hessian, warm-started at the neighbouring node;
       L-BFGS where Newton stalls), the Laplace value, and ``n_draws`` importance draws
       from a Student-t (``df``) at ``x*`` with scale ``WIDEN`` (1.3) times the Laplace
       one; ``Z(h_k)`` is the regression estimate with the Laplace Gaussian's density
       ratio as control variate. Where the weights' k-hat exceeds 0.5 the proposal is
       refitted to the weighted draws and ``MORE`` (4) times the draws taken from it.
    3. The grid starts at the centre with half a spread as step, walks out until
       ``log Z(h)`` is ``DROP`` below its maximum, and is halved until two successive
       trapezoid values agree within ``target`` (at most ``max_levels`` halvings).

    The error is the change between the last two levels combined with the importance
    sampling's standard error (each node's doubled where its k-hat exceeds 0.5).
    ``success=False`` where a node carrying mass has k-hat > 0.7 or no proper conditional
    mode (a multimodal or degenerate conditional: the shells), where the levels do not
    agree within ``target``, or where the profile does not decay (then ``log_z = inf``).

    Parameters
    ----------
    model : bayescalc.Model
        ``d >= 2``.
    seed : int, numpy Generator or SeedSequence, optional
    executor : optional
        Accepted for a uniform signature; the work runs here (a few hundred batched
        evaluations per node).
    progress : bool
        Unused (the run takes seconds).
    coordinate : int, optional
        The index of ``h``; chosen as above when None.
    n_draws : int
        Importance draws per node.
    target : float
        Agreement of successive levels aimed at, in nats.
    max_levels : int
        Halvings of the grid at most.
    draws : tuple (z, log_weights), optional
        Weighted posterior draws (e.g. SMC's) that set the centre and spread of each
        coordinate; else prior draws, else a unit spread about 0.
    df : float
        Degrees of freedom of the Student-t proposal.
    points : sequence of array-like
        Known high points (modes from a search). Each must be matched by the conditional
        mode at its own ``h``: a point above the conditional mode found there, or more
        than 3 of its sds away and within 10 nats of it, is mass the grid's proposals
        never draw (a second conditional mode), and the result is ``success=False`` with
        ``error=inf``.

    Returns
    -------
    EvidenceResult
        ``method="conditional"``; ``diagnostics``: ``coordinate``, ``scores`` (the
        log-determinant variation per coordinate), ``levels`` (the trapezoid values),
        ``max_khat`` (over nodes carrying mass), ``nodes``, ``grid`` (h, log Z(h)),
        ``samples`` and ``log_weights``: weighted posterior draws (the finest grid's
        importance draws; h takes the grid's values), which :func:`normalize` uses.

    Examples
    --------
    The 10-d funnel: Gaussian given v, so exact up to the grid.

    >>> from bayescalc.models import funnel
    >>> r = conditional_evidence(funnel(d=10), seed=0)
    >>> r.diagnostics["coordinate"], abs(r.log_z - 0.0) < 1e-6, r.success
    (0, True, True)
    """
    check_executor(executor)
    cm = counted(model)
    d = int(model.dim)
    if d < 2:
        raise ValueError("conditional evidence needs d >= 2 (one coordinate by quadrature, "
                         "the rest by Laplace); for d = 1 use method='quadrature'")
    if not (isinstance(n_draws, int) and n_draws >= 32):
        raise ValueError(f"n_draws must be an int >= 32, got {n_draws!r}")
    if not target > 0:
        raise ValueError(f"target must be > 0, got {target!r}")
    rng = as_generator(seed)
    centre, spread = _centre_and_spread(model, draws, rng)
    scores = None
    if coordinate is None:
        coordinate, scores = _choose_coordinate(cm, centre, spread)
        if not np.isfinite(max(scores)):
            return _not_applicable(cm, "no coordinate has a proper conditional mode of the "
                                   "others at its centre and +-2 spreads", None, scores, 0)
    j = int(coordinate)
    if not 0 <= j < d:
        raise ValueError(f"coordinate must be in [0, {d}), got {coordinate!r}")
    grid = _Grid(cm, j, centre, n_draws, df, rng)
    step = 0.5 * float(spread[j])
    unbounded = grid.walk(float(centre[j]), step)
    where = f"coordinate {j} ({(model.names or [None] * d)[j] or j})"
    if not any(math.isfinite(node.log_z) for node in grid.nodes.values()):
        return _not_applicable(cm, f"no proper conditional mode along {where} (a saddle or "
                               "an unbounded conditional at every node)", j, scores,
                               len(grid.nodes))
    levels = [grid.trapezoid(step)]
    for _ in range(int(max_levels)):
        khat, bad = grid.mass_diagnostics(levels[-1][0], step)
        if bad or khat > KHAT_THRESHOLD:
            break  # a node with mass is already unusable: finer grids cannot vouch for it
        step /= 2.0
        grid.fill(step)
        levels.append(grid.trapezoid(step))
        if abs(levels[-1][0] - levels[-2][0]) <= target / 2.0:
            break
    value, stat = levels[-1]
    change = abs(levels[-1][0] - levels[-2][0]) if len(levels) > 1 else math.inf
    error = math.hypot(stat, change)
    max_khat, bad_modes = grid.mass_diagnostics(value, step)
    missed = grid.missed(points)
    diagnostics = {"coordinate": j, "scores": scores, "levels": [v for v, _ in levels],
                   "max_khat": max_khat, "nodes": len(grid.nodes),
                   "grid": [(h, node.log_z) for h, node in sorted(grid.nodes.items())]}
    weighted = grid.weighted_draws(step)
    if weighted is not None:
        diagnostics["samples"], diagnostics["log_weights"] = weighted
    if unbounded:
        message = (f"conditional: the profile log Z(h) along {where} does not decay "
                   f"within {MAX_NODES} nodes: improper along it; no finite log Z")
        return _finish(cm, math.inf, math.inf, False, message, diagnostics)
    ok = (bad_modes == 0 and max_khat <= KHAT_THRESHOLD and change <= target
          and math.isfinite(error) and not missed)
    message = (f"conditional Laplace-importance sampling ({n_draws} draws a node) over the "
               f"others, trapezoid over {where} ({len(grid.nodes)} nodes, "
               f"{len(levels)} levels, last change {change:.2g}); max k-hat {max_khat:.2f}")
    if bad_modes:
        message += f"; {bad_modes} node(s) with mass have no proper conditional mode"
    if missed:
        message += (f"; {missed} known high point(s) not matched by the conditional mode "
                    "at their h: a second conditional mode the proposals miss")
    if not ok:
        message += "; not converged or unreliable (see diagnostics)"
        if bad_modes or missed or max_khat > KHAT_THRESHOLD:
            error = math.inf
    return _finish(cm, value, error, ok, message, diagnostics)


def _not_applicable(cm, why, coordinate, scores, nodes):
    return _finish(cm, math.inf, math.inf, False, f"conditional: {why}: not applicable",
                   {"coordinate": coordinate, "scores": scores, "levels": [],
                    "max_khat": math.inf, "nodes": nodes, "grid": []})


def _finish(cm, value, error, ok, message, diagnostics):
    if math.isfinite(value):  # round-off: the trapezoid sum of a Gaussian profile
        error = max(error, 1e-12 * (1.0 + abs(value)))
    result = EvidenceResult(float(value), float(error), cm.n_evals, cm.n_grad_evals,
                            "conditional", bool(ok), message, diagnostics)
    if not ok:
        warnings.warn(message, ReliabilityWarning, stacklevel=3)
    return result


def _centre_and_spread(model, draws, rng):
    """Per coordinate: the weighted median and the interquartile range / 1.349 of
    ``draws``, else of 2,000 prior draws, else 0 and 1."""
    if draws is not None:
        z, log_w = draws
        z = np.asarray(z, dtype=float)
        log_w = np.asarray(log_w, dtype=float)
        w = np.exp(log_w - np.max(log_w))
        w /= w.sum()
    elif getattr(model, "can_sample_prior", False):
        z = np.asarray(model.sample_prior(2000, seed=int(rng.integers(2 ** 31))), dtype=float)
        w = np.full(len(z), 1.0 / len(z))
    else:
        return np.zeros(model.dim), np.ones(model.dim)
    quartiles = np.stack([_weighted_quantiles(z[:, i], w, (0.25, 0.5, 0.75))
                          for i in range(z.shape[1])])
    # the interquartile range: a heavy-tailed prior (half-Cauchy) has no useful sd
    spread = (quartiles[:, 2] - quartiles[:, 0]) / 1.349
    return quartiles[:, 1], np.maximum(spread, 1e-6)


def _weighted_quantiles(values, weights, levels):
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return np.array([values[order[min(np.searchsorted(cum, q * cum[-1]), len(cum) - 1)]]
                     for q in levels])


def _choose_coordinate(cm, centre, spread):
    """The coordinate along which the conditional Laplace log-determinant of the others
    varies most (at its centre and +-2 spreads), and every coordinate's variation."""
    scores = []
    for j in range(len(centre)):
        logdets = []
        x0 = np.delete(centre, j)
        for h in centre[j] + np.array([0.0, -2.0, 2.0]) * spread[j]:
            fit = _conditional_mode(cm, j, float(h), x0, fallback=False)
            if fit is None:
                break
            logdets.append(fit[2])
        # a candidate needs a proper conditional mode at all three points
        scores.append(float(np.ptp(logdets)) if len(logdets) == 3 else -math.inf)
    return int(np.argmax(scores)), scores


def _insert(x: torch.Tensor, j: int, h: torch.Tensor) -> torch.Tensor:
    """Rows ``x`` (n, d-1) with ``h`` (n,) put in as column ``j``."""
    return torch.cat([x[:, :j], h[:, None], x[:, j:]], 1)


def _conditional_mode(cm, j, h, x0, fallback=True):
    """``(x*, log_joint(h, x*), log det(-H), chol of H^-1)`` at fixed ``h``; None where no
    finite mode with a positive-definite ``-H`` is found.

    Damped Newton with the autodiff Hessian (one step on a Gaussian conditional; a
    handful on the centred eight schools, where L-BFGS needed hundreds at small tau),
    L-BFGS where the Hessian is not negative definite on the way (unless not
    ``fallback``: the coordinate scan, where a conditional Newton cannot reach
    disqualifies its coordinate at a fraction of the cost)."""
    ht = torch.tensor([h], dtype=torch.float64)

    def fun(x):
        v, g = cm.log_joint_and_grad(_insert(torch.as_tensor(x[None]), j, ht))
        value = float(v[0])
        if not math.isfinite(value):
            return 1e300, np.zeros_like(x)
        return -value, -np.delete(g[0].numpy(), j)

    def precision_at(x):
        # the joint's Hessian without h's row and column: the shared helper, with its
        # Richardson fallback where autodiff is not finite (logaddexp's NaN curvature)
        full = log_joint_hessian(cm, np.insert(x, j, h))
        return -np.delete(np.delete(full, j, 0), j, 1)

    x = np.asarray(x0, dtype=float)
    value, grad = fun(x)
    for _ in range(NEWTON_STEPS):
        precision = precision_at(x)
        try:
            np.linalg.cholesky(precision)
        except np.linalg.LinAlgError:
            break
        step, t = np.linalg.solve(precision, -grad), 1.0
        while t > 1e-4:  # backtracking on the log joint
            new_value, new_grad = fun(x + t * step)
            if new_value <= value:
                break
            t /= 2.0
        else:
            break
        x, moved = x + t * step, value - new_value
        value, grad = new_value, new_grad
        if np.linalg.norm(grad) <= GTOL * (1.0 + abs(value)) or moved < 1e-14:
            break
    if fallback and (value >= 1e300 or np.linalg.norm(grad) > GTOL * (1.0 + abs(value))):
        res = scipy.optimize.minimize(fun, x, jac=True, method="L-BFGS-B",
                                      options={"maxiter": 500, "gtol": 1e-9, "ftol": 1e-15,
                                               "maxcor": 20})
        x = res.x
        value, grad = fun(x)
    # a mode, not where the search gave up climbing (an unbounded conditional)
    if value >= 1e300 or np.linalg.norm(grad) > GTOL * (1.0 + abs(value)):
        return None
    precision = precision_at(x)
    try:
        chol_p = np.linalg.cholesky(precision)
    except np.linalg.LinAlgError:
        return None
    logdet = 2.0 * float(np.log(np.diag(chol_p)).sum())
    chol_cov = np.linalg.inv(chol_p).T  # (L L^T)^-1 = L^-T L^-1
    return x, -value, logdet, chol_cov


def _moment_matched(z, log_w):
    """``(mean, Cholesky factor of the covariance)`` of draws ``z`` (torch, n x k) under
    their PSIS-smoothed self-normalized weights; None where degenerate."""
    smoothed = np.asarray(psis_smooth(log_w)[0], dtype=float)
    w = np.exp(smoothed - np.max(smoothed))
    return weighted_mean_chol(z.numpy(), w / w.sum(), jitter=1e-12)


class _Node:
    __slots__ = ("x", "log_z", "rel_se", "khat", "ok", "z", "log_w")

    def __init__(self, x, log_z, rel_se, khat, ok, z=None, log_w=None):
        self.x, self.log_z, self.rel_se, self.khat, self.ok = x, log_z, rel_se, khat, ok
        self.z, self.log_w = z, log_w  # the importance draws (full rows) and log weights


class _Grid:
    """The nodes along coordinate ``j``: ``h -> _Node``."""

    def __init__(self, cm, j, centre, n_draws, df, rng):
        self.cm, self.j, self.n, self.df, self.rng = cm, j, int(n_draws), float(df), rng
        self.x0 = np.delete(np.asarray(centre, dtype=float), j)
        self.nodes = {}

    def at(self, h, x0):
        h = float(h)
        if h not in self.nodes:
            self.nodes[h] = self._estimate(h, x0)
        return self.nodes[h]

    def _estimate(self, h, x0):
        fit = _conditional_mode(self.cm, self.j, h, x0)
        if fit is None:
            return _Node(np.asarray(x0, dtype=float), -math.inf, math.inf, math.inf, False)
        x, value, logdet, chol_cov = fit
        k = len(x)
        laplace = value + 0.5 * k * LOG_2PI - 0.5 * logdet
        gauss = (x, chol_cov)
        draws = self._draw(h, x, WIDEN * chol_cov, gauss, self.n)
        if draws is None:
            return _Node(x, -math.inf, math.inf, math.inf, False)
        khat = float(psis_khat(draws[0]))
        if khat > 0.5:
            # the conditional is wider than its Laplace curvature says in some directions
            # (a box prior's logistic shoulders): the proposal is refitted to the weighted
            # draws (their mean and covariance, widened) and MORE times the draws taken
            # from it; k-hat from a few hundred draws is noisy (+-0.2), so the refit is
            # kept only where its own k-hat is lower
            refit = _moment_matched(draws[2][:, np.arange(draws[2].shape[1]) != self.j],
                                    draws[0])
            if refit is not None:
                more = self._draw(h, refit[0], WIDEN * refit[1], gauss, MORE * self.n)
                if more is not None and float(psis_khat(more[0])) < khat:
                    draws, khat = more, float(psis_khat(more[0]))
        lw, control, _ = draws
        fitted = cv_log_mean(lw - laplace, control[:, None])
        if fitted is None:
            return _Node(x, laplace, math.inf, math.inf, False)
        log_ratio, rel_se = fitted
        if khat > 0.5:  # infinite variance: the delta-method error is too small
            rel_se *= 2.0
        return _Node(x, laplace + log_ratio, rel_se, khat, True, draws[2], lw)

    def _draw(self, h, centre, chol, gauss, n):
        """``n`` Student-t draws at ``centre`` with scale ``chol``: their log weights, the
        control variate (the Laplace Gaussian ``gauss = (mode, chol of its covariance)``
        over the proposal, less 1: mean 0 under the proposal) and the full rows."""
        k, df = len(centre), self.df
        y = self.rng.standard_normal((n, k)) / np.sqrt(self.rng.chisquare(df, n) / df)[:, None]
        xs = centre + y @ chol.T
        log_q = (special.gammaln((df + k) / 2) - special.gammaln(df / 2)
                 - 0.5 * k * math.log(df * math.pi) - float(np.log(np.diag(chol)).sum())
                 - 0.5 * (df + k) * np.log1p((y * y).sum(1) / df))
        white = np.linalg.solve(gauss[1], (xs - gauss[0]).T).T
        log_g = (-0.5 * k * LOG_2PI - float(np.log(np.diag(gauss[1])).sum())
                 - 0.5 * (white * white).sum(1))
        z = _insert(torch.as_tensor(xs), self.j, torch.full((n,), h, dtype=torch.float64))
        lw = log_joint(self.cm, z).numpy() - log_q
        if not np.isfinite(lw).any():
            return None
        return lw, np.exp(log_g - log_q) - 1.0, z

    def walk(self, start, step) -> bool:
        """Nodes from ``start`` outwards by ``step`` until log Z(h) is DROP below its
        maximum on both sides; True where MAX_NODES were reached first."""
        first = self.at(start, self.x0)
        top = first.log_z
        for sign in (1.0, -1.0):
            h, node = start, first
            while True:
                h = h + sign * step
                node = self.at(h, node.x)
                top = max(top, node.log_z)
                if node.log_z < top - DROP or (top == -math.inf and len(self.nodes) > 8):
                    break
                if len(self.nodes) >= MAX_NODES:
                    return True
        return False

    def fill(self, step):
        """The nodes halfway between those of the grid with spacing ``2 step``."""
        for h in sorted(self.nodes):
            if h + step < max(self.nodes) and self._on_grid(h, 2 * step):
                self.at(h + step, self.nodes[h].x)

    def _on_grid(self, h, step):
        origin = min(self.nodes)
        k = (h - origin) / step
        return abs(k - round(k)) < 1e-6

    def trapezoid(self, step):
        """``(log of the trapezoid sum, its importance-sampling standard error)``."""
        hs = [h for h in sorted(self.nodes) if self._on_grid(h, step)]
        log_z = np.array([self.nodes[h].log_z for h in hs])
        rel = np.array([self.nodes[h].rel_se for h in hs])
        top = np.max(log_z)
        if not np.isfinite(top):
            return -math.inf, math.inf
        w = np.exp(log_z - top)
        total = float(w.sum())
        with np.errstate(invalid="ignore"):
            se = math.sqrt(float(np.nansum((w * rel) ** 2))) / total
        return top + math.log(total * step), se

    def missed(self, points) -> int:
        """How many of ``points`` the conditional modes miss: above the conditional mode
        at their own ``h`` (searched from the nearest node's mode), or more than 3 of its
        sds away from it and within 10 nats of its height."""
        count = 0
        for point in points:
            point = np.asarray(point, dtype=float)
            h = float(point[self.j])
            nearest = min(self.nodes, key=lambda g: abs(g - h))
            fit = _conditional_mode(self.cm, self.j, h, self.nodes[nearest].x)
            with torch.no_grad():
                value = float(self.cm.log_joint(torch.as_tensor(point[None]))[0])
            if fit is None or value > fit[1] + 1e-6 * (1.0 + abs(value)):
                count += 1
                continue
            # elsewhere (3 sds away in the conditional's own metric) and not negligible
            # beside the mode found: a second conditional mode
            away = np.linalg.solve(fit[3], np.delete(point, self.j) - fit[0])
            if float(np.linalg.norm(away)) > 3.0 and value > fit[1] - 10.0:
                count += 1
        return count

    def weighted_draws(self, step):
        """The importance draws of the nodes on the grid of spacing ``step``, weighted as
        the trapezoid rule over h and self-normalized importance sampling within a node
        (h on the grid's nodes: quantiles of h to within ``step / 2``); None without."""
        zs, lws = [], []
        for h in sorted(self.nodes):
            node = self.nodes[h]
            if node.z is not None and self._on_grid(h, step):
                zs.append(node.z)
                lws.append(node.log_w - math.log(len(node.log_w)))
        if not zs:
            return None
        log_w = np.concatenate(lws)
        log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
        return torch.cat(zs), log_w - np.logaddexp.reduce(log_w)

    def mass_diagnostics(self, log_total, step):
        """The largest k-hat over nodes holding at least NEGLIGIBLE of the integral, and
        how many such nodes had no proper conditional mode (judged by their neighbours
        where their own value is unknown)."""
        hs = sorted(self.nodes)
        khats, bad = [], 0
        for i, h in enumerate(hs):
            node = self.nodes[h]
            near = [self.nodes[g].log_z for g in hs[max(i - 1, 0):i + 2]
                    if math.isfinite(self.nodes[g].log_z)]
            share = math.exp(max(near) + math.log(step) - log_total) if near else 0.0
            if share < NEGLIGIBLE:
                continue
            if not node.ok:
                bad += 1
            elif math.isfinite(node.khat):
                khats.append(node.khat)
        return (max(khats) if khats else math.inf), bad
