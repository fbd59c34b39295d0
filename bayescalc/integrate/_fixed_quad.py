"""``fixed_quad``: one Gauss rule of fixed order, differentiable through torch."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import roots_hermite, roots_laguerre, roots_legendre

from .._core.arraykind import is_tensor, to_numpy
from .._core.validation import check_callable, check_choice, check_int

RULES = ("gauss-legendre", "gauss-hermite", "gauss-laguerre")


def fixed_quad(f, a, b, n=20, rule="gauss-legendre"):
    r"""The ``n``-point Gauss rule for :math:`\int_a^b f(x)\,dx`, differentiable in torch.

    * ``"gauss-legendre"``, finite ``[a, b]``: :math:`\frac{b-a}{2} \sum_i w_i
      f(\frac{a+b}{2} + \frac{b-a}{2} t_i)`, exact for polynomials of degree
      :math:`2n - 1`.
    * ``"gauss-hermite"``, ``(-inf, inf)``: :math:`\sum_i w_i e^{t_i^2} f(t_i)`, exact for
      :math:`f = p(x) e^{-x^2}` with :math:`\deg p \le 2n - 1`.
    * ``"gauss-laguerre"``, ``[a, inf)``: :math:`\sum_i w_i e^{t_i} f(a + t_i)`, exact for
      :math:`f = p(x) e^{-(x - a)}` with :math:`\deg p \le 2n - 1`.

    Nodes and weights come from ``scipy.special`` (Golub–Welsch). There is no error
    estimate (use :func:`quad` for one); the point of this function is that it is a plain
    weighted sum: when ``f`` computes with torch tensors (or ``a``, ``b`` are tensors
    that require grad), the result is a tensor and gradients flow through it.

    Parameters
    ----------
    f : callable
        Vectorized: nodes of shape ``(n,)`` -> values ``(n,)``. It receives a float64
        torch tensor when ``a`` or ``b`` is a tensor, else a numpy array (and, if that
        fails, a tensor).
    a, b : float or 0-d tensor
        Limits (``-inf, inf`` for Hermite; ``a, inf`` for Laguerre).
    n : int
        Number of nodes.
    rule : {"gauss-legendre", "gauss-hermite", "gauss-laguerre"}

    Returns
    -------
    float or torch.Tensor
        The value (a tensor when ``f`` returned one or a limit is one).

    Examples
    --------
    >>> import numpy as np, torch
    >>> print(f"{fixed_quad(np.cos, 0.0, np.pi / 2, n=10):.12f}")
    1.000000000000
    >>> print(f"{fixed_quad(lambda x: np.exp(-x**2), -np.inf, np.inf, 5, 'gauss-hermite'):.12f}")
    1.772453850906
    >>> theta = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    >>> value = fixed_quad(lambda x: torch.exp(-theta * x), 0.0, 1.0, n=10)
    >>> value.backward()          # d/dθ ∫_0^1 e^{-θx} dx = -∫_0^1 x e^{-θx} dx
    >>> print(f"{value.item():.10f} {theta.grad.item():.10f}")
    0.4323323584 -0.1484985376
    """
    check_callable(f)
    n = check_int(n, "n", minimum=1)
    check_choice(rule, "rule", RULES)
    low, high = _limit(a, "a"), _limit(b, "b")
    use_torch = is_tensor(a) or is_tensor(b)
    if rule == "gauss-legendre":
        if not (np.isfinite(low) and np.isfinite(high)):
            raise ValueError(f"gauss-legendre needs finite a and b, got a = {low}, b = {high}")
        nodes, weights = roots_legendre(n)
    elif rule == "gauss-hermite":
        if not (low == -np.inf and high == np.inf):
            raise ValueError("gauss-hermite integrates over (-inf, inf), "
                             f"got a = {low}, b = {high}")
        nodes, weights = roots_hermite(n)
        weights = weights * np.exp(nodes**2)
    else:
        if not (np.isfinite(low) and high == np.inf):
            raise ValueError(f"gauss-laguerre integrates over [a, inf), got a = {low}, b = {high}")
        nodes, weights = roots_laguerre(n)
        weights = weights * np.exp(nodes)
    if use_torch:
        return _torch_sum(f, a, b, nodes, weights, rule)
    x = (0.5 * (low + high) + 0.5 * (high - low) * nodes if rule == "gauss-legendre"
         else nodes + low if rule == "gauss-laguerre" else nodes)
    try:
        with warnings.catch_warnings():  # torch code given numpy nodes: numpy 2 deprecation
            warnings.simplefilter("ignore", DeprecationWarning)
            values = f(x)
    except Exception:  # noqa: BLE001 - a torch-only integrand: retry with a tensor
        return _torch_sum(f, a, b, nodes, weights, rule)
    scale = 0.5 * (high - low) if rule == "gauss-legendre" else 1.0
    if is_tensor(values):
        import torch

        w = torch.as_tensor(weights * scale, dtype=values.dtype, device=values.device)
        return (w * values.reshape(-1)).sum()
    values = to_numpy(values).reshape(-1)
    if values.shape != (n,):
        raise ValueError(f"f must return shape ({n},) for {n} nodes, got {values.shape}")
    return float(scale * (values @ weights))


def _torch_sum(f, a, b, nodes, weights, rule):
    import torch

    t = torch.as_tensor(nodes, dtype=torch.float64)
    w = torch.as_tensor(weights, dtype=torch.float64)
    a_t = a if is_tensor(a) else torch.as_tensor(float(a), dtype=torch.float64)
    b_t = b if is_tensor(b) else torch.as_tensor(float(b), dtype=torch.float64)
    if rule == "gauss-legendre":
        half = 0.5 * (b_t - a_t)
        return half * (w * f(0.5 * (a_t + b_t) + half * t).reshape(-1)).sum()
    x = t + a_t if rule == "gauss-laguerre" else t
    return (w * f(x).reshape(-1)).sum()


def _limit(value, name):
    array = to_numpy(value)
    if array.ndim != 0 or np.isnan(array):
        raise ValueError(f"{name} must be a scalar (not NaN), got {value!r}")
    return float(array)
