"""Monte Carlo integration over a box: plain, antithetic, stratified and randomized QMC.

``monte_carlo(f, lower, upper)`` estimates ``I = integral of f over the box`` as the
volume times the mean of ``f`` at points of one of the designs of
:mod:`.sampling.point_sets`, with a standard error that each design estimates honestly
(replicates for QMC). Optional control variates (:mod:`.sampling.control_variates`) and
any ``concurrent.futures.Executor`` or Dask client (:mod:`.sampling.parallel`).
"""

from __future__ import annotations

import numpy as np

from .._core.validation import check_bool, check_callable, check_choice, check_int
from .._core.warnings import IntegrationWarning, warn_unless_success
from ._bounds import oriented_bounds
from ._result import MonteCarloResult
from .sampling import control_variates as cv
from .sampling import point_sets as samplers
from .sampling.estimate import design_estimate, evaluate_plan
from .sampling.parallel import Integrand, check_executor


def monte_carlo(f, lower, upper, *, n: int = 2**14, method: str = "qmc", seed=None,
                log: bool = False, control_variate=None, executor=None,
                batch_size: int | None = None, n_replicates: int | None = None,
                device=None) -> MonteCarloResult:
    r"""Integral of ``f`` over the box ``[lower, upper]`` by (quasi-)Monte Carlo.

    .. math::

        I = \int_{[a, b]} f(x)\,dx \approx \frac{V}{n}\sum_{i=1}^n f(a + (b - a) \odot u_i),
        \qquad V = \prod_j (b_j - a_j),

    with the points ``u_i`` from the chosen design on the unit cube.

    Parameters
    ----------
    f : callable
        Vectorized integrand ``(n, d) -> (n,)`` (``(n,) -> (n,)`` in one dimension);
        scalar-only callables are detected and looped (slow). With ``log=True`` it
        returns ``log f``. Must be picklable (a module-level function) for a process pool.
    lower, upper : float or array_like, shape (d,)
        Finite bounds. An axis with ``lower > upper`` flips the sign of the integral (the
        convention of :func:`quad` and :func:`cubature`); an axis with ``lower == upper``
        gives 0 without evaluating ``f``.
    n : int
        Number of evaluations (at least 2). The designs use whole units: an even number
        for antithetic pairs, ``R`` sets of ``2^m`` Sobol' points; ``n_evals`` tells.
    method : {"qmc", "halton", "mc", "antithetic", "stratified"}
        ``"qmc"``: 8 independently scrambled Sobol' nets, of ``2^m`` points (the
        largest with ``8 * 2^m <= n``) and, as the budget allows, ``k`` of them of
        ``2^(m+1)`` (the points of ``8 + k`` equal nets in fewer, larger ones; in
        d > 8 the ``8 + k`` equal nets, where doubling was measured to lose; error ~
        1/n for smooth f; the standard error carries the t quantile of the degrees of
        freedom); ``"halton"``: 16 scrambled Halton sets; ``"mc"``: independent
        uniform points (error ~ 1/sqrt(n)); ``"antithetic"``: pairs ``u, 1 - u``;
        ``"stratified"``: about n/2 equal cells with 2 or more points each.
    seed : None, int, numpy Generator or SeedSequence
        The same seed gives the same number for any executor and number of workers.
    log : bool
        ``f`` returns ``log f``; the result is ``log I`` and its error the standard
        error of ``log I`` (delta method: the relative error of ``I``).
    control_variate : (callable, float) or list of them, optional
        Functions ``g`` with known integrals over the same box, ``(g, integral of g)``;
        their coefficients are fitted by regression on the same draws. Not with
        ``"stratified"`` nor ``log=True``.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Evaluate the batches there (f must then be picklable).
    batch_size : int, optional
        Points per batch (default ``max(128, n / 32)``). The plain, antithetic and
        stratified answers depend on it (each batch has its own stream); QMC's do not.
    n_replicates : int, optional
        Replicates for ``"qmc"``/``"halton"``, all of ``n // n_replicates`` points
        (default: 8 nets for ``"qmc"``, 16 sets for ``"halton"``, see above).
    device : str or torch.device, optional
        Evaluate ``f`` on float64 torch tensors on this device (e.g. ``"cuda"``).

    Returns
    -------
    MonteCarloResult
        ``value`` (float), ``error`` (standard error), ``n_evals``, ``success``
        (there is no tolerance: False only when the tail of ``|f|`` is too heavy for a
        standard error, Pareto k-hat > 0.7, with an IntegrationWarning), ``message``,
        ``method``, ``n_groups``, ``variance_reduction``, ``control_coefficients``,
        ``khat``.

    Raises
    ------
    ValueError
        ``n < 2``, infinite bounds, or ``f`` returning NaN/inf
        (``log=True``: NaN or +inf; ``-inf`` is a zero) - the message names the point.

    See Also
    --------
    vegas : adaptive importance sampling for peaked integrands.
    importance : integrals over unbounded domains with a proposal distribution.

    Examples
    --------
    >>> import numpy as np
    >>> r = monte_carlo(lambda x: np.exp(x.sum(axis=1)), [0, 0], [1, 1], seed=1)
    >>> round(r.value, 5), round((np.e - 1) ** 2, 5)
    (2.95249, 2.95249)
    >>> r.error < 1e-5, r.method, r.n_groups
    (True, 'qmc', 8)
    >>> mc = monte_carlo(lambda x: x**2, 0, 3, n=10_000, method="mc", seed=1,
    ...                  control_variate=(lambda x: x, 4.5))
    >>> round(mc.value, 1), mc.variance_reduction > 10
    (9.0, True)

    An integrand of infinite variance is flagged by the Pareto k-hat of its tail:

    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     bad = monte_carlo(lambda x: 1 / x[:, 0], [0, 0], [1, 1], method="mc", seed=1)
    >>> bad.success, bad.khat > 0.7
    (False, True)
    """
    f, low, high, sign, empty, controls, integrals = _monte_carlo_iv(
        f, lower, upper, n, method, log, control_variate, executor, batch_size, n_replicates)
    if empty:
        return MonteCarloResult(-np.inf if log else 0.0, 0.0, 0, True,
                                "empty box (lower == upper on some axis)", method)
    layout = samplers.plan(method, n, low.size, seed, batch_size=batch_size,
                           n_replicates=n_replicates, mixed=not controls)
    integrand = Integrand(f, low, high - low, controls=controls, device=device, log=log,
                          squeeze=np.ndim(lower) == 0 and np.ndim(upper) == 0)
    values = evaluate_plan(integrand, layout, executor=executor, log=log)
    result = design_estimate(values, layout, integrals, log, check_tail=True)
    if sign < 0:
        result = result._replace(value=-result.value)
    return warn_unless_success(result, IntegrationWarning)


def _monte_carlo_iv(f, lower, upper, n, method, log, control_variate, executor, batch_size,
                    n_replicates):
    check_callable(f, "f")
    check_bool(log, "log")
    low, high, sign, empty = oriented_bounds(lower, upper, log=log, allow_infinite=False)
    check_int(n, "n", minimum=2)
    check_choice(method, "method", samplers.DESIGNS)
    check_executor(executor)
    check_int(batch_size, "batch_size", minimum=2, allow_none=True)
    check_int(n_replicates, "n_replicates", minimum=2, allow_none=True)
    if n_replicates is not None and n < 2 * n_replicates:
        raise ValueError(f"n must be >= 2 * n_replicates = {2 * n_replicates}, got {n}")
    controls, integrals = cv.control_variate_iv(control_variate)
    if controls and (method == "stratified" or log):
        raise ValueError("control_variate works with method 'mc', 'antithetic', 'qmc' or "
                         "'halton' and log=False")
    return f, low, high, sign, empty, controls, integrals

