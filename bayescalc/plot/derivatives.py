"""Figures for derivatives: secants turning into the tangent, error against step size,
chain-rule checks and gradients as vectors of partial derivatives.

The numbers come from :mod:`bayescalc.diff` (or the caller); these functions only draw.
Each returns the Figure (and never shows it).
"""

from __future__ import annotations

import numpy as np

from ._common import new_figure


def plot_secants(f, x, steps, slope, *, span=None, ax=None):
    """Secant lines through (x, f(x)) and (x + h, f(x + h)) closing in on the tangent.

    Parameters
    ----------
    f : callable
        Vectorized function of one variable (numpy arrays in, arrays out).
    x : float
        The point of tangency.
    steps : sequence of float
        The h of each secant, largest first.
    slope : float
        The derivative f'(x) (the tangent's slope).
    span : float, optional
        Half-width of the plotted interval (default: the largest step, times 1.3).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_secants(np.square, 1.0, [1.0, 0.5, 0.25], slope=2.0)
    >>> len(fig.axes)
    1
    """
    fig, ax = _figure(ax)
    steps = np.asarray(steps, dtype=float)
    span = 1.3 * float(steps.max()) if span is None else span
    grid = np.linspace(x - 0.6 * span, x + span, 300)
    fx = float(f(np.asarray(x)))
    ax.plot(grid, f(grid), color="black", linewidth=2, label="f")
    colors = _colors(steps.size)
    for h, color in zip(steps, colors, strict=True):
        quotient = (float(f(np.asarray(x + h))) - fx) / h
        ax.plot(grid, fx + quotient * (grid - x), color=color, linewidth=1,
                label=f"h = {h:g}: slope {quotient:.4g}")
        ax.plot([x + h], [f(np.asarray(x + h))], "o", color=color, markersize=4)
    ax.plot(grid, fx + slope * (grid - x), "--", color="crimson", linewidth=2,
            label=f"tangent: slope {slope:.4g}")
    ax.plot([x], [fx], "o", color="crimson")
    values = f(grid)
    ax.set_ylim(values.min() - 0.15 * np.ptp(values), values.max() + 0.15 * np.ptp(values))
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title("secants (f(x+h) - f(x)) / h turn into the tangent as h -> 0")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_step_error(steps, errors, *, optimum=None, models=None, marks=None, ax=None):
    """Error of difference quotients against the step h, on log-log axes (the V curve).

    Parameters
    ----------
    steps : array_like
        The steps h.
    errors : dict of str -> array_like
        Label -> absolute error at each step.
    optimum : (float, float), optional
        The best step and its error, marked on the curve.
    models : dict of str -> array_like, optional
        Label -> a model curve (e.g. the truncation term h and the round-off term
        eps |f| / h), drawn dashed.
    marks : dict of str -> (float, float), optional
        Label -> one (step, error) point to mark (e.g. the adaptive engine's result).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> h = np.logspace(-12, 0, 13)
    >>> fig = plot_step_error(h, {"forward": h + 1e-16 / h}, optimum=(1e-8, 2e-8))
    >>> len(fig.axes)
    1
    """
    fig, ax = _figure(ax)
    steps = np.asarray(steps, dtype=float)
    tiny = 1e-17           # exact results (error 0) are drawn here, below double rounding
    for label, error in errors.items():
        ax.loglog(steps, np.maximum(np.asarray(error, dtype=float), tiny), ".-", label=label)
    for label, model in (models or {}).items():
        ax.loglog(steps, np.asarray(model, dtype=float), "--", linewidth=1, label=label)
    if optimum is not None:
        ax.loglog([optimum[0]], [optimum[1]], "*", color="crimson", markersize=14,
                  label=f"best step h = {optimum[0]:.2g} (error {optimum[1]:.1g})")
    for label, (step, error) in (marks or {}).items():
        ax.loglog([step], [max(error, tiny)], "D", markersize=8, label=label)
    ax.set_xlabel("step h")
    ax.set_ylabel("absolute error")
    ax.set_title("truncation error falls with h, round-off error rises as h -> 0")
    ax.legend(fontsize=7)
    ax.grid(True, which="major", alpha=0.3)
    return fig


def plot_derivative_check(points, exact, estimates, *, title, ax=None):
    """A derivative against its closed form: the curves on top, relative errors below.

    Parameters
    ----------
    points : array_like
        The x values.
    exact : array_like
        The closed-form derivative at ``points``.
    estimates : dict of str -> array_like
        Label -> estimated derivative at ``points``.
    title : str
    ax : sequence of two Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 5)
    >>> fig = plot_derivative_check(x, 2 * x, {"numeric": 2 * x + 1e-15}, title="2x")
    >>> len(fig.axes)
    2
    """
    if ax is None:
        fig, (top, bottom) = new_figure(1, 2, size=(5.5, 2.6))
    else:
        top, bottom = ax
        fig = top.figure
    points, exact = np.asarray(points, dtype=float), np.asarray(exact, dtype=float)
    top.plot(points, exact, color="black", linewidth=2, label="closed form")
    bottom_floor = np.finfo(float).eps / 4
    # estimates that agree to round-off sit on the same spot: the first are drawn as
    # larger open markers, the later ones smaller and filled, so each stays visible
    styles = [dict(marker="o", markersize=7, markerfacecolor="none", markeredgewidth=1.2),
              dict(marker="s", markersize=5, markerfacecolor="none", markeredgewidth=1.0),
              dict(marker=".", markersize=5)]
    floored = False
    for k, (label, estimate) in enumerate(estimates.items()):
        estimate = np.asarray(estimate, dtype=float)
        style = styles[min(k, len(styles) - 1)]
        top.plot(points, estimate, linestyle="none", label=label, **style)
        relative = np.abs(estimate - exact) / np.maximum(np.abs(exact), 1.0)
        floored |= bool(np.any(relative < bottom_floor))
        bottom.semilogy(points, np.maximum(relative, bottom_floor), linestyle="none",
                        label=label, **style)
    top.set_title(title)
    top.set_ylabel("f'(x)")
    top.set_xlabel("x")
    top.legend(fontsize=7)
    if floored:
        bottom.axhline(bottom_floor, color="0.6", linestyle=":", linewidth=0.8,
                       label="eps/4 (errors below, exact zeros included, drawn here)")
    bottom.set_xlabel("x")
    bottom.set_ylabel("|error| / max(|f'|, 1)")
    bottom.legend(fontsize=7)
    return fig


def plot_partials(f, point, gradient, *, extent=1.5, ax=None):
    """The gradient as the vector of partial derivatives, for f of two variables.

    Left: contours of f with the gradient arrow at ``point``. Right: the two slices
    through the point, :math:`t \\mapsto f(t, y_0)` and :math:`t \\mapsto f(x_0, t)`, each
    holding the other variable constant, with tangents of slope the partial derivative.

    Parameters
    ----------
    f : callable
        f(p) for p of shape (..., 2) (vectorized over leading axes).
    point : array_like, shape (2,)
    gradient : array_like, shape (2,)
    extent : float
        Half-width of the plotted square.
    ax : sequence of two Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda p: p[..., 0] ** 2 + p[..., 1] ** 2
    >>> fig = plot_partials(f, np.array([1.0, 0.5]), np.array([2.0, 1.0]))
    >>> len(fig.axes)
    2
    """
    if ax is None:
        fig, (left, right) = new_figure(2, 1, size=(4.8, 4.0))
    else:
        left, right = ax
        fig = left.figure
    point = np.asarray(point, dtype=float)
    gradient = np.asarray(gradient, dtype=float)
    xs = np.linspace(point[0] - extent, point[0] + extent, 120)
    ys = np.linspace(point[1] - extent, point[1] + extent, 120)
    X, Y = np.meshgrid(xs, ys)
    Z = f(np.stack([X, Y], axis=-1))
    contours = left.contour(X, Y, Z, levels=20, cmap="viridis", linewidths=0.8)
    left.clabel(contours, fontsize=6)
    scale = 0.5 * extent / max(float(np.linalg.norm(gradient)), 1e-300)
    left.annotate("", xy=point + scale * gradient, xytext=point,
                  arrowprops={"arrowstyle": "->", "color": "crimson", "linewidth": 2})
    left.plot(*point, "o", color="crimson")
    left.set_title(f"contours of f; arrow: grad f = ({gradient[0]:.4g}, {gradient[1]:.4g})",
                   fontsize=10)
    left.set_xlabel("x")
    left.set_ylabel("y")
    left.set_aspect("equal")
    t = np.linspace(-extent, extent, 200)
    for i, (name, color) in enumerate((("x", "tab:blue"), ("y", "tab:orange"))):
        slice_points = np.repeat(point[None, :], t.size, axis=0)
        slice_points[:, i] += t
        value = float(f(point))
        right.plot(t, f(slice_points), color=color,
                   label=f"f along {name}, the other held fixed")
        right.plot(t, value + gradient[i] * t, "--", color=color,
                   label=f"slope = df/d{name} = {gradient[i]:.4g}")
    right.axvline(0, color="gray", linewidth=0.5)
    right.set_xlabel("displacement t from the point")
    right.set_ylabel("f along the slice")
    right.set_title("each partial derivative: one slice")
    right.legend(fontsize=7)
    return fig


def _figure(ax):
    if ax is None:
        return new_figure(1, 1, size=(6.0, 4.5))
    return ax.figure, ax


def _colors(count):
    from matplotlib import colormaps

    return colormaps["Blues"](np.linspace(0.35, 0.9, count))
