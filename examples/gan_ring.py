"""
A GAN on a ring of 8 Gaussians
==============================

A small generator and discriminator trained on 8 Gaussians on a circle: modes covered
and high-quality samples over training. Choose the optimizer with
``--optimizer adam|extraadam|optimisticadam``.

This script is a thin wrapper: the demo lives in the package
(``bayescalc.demos.gan_ring``), so ``bayescalc demo gan_ring`` runs the same code from an
installed wheel. Run it as::

    python examples/gan_ring.py [--quick] [--seed N] [--out DIR]

It prints what it measured and saves its figures under ``DIR/gan_ring/`` (default
``./bayescalc-demos/gan_ring/``); it never opens a window.
"""

import sys

from bayescalc.cli import main

status = main(["demo", "gan_ring", *sys.argv[1:]])
if status:
    sys.exit(status)
