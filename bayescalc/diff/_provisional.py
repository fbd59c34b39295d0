"""PROVISIONAL diff core (central differences + torch.func) with the final signatures.

Replaced by the real engine (Richardson extrapolation, error estimates, complex step).
Only the public names and signatures here are the contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core.arraykind import is_tensor, like, to_numpy
from .._core.result import Result


@dataclass(frozen=True, repr=False)
class DerivativeResult(Result):
    value: object
    error: object
    n_evals: int
    method: str
    step: object


@dataclass(frozen=True, repr=False)
class GradientCheck(Result):
    max_abs_error: float
    max_rel_error: float
    ok: bool


def _fnum(f, x):
    y = f(x)
    return to_numpy(y)


def finite_difference(f, x, *, n=1, method="richardson", step=None, vectorized=False):
    x = float(to_numpy(x))
    h = step or 1e-3 * max(1.0, abs(x))
    if n == 1:
        value = (float(_fnum(f, x + h)) - float(_fnum(f, x - h))) / (2 * h)
    elif n == 2:
        value = (float(_fnum(f, x + h)) - 2 * float(_fnum(f, x)) + float(_fnum(f, x - h))) / h**2
    else:
        raise NotImplementedError
    return DerivativeResult(value, abs(value) * 1e-6, 2, "central", h)


def _torch_point(x):
    import torch
    return x if is_tensor(x) else torch.as_tensor(to_numpy(x), dtype=torch.float64)


def derivative(f, x, *, n=1, method="auto", step=None, vectorized=False):
    if is_tensor(x) or method == "autodiff":
        import torch.func as tf
        g = f
        for _ in range(n):
            g = tf.grad(g)
        return like(x, to_numpy(g(_torch_point(x))))
    return like(x, finite_difference(f, x, n=n, step=step).value)


def gradient(f, x, *, method="auto", step=None, vectorized=False):
    if is_tensor(x) or method == "autodiff":
        import torch.func as tf
        return like(x, to_numpy(tf.grad(f)(_torch_point(x))))
    x0 = to_numpy(x)
    h = step or 1e-5
    out = np.empty(x0.size)
    for i in range(x0.size):
        e = np.zeros_like(x0); e[i] = h
        out[i] = (float(_fnum(f, x0 + e)) - float(_fnum(f, x0 - e))) / (2 * h)
    return like(x, out.reshape(x0.shape))


def jacobian(f, x, *, method="auto", step=None, vectorized=False):
    if is_tensor(x) or method == "autodiff":
        import torch.func as tf
        return like(x, to_numpy(tf.jacrev(f)(_torch_point(x))))
    x0 = np.atleast_1d(to_numpy(x))
    h = step or 1e-5
    cols = []
    for i in range(x0.size):
        e = np.zeros_like(x0); e[i] = h
        cols.append((_fnum(f, x0 + e) - _fnum(f, x0 - e)) / (2 * h))
    return like(x, np.stack(cols, axis=-1))


def hessian(f, x, *, method="auto", step=None, vectorized=False):
    if is_tensor(x) or method == "autodiff":
        import torch.func as tf
        return like(x, to_numpy(tf.hessian(f)(_torch_point(x))))
    x0 = np.atleast_1d(to_numpy(x))
    h = step or 1e-4
    d = x0.size
    H = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            ei = np.zeros(d); ei[i] = h
            ej = np.zeros(d); ej[j] = h
            H[i, j] = (float(_fnum(f, x0 + ei + ej)) - float(_fnum(f, x0 + ei - ej))
                       - float(_fnum(f, x0 - ei + ej)) + float(_fnum(f, x0 - ei - ej))) / (4 * h * h)
    return like(x, H)


def hvp(f, x, v, *, method="auto", step=None, vectorized=False):
    H = to_numpy(hessian(f, x, method=method, step=step))
    return like(x, H @ to_numpy(v))


def check_gradient(f, grad, x, *, rtol=1e-6, atol=0.0):
    g_user = to_numpy(grad(x))
    g_num = to_numpy(gradient(f, x))
    abs_err = float(np.max(np.abs(g_user - g_num)))
    rel_err = float(np.max(np.abs(g_user - g_num) / np.maximum(np.abs(g_num), 1e-300)))
    return GradientCheck(abs_err, rel_err, bool(abs_err <= atol + rtol * np.max(np.abs(g_num))))
