"""The demos and the tour, shipped inside the package.

Each public module of this package is one demo. It defines

* ``TITLE``: one line;
* ``FIGURES``: figure name (the PNG's stem) -> a one-paragraph caption saying what to
  see in it;
* ``main(out_dir, quick=False, seed=0, **options) -> dict``: runs the demo, prints what
  it measured, saves its figures under ``out_dir`` and returns the numbers;
* optionally ``add_arguments(parser)``: the demo's own command-line options (they
  become keyword arguments of ``main``).

Demos are found by import (``bayescalc.demos.NAME``), never by a file path, so they run
the same from a source checkout and from an installed wheel. ``examples/NAME.py`` are
thin scripts that call them; ``bayescalc demo NAME`` runs them from the command line;
:mod:`bayescalc.demos._tour` strings them into the tour.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["UnknownDemoError", "list_demos", "load_demo"]


class UnknownDemoError(ValueError):
    """Raised by :func:`load_demo` for a name that is not a demo; says which are."""


def list_demos() -> list[str]:
    """The names of the demos shipped in this package, sorted.

    Examples
    --------
    >>> "derivatives" in list_demos()
    True
    """
    return sorted(info.name for info in pkgutil.iter_modules(__path__)
                  if not info.name.startswith("_") and not info.ispkg)


def load_demo(name: str):
    """Import the demo module ``bayescalc.demos.<name>``.

    Raises
    ------
    UnknownDemoError
        If ``name`` is not one of :func:`list_demos`; the message lists them.

    Examples
    --------
    >>> load_demo("derivatives").TITLE
    'Derivatives: from the difference quotient to the gradient'
    >>> load_demo("nosuch")
    Traceback (most recent call last):
    ...
    bayescalc.demos.UnknownDemoError: no demo named 'nosuch'; the demos are: ...
    """
    known = list_demos()
    if not isinstance(name, str) or name not in known:
        raise UnknownDemoError(f"no demo named {name!r}; the demos are: {', '.join(known)}")
    return importlib.import_module(f"{__name__}.{name}")
