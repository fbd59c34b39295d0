"""Monte Carlo machinery: point sets, draws, estimates, weights and parallel batches.

The public samplers at the top of :mod:`bayescalc.integrate` (``monte_carlo``,
``importance``, ``vegas``, ``expectation``) wire these together:

- ``point_sets``: the designs on the unit cube (MC, antithetic, stratified, scrambled
  Sobol' and Halton) cut into seeded batches
- ``draws``: seeded, reparameterized draws from torch (and scipy) distributions
- ``control_variates``: regression on functions with known integrals
- ``vegas_map``: the VEGAS adaptive map of the unit cube
- ``psis``: Pareto-smoothed importance sampling and its k-hat
- ``parallel``: batches evaluated serially, on an Executor or on Dask

Sibling packages import the names listed in ``__all__`` from here.
"""

from .parallel import check_executor, map_batches
from .psis import KHAT_THRESHOLD, psis_khat, psis_smooth

__all__ = ["check_executor", "map_batches", "KHAT_THRESHOLD", "psis_khat",
           "psis_smooth"]
