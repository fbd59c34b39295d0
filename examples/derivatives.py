"""
Derivatives: from the difference quotient to the gradient
=========================================================

The limit definition of the derivative on x squared (secant lines turning into the
tangent, and the V-shaped error of a finite difference against its step), the chain
rule checked numerically and by autodiff, and the gradient as the vector of partial
derivatives.

This script is a thin wrapper: the demo lives in the package
(``bayescalc.demos.derivatives``), so ``bayescalc demo derivatives`` runs the same code from an
installed wheel. Run it as::

    python examples/derivatives.py [--quick] [--seed N] [--out DIR]

It prints what it measured and saves its figures under ``DIR/derivatives/`` (default
``./bayescalc-demos/derivatives/``); it never opens a window.
"""

import sys

from bayescalc.cli import main

status = main(["demo", "derivatives", *sys.argv[1:]])
if status:
    sys.exit(status)
