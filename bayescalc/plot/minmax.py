"""Figures for min-max games: phase portraits with solver paths, and GAN sample grids."""

from __future__ import annotations

import numpy as np

from ._common import new_figure


def plot_phase_portrait(f, paths: dict, *, bounds=((-2.0, 2.0), (-2.0, 2.0)),
                        grid: int = 21, ax=None, title: str | None = None,
                        labels=("x (min)", "y (max)")):
    """The flow -v of a game of two scalars and the paths of solvers on it.

    The streamlines follow -v = (-∂f/∂x, ∂f/∂y), the direction every rule of
    :func:`bayescalc.minmax.solve` steps along.

    Parameters
    ----------
    f : callable
        The game f(x, y), x and y scalars (min over x, max over y).
    paths : dict
        name -> path array (n, 2) (e.g. ``MinMaxResult.path``).
    bounds : ((x_low, x_high), (y_low, y_high))
        The window.

    Returns
    -------
    (Figure, Axes)

    Examples
    --------
    >>> fig, ax = plot_phase_portrait(lambda x, y: x * y,
    ...                               {"circle": np.array([[1.0, 0.0], [0.0, 1.0]])})
    >>> len(ax.lines)
    2
    """
    from ..minmax._field import GameField

    field = GameField(f, np.zeros(()), np.zeros(()))
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    xs = np.linspace(*bounds[0], grid)
    ys = np.linspace(*bounds[1], grid)
    u, w = np.empty((grid, grid)), np.empty((grid, grid))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            u[i, j], w[i, j] = -np.asarray(field(np.array([x, y])))
    ax.streamplot(xs, ys, u, w, color="0.75", density=0.8, linewidth=0.7)
    for name, path in paths.items():
        path = np.asarray(path)
        inside = np.all((path >= [bounds[0][0], bounds[1][0]]) &
                        (path <= [bounds[0][1], bounds[1][1]]), axis=1)
        shown = path[: np.argmin(inside) if not inside.all() else len(path)]
        line, = ax.plot(shown[:, 0], shown[:, 1], lw=1.3, label=name)
        ax.plot(path[0, 0], path[0, 1], "o", color=line.get_color(), ms=4)
    ax.set_xlim(bounds[0])
    ax.set_ylim(bounds[1])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    if paths:
        ax.legend(loc="upper right", fontsize=7)
    return fig, ax


def plot_ring_progress(snapshots, steps, centers, *, modes=None, high_quality=None,
                       limit: float = 3.0):
    """A grid of generator-sample scatters over training, the modes' centers marked.

    Examples
    --------
    >>> fig = plot_ring_progress([np.zeros((5, 2))], [0], np.array([[2.0, 0.0]]))
    >>> len(fig.axes)
    1
    """
    n = len(snapshots)
    ncols = min(n, int(np.ceil(np.sqrt(n))))
    nrows = -(-n // ncols)
    fig, axes = new_figure(ncols, nrows, size=(2.6, 2.6))
    axes = np.atleast_1d(axes).ravel()
    for k, ax in enumerate(axes):
        if k >= n:
            ax.set_visible(False)
            continue
        samples = np.asarray(snapshots[k])
        ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:blue")
        ax.scatter(centers[:, 0], centers[:, 1], s=25, marker="x", color="tab:red")
        text = f"step {steps[k]}"
        if modes is not None:
            text += f": {modes[k]}/{len(centers)} modes"
        if high_quality is not None:
            text += f", {high_quality[k]:.0%} HQ"
        ax.set_title(text, fontsize=8)
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
    return fig
