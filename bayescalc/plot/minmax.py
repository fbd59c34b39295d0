"""Figures for min-max games: phase portraits with solver paths, and GAN sample grids."""

from __future__ import annotations

import numpy as np

from ._common import new_figure

_PATH_STYLES = [  # thick to thin, solid to dotted: a path drawn later never hides one below
    dict(lw=3.4, linestyle="-", alpha=0.8),
    dict(lw=2.4, linestyle="-", alpha=0.9),
    dict(lw=1.8, linestyle=(0, (5, 2))),
    dict(lw=1.6, linestyle=(0, (1, 1.3))),
    dict(lw=1.2, linestyle="-."),
    dict(lw=1.0, linestyle="-"),
]


def plot_phase_portrait(f, paths: dict, *, bounds=((-2.0, 2.0), (-2.0, 2.0)),
                        grid: int = 21, ax=None, title: str | None = None,
                        labels=("x (min)", "y (max)")):
    """The flow -v of a game of two scalars and the paths of solvers on it.

    The streamlines follow -v = (-∂f/∂x, ∂f/∂y), the direction every rule of
    :func:`bayescalc.minmax._solve` steps along.

    Parameters
    ----------
    f : callable
        The game f(x, y), x and y scalars (min over x, max over y).
    paths : dict
        name -> path array (n, 2) (e.g. ``MinMaxResult.path``).
    bounds : ((x_low, x_high), (y_low, y_high))
        The window.

    ax : matplotlib Axes, optional
        Draw into this axes (of a figure with several panels); a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (``ax.figure`` when ``ax`` is given), like every plot
        function of bayescalc.

    Examples
    --------
    >>> fig = plot_phase_portrait(lambda x, y: x * y,
    ...                           {"circle": np.array([[1.0, 0.0], [0.0, 1.0]])})
    >>> len(fig.axes[0].lines)                     # the path and its start
    2
    """
    from ..minmax import GameField

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
    lows = np.array([bounds[0][0], bounds[1][0]])
    highs = np.array([bounds[0][1], bounds[1][1]])
    for k, (name, path) in enumerate(paths.items()):
        path = np.asarray(path)
        inside = np.all((path >= lows) & (path <= highs), axis=1)
        leaves = not inside.all()
        shown = path[: np.argmin(inside) if leaves else len(path)]
        style = _PATH_STYLES[k % len(_PATH_STYLES)]
        # paths that nearly coincide stay visible: earlier ones thicker, later ones
        # thinner and dashed on top of them
        line, = ax.plot(shown[:, 0], shown[:, 1], label=name + (" (leaves the window)"
                                                                 if leaves else ""),
                        zorder=2 + k, **style)
        ax.plot(path[0, 0], path[0, 1], "o", color=line.get_color(), ms=4, zorder=10)
        if leaves and len(shown):
            # where the path crosses the frame: an arrow pointing the way it goes
            exit_point = path[len(shown)]
            ax.annotate("", xy=np.clip(exit_point, lows, highs), xytext=shown[-1],
                        arrowprops={"arrowstyle": "-|>", "color": line.get_color(),
                                    "lw": 1.5}, annotation_clip=False, zorder=10)
    ax.set_xlim(bounds[0])
    ax.set_ylim(bounds[1])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    if paths:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7,
                  title="rule (start: dot)", title_fontsize=7)
    return fig


def plot_distance_to_equilibrium(paths: dict, *, equilibrium=None, ax=None,
                                 title: str | None = None):
    """Distance of each path's iterates to the equilibrium against the step (log scale).

    The same styles as :func:`plot_phase_portrait`, so the two panels read together;
    rules whose paths coincide on the phase portrait separate here.

    Parameters
    ----------
    paths : dict
        name -> path array (n, d) (e.g. ``MinMaxResult.path``).
    equilibrium : array_like, optional
        The point (d,) the distances are measured to; the origin by default.
    ax : matplotlib Axes, optional
        Draw into this axes; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (``ax.figure`` when ``ax`` is given).

    Examples
    --------
    >>> path = np.array([[1.0, 0.0], [0.5, 0.0], [0.25, 0.0]])
    >>> fig = plot_distance_to_equilibrium({"halving": path})
    >>> fig.axes[0].get_yscale()
    'log'
    """
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    for k, (name, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=float)
        centre = np.zeros(path.shape[1]) if equilibrium is None else np.asarray(equilibrium)
        distance = np.linalg.norm(path - centre, axis=1)
        ax.plot(np.arange(len(distance)), np.maximum(distance, 1e-300), label=name,
                zorder=2 + k, **_PATH_STYLES[k % len(_PATH_STYLES)])
    ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel("distance to the equilibrium |z_t - z*|")
    if title:
        ax.set_title(title)
    if paths:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7)
    ax.grid(True, which="major", alpha=0.3)
    return fig


def plot_ring_progress(snapshots, steps, centers, *, modes=None, high_quality=None,
                       limit: float = 3.0, title: str | None = None):
    """A grid of generator-sample scatters over training, the modes' centers marked.

    Parameters
    ----------
    snapshots : sequence of arrays (n, 2)
        Generator samples at each evaluation.
    steps : sequence of int
        The training step of each snapshot.
    centers : array (k, 2)
        The modes of the data.
    modes, high_quality : sequences, optional
        Modes covered and the share of high-quality samples at each snapshot (shown in
        the panel titles).
    title : str, optional
        The figure's title (say which optimizer ran).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_ring_progress([np.zeros((5, 2))], [0], np.array([[2.0, 0.0]]))
    >>> len(fig.axes)
    1
    """
    n = len(snapshots)
    ncols = min(n, int(np.ceil(np.sqrt(n))))
    nrows = -(-n // ncols)
    fig, axes = new_figure(ncols, nrows, size=(2.7, 2.8))
    axes = np.atleast_1d(axes).ravel()
    handles = []
    for k, ax in enumerate(axes):
        if k >= n:
            ax.set_visible(False)
            continue
        samples = np.asarray(snapshots[k])
        dots = ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:blue",
                          label="generator samples")
        crosses = ax.scatter(centers[:, 0], centers[:, 1], s=30, marker="x",
                             color="tab:red", linewidths=1.5, zorder=3,
                             label="centers of the data's modes")
        handles = [dots, crosses]
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
        if k // ncols == nrows - 1 or k + ncols >= n:
            ax.set_xlabel("$x_1$", fontsize=8)
        if k % ncols == 0:
            ax.set_ylabel("$x_2$", fontsize=8)
    legend_text = "HQ: share of samples within 3σ of a mode"
    fig.legend(handles=handles + [_blank_handle(legend_text)], loc="outside lower center",
               ncols=3, fontsize=8, markerscale=2)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _blank_handle(label: str):
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", label=label)
