"""The peers' own derivative suites, replayed through bayescalc (issue 8).

- scipy.differentiate's ``test_accuracy``: d/dx cdf = pdf for every distribution of
  ``scipy.stats._distr_params.distcont`` at x = median + 0.1, its criterion
  ``|df - pdf| <= 1e-10 + 4 sqrt(eps) |pdf|`` (xp_assert_close, atol=1e-10).
- numdifftools' ``test_high_order_derivative``: its example functions at x = 0.5, orders
  1-10, its criterion ``|df - true| < 1.5 * 10**-dm`` with
  ``dm = max(int(-log10(error_estimate + 1e-16)) - 1, min_dm)`` (min_dm 2 for the
  complex method, 4 for the real ones); numdifftools' central method only up to n = 7,
  as in its test.

Each outcome is "met" (criterion holds), "honestly failed" (missed, but flagged:
success False, NaN, or an error estimate covering the true error) or "silently wrong"
(missed, not flagged, estimate below the true error).
"""

from __future__ import annotations

import warnings

import numdifftools as nd
import numpy as np
import scipy.differentiate as sd
from numdifftools.example_functions import function_names, get_function
from scipy import stats
from scipy.stats._distr_params import distcont

from bayescalc.diff import finite_difference
from bench._harness import Table

EPS = np.finfo(float).eps


def _outcome(value, error, exact, met, success=True):
    true_error = abs(value - exact) if np.isfinite(value) else np.inf
    if met:
        return "met"
    flagged = (not success) or not np.isfinite(value) or (np.isfinite(error)
                                                          and error >= true_error)
    return "honestly failed" if flagged else "silently wrong"


def scipy_suite():
    counts = {"bayescalc": {}, "scipy.differentiate": {}}
    for name, params in distcont:
        dist = getattr(stats, name)(*params)
        x = float(dist.median() + 0.1)
        exact = float(dist.pdf(x))
        tolerance = 1e-10 + 4 * np.sqrt(EPS) * abs(exact)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = finite_difference(dist.cdf, x, vectorized=True)
            theirs = sd.derivative(dist.cdf, x)
        for label, value, error, success in (
                ("bayescalc", float(ours.value), float(ours.error), ours.success),
                ("scipy.differentiate", float(theirs.df), float(theirs.error),
                 bool(theirs.success))):
            met = abs(value - exact) <= tolerance
            key = _outcome(value, error, exact, met, success)
            counts[label][key] = counts[label].get(key, 0) + 1
    return counts, len(distcont)


def numdifftools_suite():
    rows = {"bayescalc richardson (all n)": {}, "bayescalc richardson (n <= 7)": {},
            "bayescalc complex": {}, "numdifftools central (n <= 7)": {},
            "numdifftools complex": {}}
    for name in function_names:
        for n in range(1, 11):
            f, df = get_function(name, n=n)
            if df is None:
                continue
            exact = float(df(0.5))
            runs = [("bayescalc complex", "complex", 2, True),
                    ("bayescalc richardson (all n)", "richardson", 4, True),
                    ("bayescalc richardson (n <= 7)", "richardson", 4, n <= 7),
                    ("numdifftools complex", "complex", 2, True),
                    ("numdifftools central (n <= 7)", "central", 4, n <= 7)]
            for label, method, min_dm, include in runs:
                if not include:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if label.startswith("bayescalc"):
                        r = finite_difference(f, 0.5, n=n, method=method)
                        value, error, success = float(r.value), float(r.error), r.success
                    else:
                        r = nd.Derivative(f, n=n, method=method, full_output=True)(0.5)
                        value, error, success = float(r.estimate), float(r.error_estimate), True
                dm = max(int(-np.log10(error + 1e-16)) - 1, min_dm) if np.isfinite(error) \
                    else min_dm
                met = abs(value - exact) < 1.5 * 10.0 ** -dm
                key = _outcome(value, error, exact, met, success)
                rows[label][key] = rows[label].get(key, 0) + 1
    return rows


def suite_tables():
    table = Table("The peers' own suites: met / silently wrong / honestly failed",
                  ["suite", "method", "cases", "met", "silently wrong", "honestly failed"])
    counts, total = scipy_suite()
    for label, c in counts.items():
        table.add("scipy.differentiate test_accuracy (d/dx cdf = pdf)", label, total,
                  c.get("met", 0), c.get("silently wrong", 0), c.get("honestly failed", 0))
    for label, c in numdifftools_suite().items():
        table.add("numdifftools example functions, n = 1..10 at 0.5", label, sum(c.values()),
                  c.get("met", 0), c.get("silently wrong", 0), c.get("honestly failed", 0))
    table.notes += [
        "scipy criterion: |df - pdf| <= 1e-10 + 4 sqrt(eps) |pdf| (its test_accuracy)",
        "numdifftools criterion: its test_high_order_derivative's, decimal places from "
        "each method's own error estimate (at least 2 for complex, 4 for real methods)",
        "honestly failed: missed, but success=False, NaN, or an error estimate >= the "
        "true error; silently wrong: missed with none of these",
    ]
    return [table]
