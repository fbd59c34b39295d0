"""Figures for quadrature: error against evaluations, and an integrand in log space."""

from __future__ import annotations

import numpy as np

from ._common import new_figure


def plot_quadrature_convergence(curves, *, title="", ax=None):
    """Log-log error against the number of integrand evaluations, one line per rule.

    Parameters
    ----------
    curves : dict
        ``{label: (n_evals, errors)}``; zero errors are drawn at 1e-17 (machine precision).
    title : str
    ax : matplotlib Axes, optional
        Draw into it; else a new Figure is made.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_quadrature_convergence({"trapezoid": ([3, 5, 9], [1e-2, 2.5e-3, 6e-4])})
    >>> fig.axes[0].get_xscale()
    'log'
    """
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    for label, (n_evals, errors) in curves.items():
        errors = np.maximum(np.asarray(errors, dtype=float), 1e-17)
        ax.loglog(n_evals, errors, "o-", markersize=3, label=label)
    ax.axhline(np.finfo(float).eps, color="0.6", linestyle=":", linewidth=1,
               label="float64 eps (errors of 0 drawn at 1e-17)")
    ax.set_xlabel("integrand evaluations")
    ax.set_ylabel("|error|")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def plot_log_integrand(x, log_values, *, log_integral=None, title="", ax=None):
    """``log f(x)`` relative to its maximum, with the float64 underflow line.

    Shows why a likelihood of many data points cannot be integrated as ``f``: all of
    ``f = exp(log f)`` lies below the smallest double (``log`` of 1e-308 is about -709).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> x = np.linspace(-1, 1, 11)
    >>> fig = plot_log_integrand(x, -1e4 * x**2 - 1e4, log_integral=-10004.6)
    >>> len(fig.axes[0].lines)
    3
    """
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    log_values = np.asarray(log_values, dtype=float)
    ax.plot(x, log_values, color="C0", label="log f(x)")
    ax.axhline(np.log(np.finfo(float).tiny), color="C3", linestyle="--",
               label="log of the smallest float64 (f underflows below)")
    if log_integral is not None:
        ax.axhline(log_integral, color="C2", linestyle=":", label=f"log Z = {log_integral:.6g}")
    ax.set_xlabel("x")
    ax.set_ylabel("log f(x)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig
