"""The min-max figures: what they draw, checked on the lines, not just that they run."""

import numpy as np

from bayescalc.minmax import games, solve
from bayescalc.plot import new_figure
from bayescalc.plot.minmax import plot_distance_to_equilibrium, plot_phase_portrait


def _paths():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {method: solve(games.bilinear, 1.0, 1.0, method=method, lr=0.2, steps=40).path
                for method in ("simultaneous", "extragradient")}


def test_phase_portrait_draws_each_path_and_its_start_and_returns_the_figure():
    paths = _paths()
    fig, ax = new_figure()
    out = plot_phase_portrait(games.bilinear, paths, ax=ax, bounds=((-3, 3), (-3, 3)))
    assert out is fig and fig.axes == [ax]
    # per path: the line of iterates and the start dot
    assert len(ax.lines) == 2 * len(paths)
    for k, path in enumerate(paths.values()):
        line, start = ax.lines[2 * k], ax.lines[2 * k + 1]
        np.testing.assert_array_equal(line.get_xydata(), path)
        np.testing.assert_array_equal(start.get_xydata(), path[:1])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == list(paths)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x (min)", "y (max)")


def test_phase_portrait_streamlines_follow_minus_the_field():
    # f = x·y: -v = (-y, x), a counter-clockwise rotation: every streamline segment
    # turns left around the origin (positive dot product with (-y, x))
    fig = plot_phase_portrait(games.bilinear, {}, bounds=((-1, 1), (-1, 1)))
    ax = fig.axes[0]
    assert ax.get_legend() is None and not ax.lines
    lines = [np.asarray(line) for line in ax.collections[0].get_segments()]
    start = np.concatenate([line[:-1] for line in lines])
    end = np.concatenate([line[1:] for line in lines])
    middle, direction = (start + end) / 2, end - start
    flow = np.column_stack([-middle[:, 1], middle[:, 0]])
    moving = np.linalg.norm(direction, axis=1) > 0
    agree = np.sum(direction * flow, axis=1)[moving] > 0
    assert agree.size > 100 and agree.mean() > 0.99


def test_path_leaving_the_window_is_cut_and_labelled():
    path = np.array([[0.0, 0.0], [0.5, 0.5], [5.0, 5.0]])
    fig = plot_phase_portrait(games.bilinear, {"runaway": path}, bounds=((-1, 1), (-1, 1)))
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), path[:2])
    assert ax.get_legend().get_texts()[0].get_text() == "runaway (leaves the window)"


def test_distance_to_equilibrium_plots_the_norms_on_a_log_axis():
    paths = _paths()
    fig = plot_distance_to_equilibrium(paths)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == len(paths)
    for line, path in zip(ax.lines, paths.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(len(path)))
        np.testing.assert_allclose(line.get_ydata(), np.linalg.norm(path, axis=1), rtol=1e-15)
    # simultaneous GDA spirals out, extragradient in: the curves end on either side of 1.414
    assert ax.lines[0].get_ydata()[-1] > np.sqrt(2) > ax.lines[1].get_ydata()[-1]
