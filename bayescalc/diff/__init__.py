"""Derivatives, gradients, Jacobians, Hessians: numeric and automatic (the core).

The calculus verbs (:func:`derivative`, :func:`gradient`, :func:`jacobian`,
:func:`hessian`, :func:`hvp`) return plain values; with ``method="auto"`` they use
torch.func autodiff for torch callables and the adaptive Richardson engine otherwise.
The engines (:func:`finite_difference`, :func:`gradient_estimate`,
:func:`jacobian_estimate`, :func:`hessian_estimate`, :func:`hvp_estimate`) return a
:class:`DerivativeResult` with an error estimate. See ``docs/diff.md``.
"""

from ._derivative import derivative, finite_difference
from ._gradient import gradient, gradient_estimate
from ._hessian import hessian, hessian_estimate
from ._hvp import hvp, hvp_estimate
from ._jacobian import jacobian, jacobian_estimate
from .autodiff import is_autodiff_faithful
from .check import check_gradient
from .result import DerivativeResult, GradientCheck

__all__ = [
    "derivative", "finite_difference", "gradient", "jacobian", "hessian", "hvp",
    "check_gradient", "is_autodiff_faithful", "DerivativeResult", "GradientCheck",
    "gradient_estimate", "jacobian_estimate", "hessian_estimate", "hvp_estimate",
]
