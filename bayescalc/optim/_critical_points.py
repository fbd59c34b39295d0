"""Every stationary point of f in a box: seeded starts, Levenberg–Marquardt on ∇f = 0."""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from .._core.arraykind import to_numpy
from .._core.progress import progress_bar
from .._core.random import as_generator
from .._core.validation import as_bounds, check_bool, check_callable, check_int, check_positive
from ._classify import kind_from_eigenvalues
from ._objective import Objective
from .result import CriticalPoint


def critical_points(f, bounds, *, n_starts=None, seed=None, grad=None, hess=None,
                    tol: float = 1e-5, gtol: float = 1e-6, max_steps: int = 100,
                    merge_distance: float = 1e-4, progress: bool = True) -> list[CriticalPoint]:
    r"""Find, de-duplicate and classify the stationary points of ``f`` in a box.

    From ``n_starts`` scrambled Halton points in the box, solve :math:`\nabla f(x) = 0`
    by Levenberg–Marquardt on the residual :math:`r(x) = \nabla f(x)`, whose Jacobian
    is the Hessian :math:`H`:

    .. math:: x \leftarrow x - (H^2 + \mu\,\mathrm{diag}(H^2))^{-1} H \nabla f

    (Marquardt's scaling), with μ shrunk after a step that lowers :math:`\|\nabla f\|`
    and grown after one that does not (Moré 1978, "The Levenberg-Marquardt algorithm:
    implementation and theory"). Unlike descent on f, this converges to saddles and
    maxima as readily as to minima, and (linearly) to degenerate points. Converged
    points inside the box are merged when closer than ``merge_distance`` (as a fraction
    of the box's side in each coordinate) and classified by the signs of the Hessian
    eigenvalues (:func:`classify`).

    Parameters
    ----------
    f : callable
        A function of one point: a float when ``bounds`` is one pair ``(low, high)``,
        else an array of shape ``(d,)``.
    bounds : sequence of (low, high) pairs
        One pair per coordinate (shape ``(d, 2)``); a single pair ``(low, high)`` means
        a function of one variable. Each low must be below its high; finite.
    n_starts : int, optional
        Number of starts (default ``32 · d``). A stationary point is found when some
        start lies in its basin; more starts find small basins.
    seed : int or Generator, optional
        Seeds the scrambled Halton starts.
    grad, hess : callable, optional
        ``∇f`` and ``∇²f`` (default: :mod:`bayescalc.diff`, autodiff for torch callables).
    tol : float
        A Hessian eigenvalue counts as zero when ``|λ| <= tol · max(1, max|λ|)``.
    gtol : float
        A start converged when ``|∇f| <= gtol · max(1, median |∇f| over the starts)``.
    max_steps : int
        Levenberg–Marquardt iterations per start.
    merge_distance : float
        Points closer than this (per coordinate, in units of the box's side) are one.
    progress : bool
        Show a progress bar over the starts (tqdm); False for none.

    Returns
    -------
    list of CriticalPoint
        Sorted by value, lowest first; each has ``x``, ``value``, ``kind``,
        ``hessian_eigenvalues``, ``grad_norm``, and the flags ``is_global_minimum`` /
        ``is_global_maximum`` marking the lowest minimum and highest maximum found
        (all of them on a tie within 1e-9 relative). Stationary points on the box's
        boundary or outside it are not reported, and a global flag speaks only of the
        stationary points found: f may be lower on the boundary.

    Raises
    ------
    ValueError
        ``bounds`` not of shape ``(d, 2)``, not finite, or with low >= high; or f (or its
        derivatives) failing at every start. A start near which f is NaN/inf (where
        :mod:`bayescalc.diff` refuses to differentiate) is dropped.

    Examples
    --------
    >>> from bayescalc.optim import critical_points
    >>> points = critical_points(lambda x: x**3 - 3 * x, (-3.0, 3.0), seed=0)
    >>> [(round(p.x, 6), p.kind, p.is_global_minimum) for p in points]
    [(1.0, 'minimum', True), (-1.0, 'maximum', False)]
    >>> saddle = critical_points(lambda x: x[0] ** 2 - x[1] ** 2, [(-1, 1), (-1, 1)], seed=0)
    >>> [(p.kind, [round(float(v), 6) for v in p.hessian_eigenvalues]) for p in saddle]
    [('saddle', [-2.0, 2.0])]
    """
    low, high, scalar, n_starts, options = _critical_points_iv(
        f, bounds, n_starts, tol, gtol, max_steps, merge_distance)
    objective = Objective(f, 0.0 if scalar else np.zeros(low.size), grad=grad, hess=hess)
    width = high - low
    sampler = qmc.Halton(low.size, scramble=True, seed=as_generator(seed))
    starts = low + width * sampler.random(n_starts)

    found, start_grad_norms, errors = [], [], []
    with progress_bar(total=len(starts), enabled=check_bool(progress, "progress"),
                      desc="critical points") as bar:
        for start in starts:
            bar.update()
            try:
                z, grad_norm, start_grad_norm = _levenberg_marquardt(
                    objective, start, low, width, max_steps=options["max_steps"])
            except ValueError as error:  # f not finite near this start: drop the start
                errors.append(error)
                continue
            start_grad_norms.append(start_grad_norm)
            inside = np.all(np.abs((z - low) / width - 0.5) <= 0.5 + 1e-9)
            if inside and np.isfinite(grad_norm):
                found.append((grad_norm, z))
    if len(errors) == len(starts):
        raise ValueError(f"f or its derivatives failed at every start; the first error: "
                         f"{errors[0]}") from errors[0]
    threshold = options["gtol"] * max(1.0, float(np.nanmedian(start_grad_norms)))
    unique = _merge([(g, z) for g, z in found if g <= threshold], low, width,
                    options["merge_distance"])
    points = [_classify_point(objective, z, g, scalar, options["tol"]) for g, z in unique]
    points.sort(key=lambda p: p.value)
    return _flag_global(points)


def _critical_points_iv(f, bounds, n_starts, tol, gtol, max_steps, merge_distance):
    check_callable(f, "f")
    try:
        array = to_numpy(bounds)
    except (TypeError, ValueError) as error:
        raise ValueError("bounds must be (low, high) pairs of numbers") from error
    scalar = array.shape == (2,)
    if scalar:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0:
        raise ValueError(
            f"bounds must be one (low, high) pair per coordinate, shape (d, 2); got shape "
            f"{array.shape}"
        )
    try:
        low, high = as_bounds(array[:, 0], array[:, 1], names=("low", "high"),
                              allow_infinite=False)
    except ValueError as error:
        raise ValueError(f"bounds: {error}") from None
    n_starts = check_int(n_starts, "n_starts", minimum=1, allow_none=True) or 32 * low.size
    options = {
        "tol": check_positive(tol, "tol"),
        "gtol": check_positive(gtol, "gtol"),
        "max_steps": check_int(max_steps, "max_steps", minimum=1),
        "merge_distance": check_positive(merge_distance, "merge_distance"),
    }
    return low, high, scalar, n_starts, options


def _levenberg_marquardt(objective, z, low, width, *, max_steps, xtol=1e-10,
                         max_rejections=5):
    """Solve ∇f(z) = 0 from ``z``; return (z, |∇f(z)|, |∇f(start)|).

    Stops when a step moves less than ``xtol`` of the box's side in every coordinate,
    after ``max_rejections`` steps in a row that do not lower |∇f| (the noise floor of
    the derivatives), or after ``max_steps``. The Hessian is recomputed only after a step
    that cut |∇f| by less than 4×: while Newton converges fast, the previous Hessian is
    good enough (Shamanskii's variant of Newton's method), which saves most Hessians.
    A start that leaves the box by more than its size is abandoned (grad norm inf).
    """
    gradient = objective.grad(z)
    start_grad_norm = grad_norm = float(np.linalg.norm(gradient))
    if not np.isfinite(grad_norm):
        return z, np.inf, np.nan
    hessian = objective.hess(z)
    damping, rejections = 1e-3, 0
    for _ in range(max_steps):
        if grad_norm == 0.0:
            break
        step = _marquardt_step(hessian, gradient, damping)
        if not np.all(np.isfinite(step)):
            break
        z_new = z + step
        if np.any(np.abs((z_new - low) / width - 0.5) > 1.5):
            return z_new, np.inf, start_grad_norm  # left the box: abandon this start
        gradient_new = objective.grad(z_new)
        grad_norm_new = float(np.linalg.norm(gradient_new))
        if grad_norm_new < grad_norm:
            fast = grad_norm_new < 0.25 * grad_norm
            z, gradient, grad_norm = z_new, gradient_new, grad_norm_new
            if not fast:
                hessian = objective.hess(z)
            damping, rejections = max(damping / 3.0, 1e-15), 0
        else:
            hessian = objective.hess(z)  # a stale Hessian may be why the step failed
            damping, rejections = damping * 10.0, rejections + 1
        if np.max(np.abs(step) / width) <= xtol or rejections >= max_rejections:
            break
    return z, grad_norm, start_grad_norm


def _marquardt_step(hessian, gradient, damping):
    """Solve ``(N + μ diag N) s = -H g`` (``N = H²``) in the variables scaled by √diag N.

    In those variables the system has a unit diagonal, so a coordinate whose curvature is
    tiny (near a degenerate root) is not lost to round-off beside a steep one. A
    coordinate with ``diag N = 0`` has a zero Hessian row, and takes no step.
    """
    normal = hessian @ hessian
    scale = np.sqrt(np.diag(normal))
    active = scale > 0
    step = np.zeros_like(gradient)
    if not active.any():
        return step
    s_active = scale[active]
    scaled = normal[np.ix_(active, active)] / np.outer(s_active, s_active)
    scaled += damping * np.eye(scaled.shape[0])
    rhs = (hessian @ gradient)[active] / s_active
    step[active] = -np.linalg.lstsq(scaled, rhs, rcond=None)[0] / s_active
    return step


def _merge(found, low, width, merge_distance):
    """Greedy de-duplication: the most stationary point of each cluster represents it."""
    unique = []
    for grad_norm, z in sorted(found, key=lambda item: item[0]):
        u = (z - low) / width
        if all(np.max(np.abs(u - (other - low) / width)) > merge_distance
               for _, other in unique):
            unique.append((grad_norm, z))
    return unique


def _classify_point(objective, z, grad_norm, scalar, tol) -> CriticalPoint:
    eigenvalues = np.linalg.eigvalsh(objective.hess(z))
    return CriticalPoint(
        x=float(z[0]) if scalar else z.copy(),
        value=objective.value(z),
        kind=kind_from_eigenvalues(eigenvalues, tol=tol),
        hessian_eigenvalues=eigenvalues,
        grad_norm=grad_norm,
    )


def _flag_global(points):
    """Flag the lowest minimum and the highest maximum (all of them on a tie)."""
    for kind, pick, flag in (("minimum", min, "is_global_minimum"),
                             ("maximum", max, "is_global_maximum")):
        values = [p.value for p in points if p.kind == kind]
        if not values:
            continue
        best = pick(values)
        tie = 1e-9 * max(1.0, abs(best))
        points = [p._replace(**{flag: True}) if p.kind == kind and abs(p.value - best) <= tie
                  else p for p in points]
    return points
