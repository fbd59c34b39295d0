"""Integrals and expectations: adaptive quadrature, cubature and Monte Carlo."""

from ._result import IntegrationResult

__all__ = ["IntegrationResult"]
