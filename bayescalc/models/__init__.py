"""Reference models: seeded synthetic data, a :class:`bayescalc.Model` each, and the exact
log evidence ``log_z_exact`` wherever it is known in closed form or to high precision.

Every function returns a :class:`~bayescalc.model.Model` (nothing is downloaded; the
data come from ``seed``). Where the posterior is Gaussian the model also carries
``posterior_mean`` and ``posterior_cov`` (float64 tensors). How each ``log_z_exact`` is
obtained is stated in the function's docstring and in ``docs/model.md``.
"""

from ._banana import banana
from ._conjugate import beta_binomial, conjugate_normal_mean
from ._correlated import correlated_gaussian
from ._eight_schools import eight_schools
from ._funnel import funnel
from ._linear_regression import linear_regression
from ._logistic_regression import logistic_regression
from ._mixture import bimodal_mixture
from ._shells import gaussian_shells

__all__ = [
    "conjugate_normal_mean",
    "beta_binomial",
    "linear_regression",
    "logistic_regression",
    "eight_schools",
    "funnel",
    "banana",
    "bimodal_mixture",
    "gaussian_shells",
    "correlated_gaussian",
]
