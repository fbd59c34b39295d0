"""
Gradient descent and critical points: the start decides
=======================================================

Gradient descent from five starts on a surface with six minima reaches five different
minima: each path ends in the basin it started in. Every stationary point is found and
classified by its Hessian, and six update rules race on Rosenbrock's valley.

This script is a thin wrapper: the demo lives in the package
(``bayescalc.demos.gradient_descent``), so ``bayescalc demo gradient_descent`` runs the same code from an
installed wheel. Run it as::

    python examples/gradient_descent.py [--quick] [--seed N] [--out DIR]

It prints what it measured and saves its figures under ``DIR/gradient_descent/`` (default
``./bayescalc-demos/gradient_descent/``); it never opens a window.
"""

import sys

from bayescalc.cli import main

status = main(["demo", "gradient_descent", *sys.argv[1:]])
if status:
    sys.exit(status)
