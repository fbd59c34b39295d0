"""Figures for Monte Carlo integration: error against n, importance weights, VEGAS maps."""

from __future__ import annotations

import numpy as np

from ._common import new_figure


def plot_error_vs_n(ns, errors, *, reference_slopes=(-0.5, -1.0), title=None):
    """Log-log plot of the error of several methods against the number of evaluations.

    Parameters
    ----------
    ns : array_like
        Evaluation counts (shared by every method, or a dict name -> counts).
    errors : dict
        Method name -> errors (e.g. median absolute errors over seeds), one per n.
    reference_slopes : tuple of float
        Dashed guide lines ``C n^slope`` through the first point of the first method.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_error_vs_n([1e3, 1e4], {"mc": [1e-2, 3e-3], "qmc": [1e-3, 1e-4]})
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
    ['mc', 'qmc']
    """
    fig, ax = new_figure(size=(5.5, 4.0))
    for name, values in errors.items():
        counts = np.asarray(ns[name] if isinstance(ns, dict) else ns, dtype=float)
        ax.loglog(counts, values, "o-", label=name)
    first = next(iter(errors))
    counts = np.asarray(ns[first] if isinstance(ns, dict) else ns, dtype=float)
    anchor = float(np.asarray(errors[first])[0])
    for slope in reference_slopes:
        ax.loglog(counts, anchor * (counts / counts[0]) ** slope, "k--", lw=0.8, alpha=0.5,
                  label=f"slope {slope:g}")
    ax.set_xlabel("evaluations n")
    ax.set_ylabel("error")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def plot_importance_weights(log_weights, *, khat=None, title=None):
    """The sorted normalized importance weights (log scale) with the PSIS k-hat.

    A few weights carrying most of the mass (a steep right end) is what k-hat > 0.7
    measures.

    Examples
    --------
    >>> fig = plot_importance_weights(np.random.default_rng(0).standard_normal(100), khat=0.3)
    >>> "0.30" in fig.axes[0].get_title()
    True
    """
    log_w = np.asarray(log_weights, dtype=float)
    log_w = log_w[np.isfinite(log_w)]
    weights = np.exp(log_w - log_w.max())
    weights = np.sort(weights / weights.sum())
    fig, ax = new_figure(size=(5.0, 3.5))
    ax.semilogy(np.arange(1, weights.size + 1), weights, ".", ms=2)
    ax.set_xlabel("draw (sorted by weight)")
    ax.set_ylabel("normalized weight")
    label = title or "importance weights"
    if khat is not None:
        verdict = "unreliable" if khat > 0.7 else "reliable"
        label += f": k-hat = {khat:.2f} ({verdict})"
    ax.set_title(label, fontsize="medium")
    return fig


def plot_vegas_map(adaptive_map, *, axes=None, title=None):
    """The trained VEGAS map ``x(y)`` per axis: steep where few points go, flat where many.

    Examples
    --------
    >>> from bayescalc.integrate import AdaptiveMap
    >>> fig = plot_vegas_map(AdaptiveMap(2, n_bins=10))
    >>> len(fig.axes[0].get_lines())
    2
    """
    grid = adaptive_map.grid
    axes = range(grid.shape[0]) if axes is None else axes
    fig, ax = new_figure(size=(4.5, 4.0))
    y = np.linspace(0.0, 1.0, grid.shape[1])
    for axis in axes:
        ax.plot(y, grid[axis], label=f"axis {axis}")
    ax.set_xlabel("y (uniform)")
    ax.set_ylabel("x (sampled)")
    ax.legend(fontsize="small")
    ax.set_title(title or "VEGAS map", fontsize="medium")
    return fig
