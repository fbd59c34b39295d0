"""Laplace-adapted Gauss-Hermite quadrature (AGHQ) of the evidence, in log space.

With the Laplace approximation ``N(m, L L^T)`` (the moment-matched mixture of the
Laplace Gaussians when several modes are found), ``z = m + L x`` and

    Z = |L| (2 pi)^{d/2} E_{x ~ N(0, I)}[ exp(f(m + L x) + |x|^2 / 2) ] ,

a Gauss-Hermite rule in ``x`` (probabilists' weights) sums in log space with logsumexp.
Tensor rules for ``d <= 3`` (orders 5, 9, 15, 21, 31, ... per axis), Smolyak sparse grids
of Gauss-Hermite rules for ``4 <= d <= 10`` (signed weights, summed in log space with the
sign kept). The error is the larger of the last two level differences; ``success`` needs
both below ``tol`` (or one at rounding level). On a Gaussian posterior every level is
exact.

When Gauss-Hermite does not converge within a share of the budget (curved or multimodal
posteriors, where ``exp(f + |x|^2/2)`` is far from a polynomial), ``d <= 3`` switches to
adaptive Genz-Malik cubature over the prior's box where the prior is a bounded box
(:mod:`._quadrature_cubature`), else to
the trapezoid rule on a uniform grid in the same standardized coordinates ``x``: on a box
whose boundary holds negligible mass (each face pushed out by half until the log joint
on it is 40 nats below its maximum) and steps ``h = 1, 1/2, 1/4, ...`` (nested
grids), it converges geometrically for smooth, fast-decaying integrands. A level counts
as converged when the ``2^d`` cosets of its grid (sub-grids of step ``2h``) agree within
``tol`` and the box's faces hold a negligible share of the sum at the new resolution.
When the grid does not converge within its share, Genz-Malik cubature over R^d in the
same coordinates decides (:mod:`._quadrature_cubature`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from numpy.polynomial.hermite_e import hermegauss

from .._core.progress import progress_bar
from .._core.warnings import IntegrationWarning, ReliabilityWarning
from ..integrate.rules.smolyak import sparse_grid, tensor_grid
from ._common import LOG_2PI, counted, failed_fit, fit_laplace, log_joint
from ._quadrature_cubature import (
    bounded_box,
    cubature_evidence,
    genz_malik_box,
    genz_malik_whole_space,
)
from .result import EvidenceResult

#: Largest dimension for the tensor rule and for the sparse rule.
TENSOR_MAX_DIM = 3
SPARSE_MAX_DIM = 10
# the tensor Gauss-Hermite levels' share of a large budget (d <= 3): a Gaussian-like
# posterior converges within a few hundred points; beyond a few thousand the others win
GAUSS_HERMITE_EVALS = 3_000
# the trapezoid grid's share of a large budget (new points): its levels grow 2^d-fold,
# and a grid that has not resolved the integrand by then (thin shells in 2-D: levels of
# 1,885 and 7,225 points, 0.2-0.4 nats off, the next one 28,273) leaves the rest to
# Genz-Malik; the banana and the mixture converge within 10,000
TRAPEZOID_EVALS = 20_000
# a trapezoid level whose cosets agree within this many nats has resolved the integrand
# and converges geometrically from there: it may go past the grid's share
RESOLVED_SPREAD = 0.01
# two Gauss-Hermite levels this close agree to rounding: the integrand is a polynomial
# of their degree (a Gaussian posterior), not a chance agreement
EXACT_AGREEMENT = 1e-10
_ORDERS = (5, 9, 15, 21, 31, 41, 61, 81, 101, 141, 201)

ALTERNATIVES = ("'laplace', 'importance', 'bridge', 'smc' (tempering), 'nested' or 'auto'")


def _tensor_rule(order, d):
    nodes, weights = hermegauss(order)
    return tensor_grid(nodes, weights / weights.sum(), d)


def _sparse_rule(level, d):
    def rule(l):
        nodes, weights = hermegauss(2 * l - 1)
        return nodes, weights / weights.sum()

    return sparse_grid(rule, d, level)


def _signed_log_sum(log_values, weights):
    """log of sum_i w_i exp(v_i) for signed weights (nan when the sum is not positive)."""
    top = np.max(log_values)
    if not np.isfinite(top):
        return top
    total = float(np.exp(log_values - top) @ weights)
    return top + math.log(total) if total > 0 else math.nan


class _Cache:
    """log joint at standardized points x (z = mean + chol x), each point evaluated once."""

    def __init__(self, cm, mean, chol, bar):
        self.cm, self.mean, self.chol, self.bar = cm, mean, chol, bar
        self.values = {}

    @property
    def used(self):
        return len(self.values)

    def __call__(self, x):
        keys = [p.tobytes() for p in np.round(x, 12) + 0.0]
        new = [i for i, k in enumerate(keys) if k not in self.values]
        if new:
            z = self.mean + x[new] @ self.chol.T
            vals = log_joint(self.cm, torch.as_tensor(z)).numpy()
            for i, v in zip(new, vals, strict=False):
                self.values[keys[i]] = v
            self.bar.update(len(new))
        return np.array([self.values[k] for k in keys])


def _gauss_hermite(evaluate, rule, d, log_det, tol, budget):
    levels = _ORDERS if rule == "tensor" else range(1, 12)
    estimates, sizes = [], []
    for level in levels:
        x, w = _tensor_rule(level, d) if rule == "tensor" else _sparse_rule(level, d)
        if evaluate.used + len(x) > budget and estimates:
            break
        f = evaluate(x) + 0.5 * (x**2).sum(1)
        estimates.append(log_det + 0.5 * d * LOG_2PI + _signed_log_sum(f, w))
        sizes.append(len(x))
        # two successive differences below tol, since one can be small by chance (a
        # mixture of two modes, orders 9 and 15: 0.003 apart, both 0.028 nats off);
        # or one at rounding level, where both rules integrate a polynomial exactly
        # (a Gaussian posterior)
        steps = np.abs(np.diff(estimates))
        if (steps.size and steps[-1] < min(tol, EXACT_AGREEMENT)) or (
                steps.size >= 2 and max(steps[-2:]) < tol):
            return estimates, sizes, True
    return estimates, sizes, False


def _box(lower, upper, h):
    axes = [h * np.arange(math.floor(lo / h), math.ceil(hi / h) + 1)
            for lo, hi in zip(lower, upper, strict=False)]
    grids = np.meshgrid(*axes, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def _trapezoid(evaluate, d, log_det, tol, budget, soft_budget=None):
    """The trapezoid levels within ``budget`` points in all; beyond ``soft_budget`` only
    while the grid has resolved the integrand (its last coset spread below
    ``RESOLVED_SPREAD``, the geometric regime), so a grid that steps over thin shells
    stops early and leaves the rest to Genz-Malik."""
    lower, upper = np.full(d, -6.0), np.full(d, 6.0)
    evaluate.escaped = False
    for _ in range(12):  # grow each face of the box until it holds negligible mass
        x = _box(lower, upper, 1.0)
        if evaluate.used + len(x) > budget:
            break
        f = evaluate(x)
        top = f.max()
        if not np.isfinite(top):
            break
        grown = False
        for j in range(d):
            for side, bound in ((0, lower), (1, upper)):
                face = np.abs(x[:, j] - bound[j]) < 1e-9
                if f[face].max() > top - 40.0:
                    if abs(bound[j]) >= 60:  # mass beyond 60 Laplace sd: divergent
                        evaluate.escaped = True
                        continue
                    bound[j] = math.floor(bound[j] * 1.5) if side == 0 else \
                        math.ceil(bound[j] * 1.5)
                    grown = True
        if not grown:
            break
    estimates, sizes, spreads = [], [], []
    h = 1.0
    while True:
        x = _box(lower, upper, h)
        total = evaluate.used + len(x) - len(x) // 2**d
        if total > budget and len(estimates) >= 1:
            break
        if (soft_budget is not None and total > soft_budget and len(estimates) >= 1
                and not spreads[-1] < RESOLVED_SPREAD):
            break
        f = evaluate(x)
        estimates.append(log_det + d * math.log(h) + _signed_log_sum(f, np.ones(len(x))))
        spreads.append(_coset_spread(x, f, h, estimates[-1], log_det))
        if _face_share(x, f, lower, upper) > 0.01 * tol:
            # the finer grid found mass on the box's boundary that the unit grid stepped
            # over (a thin ridge crossing a face): the box sum is no evidence
            spreads[-1] = math.inf
        evaluate.box = (lower.tolist(), upper.tolist())
        sizes.append(len(x))
        evaluate.spreads = spreads
        if len(estimates) >= 2 and _geometric_error(spreads) < tol:
            return estimates, sizes, True
        h /= 2
    return estimates, sizes, False


def _face_share(x, f, lower, upper):
    """Share of the grid sum ``sum exp(f)`` carried by the points on the faces of the box
    ``[lower, upper]`` (negligible when the box holds the mass)."""
    on_face = (np.abs(x - lower) < 1e-9).any(1) | (np.abs(x - upper) < 1e-9).any(1)
    top = f.max()
    if not on_face.any() or not np.isfinite(top):
        return 0.0
    w = np.exp(f - top)
    return float(w[on_face].sum() / w.sum())


def _coset_spread(x, f, h, estimate, log_det):
    """Largest distance, in nats, between ``estimate`` (the trapezoid sum at step ``h``)
    and the sums over its ``2^d`` cosets at step ``2h`` (the points whose grid indices
    have one parity pattern; one of them is the previous level's grid).

    Each coset is a trapezoid rule of its own at step ``2h``, shifted by ``h`` along some
    axes, so they agree once ``2h`` resolves the integrand; comparing the new level with
    the previous one alone (one coset) can agree by chance while the sums still wander
    (measured: two thin Gaussian shells in 2-D, 1.65 nats off with a 1.4e-4 bar). No
    extra evaluation."""
    d = x.shape[1]
    parity = np.rint(x / h).astype(np.int64) & 1
    code = parity @ (1 << np.arange(d))
    worst = 0.0
    for c in range(2**d):
        part = f[code == c]
        if part.size == 0:
            return math.inf
        coset = log_det + d * math.log(2 * h) + _signed_log_sum(part, np.ones(part.size))
        worst = max(worst, abs(coset - estimate))
    return worst if np.isfinite(worst) else math.inf


def _geometric_error(spreads):
    """Error of the last trapezoid estimate from the coset spreads of the levels (see
    :func:`_coset_spread`): the last spread, shrunk by the observed ratio of the last two
    when they fall fast (geometric convergence)."""
    if len(spreads) < 2:
        return math.inf
    d2 = spreads[-1]
    d1 = spreads[-2]
    if np.isfinite(d1) and d1 > 0 and d2 < 0.1 * d1:
        return d2 * (d2 / d1) ** 0.5
    return d2


def _diagnostics(evaluate, sizes, estimates, mean, cov, fit):
    return {"levels": sizes, "n_points": evaluate.used, "box": getattr(evaluate, "box", None),
            "estimates": estimates, "mean": mean, "cov": cov, "n_modes": len(fit.modes)}


def quadrature_evidence(model, *, seed=None, executor=None, progress=False, tol=1e-6,
                        max_evals=60_000, rule=None, n_starts=None, scale=1.0,
                        fit=None, hunt=16) -> EvidenceResult:
    """log Z by Laplace-adapted Gauss-Hermite quadrature (``d <= 10``).

    Parameters
    ----------
    model : bayescalc.Model
    seed : int, optional
        Seeds the extra starting points of the mode search.
    executor
        Accepted for the common signature (the rule is evaluated in one process).
    progress : bool
        A progress bar over the levels.
    tol : float
        Target error in nats: the levels stop when two successive ones differ by less.
    max_evals : int
        Budget of log-joint evaluations for the rule's points.
    rule : {"tensor", "sparse"}, optional
        Default: tensor for ``d <= 3``, sparse for ``4 <= d <= 10``. For ``d <= 3``, when
        Gauss-Hermite has not converged within a twentieth of ``max_evals`` (at most
        3,000 points, at least three levels): where the prior is a bounded box,
        Genz-Malik cubature over the box with the rest of the budget; else the trapezoid
        rule (half of what is left, at most 20,000 new points or a sixteenth of
        ``max_evals`` unless its levels have resolved the integrand), then Genz-Malik
        cubature over R^d.
    n_starts : int, optional
        Starting points of the mode search (default 8 for ``d <= 3``, as ``auto``, else
        4); with several modes the rule is centred on the moment-matched mixture of
        their Laplace Gaussians.
    hunt : int
        Dispersed points that climb together after the L-BFGS starts, looking for modes
        those missed (25 batched gradient steps, ``25 hunt`` evaluations; 0: none). On
        two-Gaussian mixtures in d = 4-8 the starts alone missed a mode on a third of
        random draws, with a confident bar.
    scale : float
        Widening of the Laplace covariance (1 = AGHQ; exact on Gaussian posteriors).
    fit : LaplaceFit, optional
        A Laplace fit already made (internal use by ``auto``).

    Returns
    -------
    EvidenceResult
        ``error`` is the difference between the last two levels.

    Raises
    ------
    ValueError
        When ``d > 10``: the error names the methods that apply.

    Examples
    --------
    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: -torch.log1p(torch.exp(-3 * t[:, 0])), dim=1)
    >>> r = quadrature_evidence(m)
    >>> r.success and r.error < 1e-6
    True
    """
    d = model.dim
    if d > SPARSE_MAX_DIM:
        raise ValueError(
            f"method='quadrature' applies for d <= {SPARSE_MAX_DIM} (tensor Gauss-Hermite for "
            f"d <= {TENSOR_MAX_DIM}, sparse above); this model has d = {d}: use "
            f"{ALTERNATIVES}")
    if rule is None:
        rule = "tensor" if d <= TENSOR_MAX_DIM else "sparse"
    if rule not in ("tensor", "sparse"):
        raise ValueError(f"rule must be 'tensor' or 'sparse', got {rule!r}")
    cm = counted(model)
    if fit is None:
        if n_starts is None:
            n_starts = 8 if d <= TENSOR_MAX_DIM else 4
        fit = fit_laplace(cm, n_starts=int(n_starts), seed=seed, hunt=int(hunt))
    else:
        cm.n_evals, cm.n_grad_evals = getattr(fit, "cost", (0, 0))
    failed = failed_fit(cm, fit, "quadrature", "quadrature")
    if failed:
        return failed
    mean, cov, _ = fit.mixture_moments()
    chol = np.linalg.cholesky(scale**2 * cov)
    log_det = float(np.sum(np.log(np.diag(chol))))
    bar = progress_bar(None, enabled=progress, desc="quadrature")
    evaluate = _Cache(cm, mean, chol, bar)
    # (at least three tensor levels, which convergence needs: 4,229 points in 3-D)
    budget = max_evals if rule == "sparse" or d > TENSOR_MAX_DIM else min(max_evals, max(
        min(max_evals // 20, GAUSS_HERMITE_EVALS), sum(o**d for o in _ORDERS[:3])))
    estimates, sizes, converged = _gauss_hermite(evaluate, rule, d, log_det, tol, budget)
    cubature_result = None
    box = bounded_box(model) if not converged and rule == "tensor" else None
    if box is not None:
        # a bounded prior box: Genz-Malik over it, with what is left
        cubature_result = genz_malik_box(cm, box, tol, max_evals - evaluate.used)
        bar.update(cubature_result.n_evals)
        bar.close()
        return cubature_evidence(cm, cubature_result, float(estimates[-1]), "the prior box",
                                 _diagnostics(evaluate, sizes, estimates, mean, cov, fit),
                                 max_evals)
    if not converged and rule == "tensor":
        rule = "trapezoid"
        # half of what is left, at most TRAPEZOID_EVALS new points or a sixteenth of the
        # budget: a ring or a funnel defeats the grid, and Genz-Malik (below) needs the rest
        left = max_evals - evaluate.used
        share = min(left // 2, max(TRAPEZOID_EVALS, max_evals // 16))
        estimates, sizes, converged = _trapezoid(evaluate, d, log_det, tol,
                                                 evaluate.used + left // 2,
                                                 soft_budget=evaluate.used + share)
        if not converged or getattr(evaluate, "escaped", False):
            cubature_result = genz_malik_whole_space(cm, mean, chol, log_det, tol,
                                                     max_evals - evaluate.used)
            bar.update(cubature_result.n_evals)
    bar.close()
    log_z = float(estimates[-1])
    escaped = getattr(evaluate, "escaped", False)
    if cubature_result is not None and (cubature_result.success or not escaped):
        diagnostics = _diagnostics(evaluate, sizes, estimates, mean, cov, fit)
        diagnostics.update(trapezoid_log_z=log_z, trapezoid_escaped=escaped)
        return cubature_evidence(cm, cubature_result, log_z, "R^d", diagnostics, max_evals)
    if escaped:
        message = ("adapted quadrature: the log joint is still within 40 nats of its maximum "
                   "60 Laplace standard deviations from the mode: the integral diverges (an "
                   "improper posterior) or the posterior is far from its Laplace scale; no "
                   "finite log Z")
        warnings.warn(message, ReliabilityWarning, stacklevel=2)
        return EvidenceResult(math.inf, math.inf, cm.n_evals, cm.n_grad_evals, "quadrature",
                              False, message, {"levels": sizes, "estimates": estimates})
    if rule == "trapezoid":
        error = _geometric_error(evaluate.spreads)
    else:
        error = abs(estimates[-1] - estimates[-2]) if len(estimates) >= 2 else math.inf
    if not np.isfinite(error):
        error = math.inf
    error = max(error, 1e-15 * (1.0 + abs(log_z)))  # rounding: never claim exactly 0
    diagnostics = dict(_diagnostics(evaluate, sizes, estimates, mean, cov, fit), rule=rule)
    success = bool(converged and np.isfinite(log_z))
    if success:
        message = f"adapted quadrature ({rule}) converged: last two levels differ by {error:.2e}"
    else:
        message = (f"adapted quadrature ({rule}) did not reach tol = {tol} within "
                   f"max_evals = {max_evals}: "
                   f"last two levels differ by {error:.3g} nats (slow convergence: a "
                   "non-Gaussian or improper posterior)")
        warnings.warn(message, IntegrationWarning, stacklevel=2)
    return EvidenceResult(log_z, float(error), cm.n_evals, cm.n_grad_evals, "quadrature",
                          success, message, diagnostics)
