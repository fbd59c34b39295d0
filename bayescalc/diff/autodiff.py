"""Automatic differentiation of torch callables with ``torch.func``.

``grad`` for derivatives and gradients (nested for higher orders), ``jacrev`` for
Jacobians, ``hessian`` (forward-over-reverse) for Hessians, and ``jvp`` of ``grad`` for
Hessian-vector products (one forward-over-reverse pass, no Hessian formed). Exact up to
floating point: the only errors are those of f's own arithmetic.

``method="auto"`` tries these first: f counts as a torch callable when it runs under
``torch.func`` on a float64 tensor point, returns a tensor, and its autodiff directional
derivative agrees with a central difference (:func:`auto`). A numpy function fails that
test (``np.exp`` refuses a tensor that requires grad) and gets the numeric engine; so
does f that calls ``float(x)``, which runs but drops derivative terms.
At a kink, torch returns its subgradient convention (``abs`` at 0 gives 0); the numeric
engine instead reports the kink.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._core.arraykind import is_tensor, to_numpy


class NonFiniteAtPoint(ValueError):
    """f is NaN/inf at x: never a reason to fall back to another method."""


def as_tensor(x):
    """x as a float64 torch tensor (a float64/float32 tensor keeps its dtype)."""
    import torch

    if is_tensor(x):
        return x.detach() if x.is_floating_point() else x.detach().to(torch.float64)
    return torch.as_tensor(np.asarray(to_numpy(x)), dtype=torch.float64)


def attempt(compute):
    """``compute()``, or None when f is not a torch callable (any failure but NaN at x)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return compute()
        except NonFiniteAtPoint:
            raise
        except Exception:  # noqa: BLE001 - any failure means "not torch-traceable"
            return None


def auto(compute, f, x, *, vectorized=False, elementwise=False, directional=None):
    """``compute()`` when f is a faithfully traced torch callable, else None.

    f that turns its tensor into a Python number (``float(x)``, ``x.item()``) runs under
    torch.func but silently drops the derivative of everything computed from that
    number (torch warns only once per process). So an autodiff answer is accepted only
    when f's directional derivative by autodiff (``jvp``) agrees with a central
    difference along one fixed direction: two more evaluations of f.
    ``directional(value, u)`` gives that derivative from the computed value (a gradient
    dotted with u) and saves the jvp; without it the jvp is computed.
    """
    value = attempt(compute)
    if value is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return value if _faithful(f, x, vectorized, elementwise, value, directional) \
                else None
        except Exception:  # noqa: BLE001 - a check that cannot run is a failed check
            return None


def _faithful(f, x, vectorized, elementwise, value, directional):
    import torch
    import torch.func as tf

    point = as_tensor(x)
    if elementwise:
        point = point.reshape(-1)[0]
        one = (lambda y: f(y.reshape(1))[0]) if vectorized else f
    else:
        one = _one_point(f, vectorized)
    # A fixed direction with no zero or repeated entries (no randomness, no global state).
    index = torch.arange(1, point.numel() + 1, dtype=point.dtype, device=point.device)
    direction = torch.sin(1.3 * index + 0.4)
    direction = (direction / torch.linalg.vector_norm(direction)).reshape(point.shape)
    if directional is None:
        _, tangent = tf.jvp(lambda y: _require_tensor(one(y)), (point,), (direction,))
    else:
        tangent = directional(value, direction)
    center = to_numpy(one(point))
    scale = max(1.0, float(point.abs().max()))
    step = float(np.finfo(np.float64).eps ** (1 / 3)) * scale
    plus = to_numpy(one(point + step * direction))
    minus = to_numpy(one(point - step * direction))
    if not (np.all(np.isfinite(plus)) and np.all(np.isfinite(minus))):
        return True          # at an edge of f's domain: nothing to compare with
    central = (plus - minus) / (2 * step)
    tangent = to_numpy(tangent)
    # The central difference is good to ~1e-10 relative (step^2 |f'''| / 6 + eps |f| / step).
    tolerance = 1e-5 * (np.abs(central) + np.abs(tangent)) + 1e-8 * np.abs(center)
    return bool(np.all(np.abs(tangent - central) <= tolerance))


def _check_value(value, point):
    value = to_numpy(value)
    if not np.all(np.isfinite(value)):
        raise NonFiniteAtPoint(f"f returned a non-finite value {value} at x = "
                               f"{to_numpy(point)}: a derivative needs f finite at x")


def _require_tensor(value):
    if not is_tensor(value):
        raise TypeError(f"f must return a torch tensor for autodiff, got {type(value).__name__}")
    return value


def derivative(f, x, n: int = 1, *, vectorized: bool = False):
    """n-th derivative of a scalar f at a scalar x, or elementwise at an array x."""
    import torch.func as tf

    point = as_tensor(x)
    if vectorized or point.ndim == 0:
        def order_k(k):
            if k == 0:
                return lambda y: _require_tensor(f(y))
            inner = order_k(k - 1)
            if vectorized:
                return tf.grad(lambda y: inner(y).sum())
            return tf.grad(inner)

        _check_value(_require_tensor(f(point)), point)
        return order_k(n)(point).detach()
    flat = point.reshape(-1)
    values = [derivative(f, flat[i], n) for i in range(flat.numel())]
    import torch

    return torch.stack(values).reshape(point.shape)


def gradient(f, x, *, vectorized: bool = False):
    """Gradient of a scalar f of a point of shape (d,)."""
    import torch.func as tf

    point = as_tensor(x)
    scalar_f = _one_point(f, vectorized)
    gradient_value, value = tf.grad_and_value(lambda y: _require_tensor(scalar_f(y)))(point)
    _check_value(value, point)
    return gradient_value.detach()


def jacobian(f, x, *, vectorized: bool = False):
    """Jacobian (m, d) of a vector-valued f (reverse mode, one pass per output)."""
    import torch.func as tf

    point = as_tensor(x)
    one = _one_point(f, vectorized)
    _check_value(_require_tensor(one(point)), point)
    return tf.jacrev(lambda y: _require_tensor(one(y)))(point).detach()


def hessian(f, x, *, vectorized: bool = False):
    """Hessian (d, d) of a scalar f (forward-over-reverse)."""
    import torch.func as tf

    point = as_tensor(x)
    one = _one_point(f, vectorized)
    _check_value(_require_tensor(one(point)), point)
    return tf.hessian(lambda y: _require_tensor(one(y)))(point).detach()


def hvp(f, x, v, *, vectorized: bool = False):
    """Hessian-vector product :math:`H(x) v` as the jvp of the gradient."""
    import torch.func as tf

    point = as_tensor(x)
    direction = as_tensor(v).to(point.dtype)
    one = _one_point(f, vectorized)
    _check_value(_require_tensor(one(point)), point)
    _, product = tf.jvp(tf.grad(lambda y: _require_tensor(one(y))), (point,), (direction,))
    return product.detach()


def _one_point(f, vectorized):
    """f as a function of one point (a vectorized f is called on a batch of one)."""
    if not vectorized:
        return f
    return lambda y: f(y[None])[0]
