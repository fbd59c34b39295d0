"""Figures for :mod:`bayescalc.optim`: contour maps with descent paths and critical points,
and convergence curves."""

from __future__ import annotations

import numpy as np

from .._core.arraykind import to_numpy
from ._common import new_figure

_MARKERS = {  # kind -> (marker, colour)
    "minimum": ("v", "tab:blue"),
    "maximum": ("^", "tab:red"),
    "saddle": ("X", "black"),
    "degenerate": ("s", "tab:purple"),
}


def plot_optimization_paths(f, bounds, *, results=(), labels=None, points=(), ax=None,
                            levels=30, norm=None, resolution: int = 120,
                            vectorized: bool = False, title: str | None = None):
    """Contour map of a 2-D ``f`` with optimizer paths and classified critical points.

    Parameters
    ----------
    f : callable
        A function of one point of shape ``(2,)`` (or of a batch ``(n, 2)`` with
        ``vectorized=True``).
    bounds : ((low, high), (low, high))
        The box drawn.
    results : sequence of OptimizeResult
        Each path is drawn as a line from a circle (start) to a star (end).
    labels : sequence of str, optional
        One legend label per result.
    points : sequence of CriticalPoint
        Drawn with a marker per kind (▼ minimum, ▲ maximum, ✕ saddle, ■ degenerate);
        the global minimum and maximum are annotated.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    levels, norm
        Contour levels (a count or the values) and colour normalization (e.g.
        ``matplotlib.colors.LogNorm()`` for a valley like Rosenbrock's), passed to
        ``contourf``.
    resolution : int
        Grid points per side; f is evaluated ``resolution²`` times.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from bayescalc.optim import minimize
    >>> from bayescalc.plot.optim import plot_optimization_paths
    >>> f = lambda x: x[0] ** 2 + 3 * x[1] ** 2
    >>> r = minimize(f, np.array([1.0, 1.0]), method="gd", lr=0.1)
    >>> fig = plot_optimization_paths(f, [(-1.5, 1.5), (-1.5, 1.5)], results=[r])
    >>> type(fig).__name__
    'Figure'
    """
    box = np.asarray(to_numpy(bounds), dtype=np.float64)
    if box.shape != (2, 2):
        raise ValueError(f"bounds must be two (low, high) pairs, got shape {box.shape}")
    if ax is None:
        fig, ax = new_figure(size=(6.5, 6.0))
    else:
        fig = ax.figure
    xs = np.linspace(box[0, 0], box[0, 1], resolution)
    ys = np.linspace(box[1, 0], box[1, 1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    if vectorized:
        values = to_numpy(f(grid))
    else:
        values = np.array([float(to_numpy(f(point))) for point in grid])
    filled = ax.contourf(grid_x, grid_y, values.reshape(grid_x.shape), levels=levels,
                         norm=norm, cmap="viridis", alpha=0.85, extend="both")
    ax.contour(grid_x, grid_y, values.reshape(grid_x.shape), levels=levels, colors="white",
               linewidths=0.3, alpha=0.6)
    fig.colorbar(filled, ax=ax, label="f(x)")

    labels = list(labels) if labels is not None else [None] * len(results)
    for result, label in zip(results, labels, strict=True):
        path = np.asarray(result.path)
        (line,) = ax.plot(path[:, 0], path[:, 1], "-", lw=1.6, label=label)
        ax.plot(*path[0], "o", color=line.get_color(), ms=6, mec="white")
        ax.plot(*path[-1], "*", color=line.get_color(), ms=12, mec="white")

    for kind, (marker, colour) in _MARKERS.items():
        chosen = [np.asarray(p.x) for p in points if p.kind == kind]
        if chosen:
            chosen = np.array(chosen)
            ax.scatter(chosen[:, 0], chosen[:, 1], marker=marker, c=colour, s=60,
                       edgecolors="white", linewidths=0.8, zorder=5, label=kind)
    for p in points:
        if p.is_global_minimum or p.is_global_maximum:
            text = "global min" if p.is_global_minimum else "global max"
            right_half = np.asarray(p.x)[0] > box[0].mean()  # label toward the middle
            ax.annotate(f"{text}\nf = {p.value:.3g}", np.asarray(p.x),
                        xytext=(-8 if right_half else 8, -22), textcoords="offset points",
                        ha="right" if right_half else "left", fontsize=8, color="white",
                        weight="bold")
    ax.set_xlim(box[0]), ax.set_ylim(box[1])
    ax.set_xlabel("$x_1$"), ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    if any(label is not None for label in labels) or points:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=7,
                  frameon=False)
    return fig


def plot_convergence(results, *, labels=None, optimum=None, ax=None, title=None):
    """``f(x_k) - f*`` against the step ``k`` (log scale) for several optimizer runs.

    Parameters
    ----------
    results : sequence of OptimizeResult
    labels : sequence of str, optional
        Default: each result's ``method``.
    optimum : float, optional
        ``f*``; default the lowest value any run reached.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from bayescalc.optim import minimize
    >>> from bayescalc.plot.optim import plot_convergence
    >>> f = lambda x: np.sum(x**2)
    >>> runs = [minimize(f, np.ones(2), method=m) for m in ("newton", "lbfgs")]
    >>> type(plot_convergence(runs, optimum=0.0)).__name__
    'Figure'
    """
    if ax is None:
        fig, ax = new_figure(size=(6.0, 4.0))
    else:
        fig = ax.figure
    if optimum is None:
        optimum = min(float(np.min(r.fun_path)) for r in results)
    labels = list(labels) if labels is not None else [r.method for r in results]
    for result, label in zip(results, labels, strict=True):
        gap = np.maximum(np.asarray(result.fun_path) - optimum, 1e-300)
        ax.semilogy(np.arange(gap.size), gap, label=f"{label} ({result.n_steps} steps)")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_ylim(bottom=max(1e-18, ax.get_ylim()[0]))
    ax.set_xlabel("step k")
    ax.set_ylabel("f(x_k) - f*")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return fig
