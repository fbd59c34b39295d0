"""Helpers shared by the figure functions."""

from __future__ import annotations

from pathlib import Path


def new_figure(ncols: int = 1, nrows: int = 1, *, size=(5.0, 4.0), **subplot_kw):
    """A pyplot-free Figure and its axes (``size`` is per panel, in inches).

    Examples
    --------
    >>> fig, (left, right) = new_figure(2)
    >>> fig.get_size_inches()
    array([10.,  4.])
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


def save_figure(fig, out_dir, name: str, *, dpi: int = 110) -> Path:
    """Save ``fig`` as ``out_dir/name.png`` (creating the folder); return the path.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = new_figure()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> save_figure(fig, tempfile.mkdtemp(), "line").name
    'line.png'
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=dpi)
    return path
