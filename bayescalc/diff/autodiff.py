"""Automatic differentiation of torch callables with ``torch.func``.

``grad`` for derivatives and gradients (nested for higher orders), ``jacrev`` for
Jacobians, ``hessian`` (forward-over-reverse) for Hessians, and ``jvp`` of ``grad`` for
Hessian-vector products (one forward-over-reverse pass, no Hessian formed). Exact up to
floating point: the only errors are those of f's own arithmetic.

``method="auto"`` returns these in one pass when f runs under ``torch.func`` on a
float64 tensor point and returns a tensor (a numpy function fails: ``np.exp`` refuses a
tensor that requires grad, and gets the numeric engine). One plain evaluation of f
watches what f does with its tensor (:func:`inspect`): f that calls ``float(x)`` runs
under torch.func but drops derivative terms, so it gets the numeric engine; a piecewise
torch function exactly at its switch point (``abs`` at 0, where torch returns the
subgradient 0) asks the numeric engine whether f has a kink there, and only a kink
replaces the autodiff value. At a smooth generic point nothing fires, and the autodiff
value is never replaced by a finite difference.
"""

from __future__ import annotations

import contextvars
import warnings

import numpy as np

from .._core.arraykind import is_tensor, like, to_numpy
from ._warnings import warn_unless_success


class NonFiniteAtPoint(ValueError):
    """f is NaN/inf at x: never a reason to fall back to another method."""


# True while "auto" differentiates after :func:`inspect` has evaluated f at x and found
# it finite: the autodiff functions then skip their own evaluation of f(x).
_CHECKED = contextvars.ContextVar("bayescalc_diff_checked", default=False)


def as_tensor(x):
    """x as a float64 torch tensor (a float64/float32 tensor keeps its dtype)."""
    import torch

    if is_tensor(x):
        return x.detach() if x.is_floating_point() else x.detach().to(torch.float64)
    return torch.as_tensor(np.asarray(to_numpy(x)), dtype=torch.float64)


def as_vector(x):
    """x flattened to a float64 (or float32) torch vector."""
    return as_tensor(x).reshape(-1)


def answer(method, compute, f, x, *, vectorized=False, shape=None, numeric=None,
           elementwise=False):
    """The autodiff value for ``method`` ``"autodiff"`` or ``"auto"``, in x's kind.

    ``compute(t)`` differentiates at the tensor point ``t`` (flat, or x's shape when
    ``elementwise``). With ``"auto"``: None when f is not a torch callable or converts
    its tensor to a Python number (the caller falls back to the numeric engine); at a
    switch point of a piecewise torch function (:func:`inspect`) the numeric engine
    ``numeric()`` decides whether f has a kink there, and only a kink replaces the
    autodiff value (with the engine's warning). ``shape``: the value's shape, if not as
    computed.
    """
    point = as_tensor(x) if elementwise else as_vector(x)
    if method == "autodiff":
        value = compute(point)
    else:
        verdict = inspect(f, point, vectorized=vectorized, elementwise=elementwise)
        if verdict == CONVERTED:
            return None
        token = _CHECKED.set(True)          # inspect evaluated f(x) and found it finite
        try:
            value = attempt(lambda: compute(point))
        finally:
            _CHECKED.reset(token)
        if value is None:
            return None
        if verdict == SWITCH and numeric is not None:
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                result = numeric()
            if not result.success and KINK_MESSAGE in result.message:
                return warn_unless_success(result).value
    return like(x, value if shape is None else value.reshape(shape))


def exact_or_numeric(method, exact, estimate, f, x, *, vectorized=False, shape=None,
                     elementwise=False):
    """A calculus verb's value: autodiff where it applies, else the numeric engine's.

    The one dispatch of :func:`~bayescalc.diff.derivative`, ``gradient``, ``jacobian``,
    ``hessian`` and ``hvp``: with ``method`` ``"autodiff"``, or ``"auto"`` on a torch
    callable that :func:`answer` accepts, ``exact(t)`` at the tensor point t; otherwise
    ``estimate(method).value``, the numeric engine (``"richardson"`` for ``"auto"``).
    ``estimate("richardson")`` also settles a switch point of a piecewise f.
    """
    if method in ("auto", "autodiff"):
        value = answer(method, exact, f, x, vectorized=vectorized, shape=shape,
                       elementwise=elementwise, numeric=lambda: estimate("richardson"))
        if value is not None:
            return value
        method = "richardson"
    return estimate(method).value


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


# Verdicts of :func:`inspect`.
FAITHFUL, CONVERTED, SWITCH = "faithful", "converted", "switch"
KINK_MESSAGE = "not differentiable"

# Tensor -> Python number conversions: autodiff cannot see through them.
_CONVERSIONS = frozenset({"__float__", "__int__", "__index__", "__complex__", "item",
                          "tolist", "numpy", "__array__"})
# Piecewise functions, by where they switch: at 0, at integers, where two arguments tie.
_SWITCH_AT_ZERO = frozenset({"abs", "absolute", "__abs__", "relu", "sign", "sgn",
                             "heaviside"})
_SWITCH_AT_INTEGERS = frozenset({"floor", "ceil", "round", "trunc", "frac", "fix"})
_SWITCH_AT_TIES = frozenset({"maximum", "minimum", "fmax", "fmin", "gt", "lt", "ge", "le",
                             "greater", "less", "greater_equal", "less_equal", "__gt__",
                             "__lt__", "__ge__", "__le__", "max", "min"})
_SWITCH_AT_BOUNDS = frozenset({"clamp", "clip", "clamp_min", "clamp_max"})
_SWITCH_IN_REDUCTION = frozenset({"max", "min", "amax", "amin"})


def inspect(f, point, *, vectorized=False, elementwise=False):
    """One plain evaluation of f at the point, watching what it does with its tensor.

    Raises NonFiniteAtPoint when f(x) is NaN/inf (so the autodiff functions need not
    evaluate f(x) again). Returns ``CONVERTED`` when f fails on a tensor, returns a
    non-tensor, or turns a tensor that depends on x into a Python number
    (``float(x)``, ``x.item()``: torch.func runs it but drops the derivative of everything
    computed from that number), ``SWITCH`` when a piecewise torch function (``abs``,
    ``relu``, ``clamp``, ``maximum``, a comparison, ``floor``...) sits exactly at its
    switch point (autodiff then returns one branch's derivative or a subgradient:
    possibly a kink), else ``FAITHFUL``. A smooth f at a generic point is FAITHFUL, so
    the check cannot fire there; it costs one evaluation of f (one per element of an
    array of points when f is not vectorized).
    """
    probe = point.detach().clone().requires_grad_(True)
    watcher = _Watcher()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with watcher:
                if elementwise and not vectorized:
                    flat = probe.reshape(-1)
                    outputs = [(f(flat[k]), flat[k]) for k in range(flat.numel())]
                elif elementwise:
                    outputs = [(f(probe.reshape(-1)), probe)]
                else:
                    outputs = [(_one_point(f, vectorized)(probe), probe)]
        except Exception:  # noqa: BLE001 - not a torch callable (np.sin on a tensor...)
            return CONVERTED
    for value, where in outputs:
        if not is_tensor(value):
            return CONVERTED                # a Python/numpy number: no autodiff through it
        _check_value(value.detach(), where.detach())
    if watcher.converted:
        return CONVERTED
    return SWITCH if watcher.switch else FAITHFUL


def is_autodiff_faithful(f, x, *, vectorized: bool = False) -> bool:
    """Whether torch autodiff of the scalar function f at x can be trusted.

    The one check every layer uses before it commits to ``method="autodiff"`` for a
    whole run (a min-max game, an optimizer): True when f runs on a float64 tensor
    point, returns a tensor, never turns a tensor that depends on x into a Python number
    (``float(x)``, ``x.item()``, ``x.numpy()``: torch.func would run f but drop the
    derivative of everything computed from that number), and ``torch.func.grad``
    differentiates it at x. False when f is a numpy callable, leaves torch, or is not
    finite at x.

    No tolerance is involved: the verdict comes from watching what f does with its
    tensor (:func:`inspect`), not from comparing the autodiff gradient with a finite
    difference. A comparison needs a tolerance wide enough for the difference's own
    error (about 1e-9 relative for central differences, 1e-5 for a rough one) and then
    misses a dropped term smaller than that tolerance; the structural check misses none.
    A piecewise torch function exactly at its switch point (``abs`` at 0) is trusted:
    torch returns a subgradient there, and a run moves on to points where it is exact.

    Parameters
    ----------
    f : callable
        A scalar function of one point (of a batch of points with ``vectorized``).
    x : float, array_like or Tensor
        The point (flattened to a vector).
    vectorized : bool
        f takes a batch ``(n, d)`` and returns ``(n,)``.

    Examples
    --------
    >>> import math, torch
    >>> is_autodiff_faithful(lambda x: torch.sin(x).sum(), [0.5, 1.0])
    True
    >>> is_autodiff_faithful(lambda x: math.sin(float(x[0])), [0.5])  # leaves torch
    False
    >>> import numpy as np
    >>> is_autodiff_faithful(lambda x: np.sin(x).sum(), [0.5])        # numpy only
    False
    """
    point = as_vector(x)
    try:
        if inspect(f, point, vectorized=vectorized) == CONVERTED:
            return False
    except NonFiniteAtPoint:
        return False
    return attempt(lambda: gradient(f, point, vectorized=vectorized)) is not None


def _depends_on_x(value):
    import torch

    return isinstance(value, torch.Tensor) and value.requires_grad


def _at_switch(name, args, kwargs):
    """Whether the piecewise function ``name`` is evaluated exactly at its switch point."""
    import torch

    tensors = [a for a in args if isinstance(a, (torch.Tensor, float, int))]
    if not any(_depends_on_x(a) for a in tensors):
        return False
    first = args[0]
    with torch.no_grad():
        if name in _SWITCH_AT_ZERO:
            return bool((first == 0).any())
        if name in _SWITCH_AT_INTEGERS:
            return bool((first == torch.round(first)).any())
        if name in _SWITCH_AT_BOUNDS:
            bounds = list(args[1:]) + [kwargs.get("min"), kwargs.get("max")]
            return any(b is not None and bool((first == b).any()) for b in bounds)
        if name in _SWITCH_IN_REDUCTION and (len(args) == 1 or not isinstance(args[1],
                                                                             torch.Tensor)):
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            if dim is None:
                return bool((first == first.max()).sum() > 1)
            top = first.amax(dim=dim, keepdim=True) if name in ("max", "amax") else \
                first.amin(dim=dim, keepdim=True)
            return bool(((first == top).sum(dim=dim) > 1).any())
        if name in _SWITCH_AT_TIES and len(args) > 1:
            return bool((first == args[1]).any())
    return False


def _watcher_class():
    from torch.overrides import TorchFunctionMode

    class Watcher(TorchFunctionMode):
        """Records tensor-to-number conversions and piecewise functions at a switch."""

        def __init__(self):
            super().__init__()
            self.converted = False
            self.switch = False

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name = getattr(func, "__name__", "")
            if name in _CONVERSIONS and args and _depends_on_x(args[0]):
                self.converted = True
            elif not self.switch and args:
                try:
                    self.switch = _at_switch(name, args, kwargs)
                except Exception:  # noqa: BLE001 - an odd signature: not a switch
                    pass
            return func(*args, **kwargs)

    return Watcher


def _Watcher():  # noqa: N802 - a class built on first use (torch is imported lazily)
    global _WATCHER
    if _WATCHER is None:
        _WATCHER = _watcher_class()
    return _WATCHER()


_WATCHER = None


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
    if n == 1 and not vectorized and point.ndim == 0:
        # One pass: the value comes with the gradient (and is checked for NaN/inf).
        first, value = tf.grad_and_value(lambda y: _require_tensor(f(y)))(point)
        _check_value(value, point)
        return first.detach()
    if vectorized or point.ndim == 0:
        def order_k(k):
            if k == 0:
                return lambda y: _require_tensor(f(y))
            inner = order_k(k - 1)
            if vectorized:
                return tf.grad(lambda y: inner(y).sum())
            return tf.grad(inner)

        if not _CHECKED.get():
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
    if not _CHECKED.get():
        _check_value(_require_tensor(one(point)), point)
    return tf.jacrev(lambda y: _require_tensor(one(y)))(point).detach()


def hessian(f, x, *, vectorized: bool = False):
    """Hessian (d, d) of a scalar f (forward-over-reverse)."""
    import torch.func as tf

    point = as_tensor(x)
    one = _one_point(f, vectorized)
    if not _CHECKED.get():
        _check_value(_require_tensor(one(point)), point)
    return tf.hessian(lambda y: _require_tensor(one(y)))(point).detach()


def hvp(f, x, v, *, vectorized: bool = False):
    """Hessian-vector product :math:`H(x) v` as the jvp of the gradient."""
    import torch.func as tf

    point = as_tensor(x)
    direction = as_tensor(v).to(point.dtype)
    one = _one_point(f, vectorized)
    if not _CHECKED.get():
        _check_value(_require_tensor(one(point)), point)
    _, product = tf.jvp(tf.grad(lambda y: _require_tensor(one(y))), (point,), (direction,))
    return product.detach()


def _one_point(f, vectorized):
    """f as a function of one point (a vectorized f is called on a batch of one)."""
    if not vectorized:
        return f
    return lambda y: f(y[None])[0]
