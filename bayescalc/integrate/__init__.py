"""Integrals and expectations: adaptive quadrature, cubature and Monte Carlo."""

from ._result import IntegrationResult
from .quad import quad

__all__ = ["IntegrationResult", "quad"]
