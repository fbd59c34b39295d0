"""Numeric derivatives of functions of a point of shape (d,) along chosen directions.

Builds the line sampler for a gradient, Jacobian, Hessian or Hessian-vector product and
runs the chosen method on all lines at once; the verbs combine the line derivatives.
"""

from __future__ import annotations

import numpy as np

from .._core.arraykind import to_numpy
from .evaluate import LineSampler
from .lines import complex_lines, numeric_lines


def line_derivatives(f, point, directions, n, method, *, vectorized, output, device=None,
                     step=None, rtol=1e-12):
    """n-th derivatives of f along ``directions`` (K, d) at ``point`` (d,).

    ``device`` is None (f gets numpy arrays) or the torch device of the x that came in
    (f gets float64 tensors there).

    Returns ``(LineResult, center, n_evals)``; the LineResult's value is (K, *out).
    """
    directions = np.asarray(directions, dtype=np.float64)
    sampler = LineSampler(f, point, directions, vectorized=vectorized, device=device,
                          output=output)
    center = sampler.center()
    count = directions.shape[0]
    involved = directions != 0
    # Along each line, x's magnitude sets the step; |x_i| along an axis is also the
    # distance to a domain edge at 0 (log, sqrt), where the steps must not cross.
    scale = np.max(np.abs(point)[None, :] * involved, axis=1)
    hint = np.min(np.where(involved, np.abs(point)[None, :], np.inf), axis=1)
    hint = np.where(np.isfinite(hint), hint, 0.0)
    line_step = None
    if step is not None:
        per_coordinate = np.broadcast_to(np.asarray(step, dtype=np.float64), point.shape)
        line_step = np.min(np.where(involved, per_coordinate[None, :], np.inf), axis=1)
    if method == "complex":
        if n != 1:
            raise ValueError("method='complex' gives first derivatives here (gradient, "
                             "jacobian); use 'richardson' or 'autodiff' for Hessians")
        result = complex_lines(sampler, np.maximum(scale, 1.0))
    else:
        centers = np.broadcast_to(center, (count,) + np.shape(center))
        result = numeric_lines(sampler, centers, n, method, scale=scale, hint=hint,
                               step=line_step, rtol=rtol)
    return result, center, sampler.n_evals


def pair_directions(d):
    """The index pairs (i < j) and the directions e_i + e_j, shape (d(d-1)/2, d)."""
    rows, cols = np.triu_indices(d, k=1)
    directions = np.zeros((rows.size, d))
    directions[np.arange(rows.size), rows] = 1.0
    directions[np.arange(rows.size), cols] = 1.0
    return rows, cols, directions


def as_numpy_vector(v, d, name="v"):
    vector = to_numpy(v)
    if vector.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},) like x, got shape {vector.shape}")
    if not np.all(np.isfinite(vector)):
        raise ValueError(f"{name} must be finite, got {vector}")
    return vector
