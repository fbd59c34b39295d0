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
At a kink, torch returns its subgradient convention (``abs`` at 0 gives 0):
``method="autodiff"`` returns that, ``"auto"`` detects the kink (:func:`auto`) and the
numeric engine reports it.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._core.arraykind import is_tensor, like, to_numpy


class NonFiniteAtPoint(ValueError):
    """f is NaN/inf at x: never a reason to fall back to another method."""


def as_tensor(x):
    """x as a float64 torch tensor (a float64/float32 tensor keeps its dtype)."""
    import torch

    if is_tensor(x):
        return x.detach() if x.is_floating_point() else x.detach().to(torch.float64)
    return torch.as_tensor(np.asarray(to_numpy(x)), dtype=torch.float64)


def as_vector(x):
    """x flattened to a float64 (or float32) torch vector."""
    return as_tensor(x).reshape(-1)


def answer(method, compute, f, x, *, vectorized=False, directional=None, shape=None):
    """The autodiff value for ``method`` ``"autodiff"`` or ``"auto"``, in x's kind.

    ``compute(t)`` differentiates at the flat tensor point ``t``. With ``"auto"`` the
    value must pass :func:`auto`'s checks, else the result is None (the caller falls
    back to the numeric engine). ``shape``: the value's shape, if not as computed.
    """
    point = as_vector(x)
    value = (compute(point) if method == "autodiff" else
             auto(lambda: compute(point), f, point, vectorized=vectorized,
                  directional=directional))
    if value is None:
        return None
    return like(x, value if shape is None else value.reshape(shape))


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
    """``compute()`` when f is a faithfully traced, differentiable torch callable, else None.

    Two ways autodiff can be confidently wrong are checked along one fixed direction u,
    with four more evaluations of f:

    - f turns its tensor into a Python number (``float(x)``, ``x.item()``): it runs under
      torch.func but drops the derivative of everything computed from that number
      (torch warns only once per process). The autodiff directional derivative must
      agree with a central difference.
    - f has a kink at x (``abs`` at 0): torch returns a subgradient. The second
      difference :math:`(f(x+hu) - 2f(x) + f(x-hu))/h` shrinks with h where f is smooth
      and stays put at a kink; a kink sends f to the numeric engine, which reports it.

    ``directional(value, u)`` gives the directional derivative from the computed value (a
    gradient dotted with u) and saves a jvp; without it the jvp is computed.
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

    point = as_tensor(x)
    if elementwise:
        one = (lambda y: f(y.reshape(1))[0]) if vectorized else f
        flat = point.reshape(-1)
        values = None if directional is None else value.reshape(-1)
        return all(_faithful_at(one, flat[k], None if values is None else values[k],
                                torch.ones_like(flat[k]))
                   for k in range(flat.numel()))
    one = _one_point(f, vectorized)
    # A fixed direction with no zero or repeated entries (no randomness, no global state).
    index = torch.arange(1, point.numel() + 1, dtype=point.dtype, device=point.device)
    direction = torch.sin(1.3 * index + 0.4)
    direction = (direction / torch.linalg.vector_norm(direction)).reshape(point.shape)
    tangent = None if directional is None else directional(value, direction)
    return _faithful_at(one, point, tangent, direction)


def _faithful_at(one, point, tangent, direction):
    import torch.func as tf

    if tangent is None:
        _, tangent = tf.jvp(lambda y: _require_tensor(one(y)), (point,), (direction,))
    center = to_numpy(one(point))
    scale = max(1.0, float(point.abs().max()))
    step = float(np.finfo(np.float64).eps ** (1 / 3)) * scale
    plus, minus, plus_half, minus_half = (to_numpy(one(point + t * direction))
                                          for t in (step, -step, step / 2, -step / 2))
    if not all(np.all(np.isfinite(v)) for v in (plus, minus, plus_half, minus_half)):
        return True          # at an edge of f's domain: nothing to compare with
    central = (plus - minus) / (2 * step)
    central_half = (plus_half - minus_half) / step
    tangent = to_numpy(tangent)
    # The central difference's error is step^2 |f'''| / 6 (estimated by 4/3 of its change
    # on halving the step; bounded by 2x that) plus round-off ~eps |f| / step.
    tolerance = (1e-5 * (np.abs(central) + np.abs(tangent)) + 1e-8 * np.abs(center)
                 + 2 * np.abs(central - central_half))
    if not np.all(np.abs(tangent - central) <= tolerance):
        return False
    # Kink test: the second difference halves with h for smooth f (h f''), not at a kink.
    second = (plus - 2 * center + minus) / step
    second_half = (plus_half - 2 * center + minus_half) / (step / 2)
    noise = 8 * np.finfo(np.float64).eps * np.maximum(np.abs(center), np.abs(plus)) / step
    kink = (np.abs(second) > 100 * noise) & (np.abs(second_half) > 0.75 * np.abs(second))
    return not bool(np.any(kink))


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
