"""Integrals and expectations: adaptive quadrature, cubature and Monte Carlo."""

from ._cubature import cubature
from ._expectation import expectation
from ._fixed_quad import fixed_quad
from ._importance import ImportanceResult, importance
from ._laplace import laplace_map
from ._monte_carlo import monte_carlo
from ._quad import quad
from ._result import IntegrationResult, MonteCarloResult
from ._vegas import VegasResult, vegas
from .gauss_hermite import gauss_hermite_expectation
from .sampling.control_variates import fit_coefficients as fit_control_variates
from .sampling.psis import psis_khat, psis_smooth
from .sampling.vegas_map import AdaptiveMap

__all__ = ["IntegrationResult", "quad", "fixed_quad", "cubature", "gauss_hermite_expectation",
           "monte_carlo", "MonteCarloResult", "importance", "ImportanceResult", "psis_khat",
           "psis_smooth", "fit_control_variates", "vegas", "VegasResult", "AdaptiveMap",
           "expectation", "laplace_map"]
