"""
Quadrature: convergence rates and log Z in log space
====================================================

Error against evaluations for the trapezoid rule, Simpson, Gauss-Legendre, adaptive
Gauss-Kronrod and tanh-sinh, on a smooth and on a singular integrand; then a posterior
normalizing constant whose integrand underflows, computed in log space.

This script is a thin wrapper: the demo lives in the package
(``bayescalc.demos.quadrature``), so ``bayescalc demo quadrature`` runs the same code from an
installed wheel. Run it as::

    python examples/quadrature.py [--quick] [--seed N] [--out DIR]

It prints what it measured and saves its figures under ``DIR/quadrature/`` (default
``./bayescalc-demos/quadrature/``); it never opens a window.
"""

import sys

from bayescalc.cli import main

status = main(["demo", "quadrature", *sys.argv[1:]])
if status:
    sys.exit(status)
