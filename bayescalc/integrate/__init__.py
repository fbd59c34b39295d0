"""Integrals and expectations: adaptive quadrature, cubature and Monte Carlo."""

from ._laplace import laplace_map
from ._result import IntegrationResult, MonteCarloResult
from .control_variates import fit_coefficients as fit_control_variates
from ._cubature import cubature
from ._expectation import expectation
from ._fixed_quad import fixed_quad
from .gauss_hermite import gauss_hermite_expectation
from ._importance import ImportanceResult, importance
from ._monte_carlo import monte_carlo
from .psis import psis_khat, psis_smooth
from ._quad import quad
from ._vegas import VegasResult, vegas
from .vegas_map import AdaptiveMap

__all__ = ["IntegrationResult", "quad", "fixed_quad", "cubature", "gauss_hermite_expectation",
           "monte_carlo", "MonteCarloResult", "importance", "ImportanceResult", "psis_khat",
           "psis_smooth", "fit_control_variates", "vegas", "VegasResult", "AdaptiveMap",
           "expectation", "laplace_map"]
