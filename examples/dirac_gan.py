"""
The Dirac-GAN: which training rules converge
============================================

Simultaneous and alternating gradient descent-ascent, extragradient, optimistic and
consensus steps on the Dirac-GAN, without and with the R1 gradient penalty, on the
game's flow.

This script is a thin wrapper: the demo lives in the package
(``bayescalc.demos.dirac_gan``), so ``bayescalc demo dirac_gan`` runs the same code from an
installed wheel. Run it as::

    python examples/dirac_gan.py [--quick] [--seed N] [--out DIR]

It prints what it measured and saves its figures under ``DIR/dirac_gan/`` (default
``./bayescalc-demos/dirac_gan/``); it never opens a window.
"""

import sys

from bayescalc.cli import main

status = main(["demo", "dirac_gan", *sys.argv[1:]])
if status:
    sys.exit(status)
