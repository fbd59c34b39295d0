"""Control variates: subtract functions whose integrals are known, fitted by regression.

With ``g_1..g_k`` of known integrals ``mu_j`` over the same box, the estimator of
``I = integral of f`` is the mean of ``f(x) - sum_j beta_j (g_j(x) - mu_j)``; it is
unbiased for any ``beta``, and its variance is smallest at the regression coefficient
``beta = Cov(g)^-1 Cov(g, f)``, which is fitted on the same draws (an O(1/n) bias, far
below the standard error; Owen 2013, ch. 8.9; Glasserman 2004, sec. 4.1). The variance
falls by the factor ``1 - R^2`` of that regression, reported as ``variance_reduction``
(the ratio ``Var f / Var residual``, > 1 when the control helps).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..._core.validation import check_callable


def control_variate_iv(control_variate):
    """``(functions, integrals)`` from ``(g, integral)`` or a list of such pairs."""
    if control_variate is None:
        return [], np.empty(0)
    pairs = control_variate
    if isinstance(pairs, tuple) and len(pairs) == 2 and callable(pairs[0]):
        pairs = [pairs]
    functions, integrals = [], []
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(
                "control_variate must be a pair (g, integral of g over the box) or a list "
                f"of such pairs, got {pair!r}"
            )
        g, integral = pair
        check_callable(g, "control_variate function")
        if isinstance(integral, bool) or not isinstance(integral, (numbers.Real, np.floating)):
            raise TypeError(f"control_variate integral must be a real number, got {integral!r}")
        if not np.isfinite(integral):
            raise ValueError(f"control_variate integral must be finite, got {integral}")
        functions.append(g)
        integrals.append(float(integral))
    return functions, np.asarray(integrals)


def fit_coefficients(f_values, g_values, groups=None) -> np.ndarray:
    """Regression coefficients ``beta`` of ``f`` on the controls ``g`` (pooled within groups).

    Parameters
    ----------
    f_values : numpy.ndarray, shape (n,)
    g_values : numpy.ndarray, shape (n, k)
    groups : numpy.ndarray of int, shape (n,), optional
        Replicate of each draw; each replicate is centred on its own mean, so that the
        fit does not see the (random) offsets between replicates.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 11)
    >>> fit_coefficients(3 * x + 1, x[:, None]).round(12)
    array([3.])
    """
    f_centred, g_centred = _centre(f_values, groups), _centre(g_values, groups)
    beta, *_ = np.linalg.lstsq(g_centred, f_centred, rcond=None)
    return beta


def residuals(f_values, g_values, integrals, beta) -> np.ndarray:
    """``f - (g - mu) beta``: values with the same mean as ``f`` and less variance."""
    return f_values - (g_values - integrals) @ beta


def variance_reduction(f_values, residual_values, groups=None) -> float:
    """``Var f / Var residual`` (within groups), the factor the variance fell by."""
    residual_var = np.mean(_centre(residual_values, groups) ** 2)
    f_var = np.mean(_centre(f_values, groups) ** 2)
    if residual_var == 0:
        return float("inf") if f_var > 0 else 1.0
    return float(f_var / residual_var)


def _centre(values, groups):
    if groups is None:
        return values - values.mean(axis=0)
    values = np.asarray(values, dtype=np.float64)
    n_groups = int(groups.max()) + 1
    counts = np.bincount(groups, minlength=n_groups)
    shape = (n_groups,) + values.shape[1:]
    sums = np.zeros(shape)
    np.add.at(sums, groups, values)
    means = sums / counts.reshape((-1,) + (1,) * (values.ndim - 1))
    return values - means[groups]
