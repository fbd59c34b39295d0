"""Derivatives, gradients, Jacobians, Hessians: numeric and automatic (the core)."""

from ._provisional import (
    DerivativeResult,
    GradientCheck,
    check_gradient,
    derivative,
    finite_difference,
    gradient,
    hessian,
    hvp,
    jacobian,
)

__all__ = [
    "derivative", "finite_difference", "gradient", "jacobian", "hessian", "hvp",
    "check_gradient", "DerivativeResult", "GradientCheck",
]
