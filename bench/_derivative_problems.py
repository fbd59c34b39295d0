"""The scalar derivative battery, shared by bench/derivatives.py and the diff tests.

Each case is a triple (name, f, exact f', points): smooth, near-singular, oscillatory,
large-magnitude functions, and the traps (log x at 1e-4, sqrt x at 1e-3, sigmoid at 30,
sin(1/x) at 0.05, 1/x at 1e-3).
"""

import numpy as np
import scipy.special as sc


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# (name, f, exact f', points)
BATTERY = [
    ("exp", np.exp, np.exp, [-1.0, 1.0, 10.0]),
    ("sin", np.sin, np.cos, [0.5, 2.0, 100.0]),
    ("log", np.log, lambda x: 1 / x, [1e-4, 1.0, 1e6]),
    ("sqrt", np.sqrt, lambda x: 0.5 / np.sqrt(x), [1e-3, 2.0, 1e4]),
    ("atan", np.arctan, lambda x: 1 / (1 + x * x), [-3.0, 0.5, 7.0]),
    ("sigmoid", sigmoid, lambda x: sigmoid(x) * sigmoid(-x), [-2.0, 0.5, 30.0]),
    ("sin(1/x)", lambda x: np.sin(1 / x), lambda x: -np.cos(1 / x) / x**2, [0.05, 0.5, 2.0]),
    ("x^5", lambda x: x**5, lambda x: 5 * x**4, [-2.0, 1.3, 50.0]),
    ("1/(1+25x^2)", lambda x: 1 / (1 + 25 * x * x),
     lambda x: -50 * x / (1 + 25 * x * x) ** 2, [0.05, 0.2, 1.0]),
    ("exp(-x^2)", lambda x: np.exp(-x * x), lambda x: -2 * x * np.exp(-x * x), [0.1, 1.0, 3.0]),
    ("tanh", np.tanh, lambda x: 1 / np.cosh(x) ** 2, [0.3, 2.0, -5.0]),
    ("exp(sin x)", lambda x: np.exp(np.sin(x)), lambda x: np.cos(x) * np.exp(np.sin(x)),
     [0.0, 1.0, 5.0]),
    ("gammaln", sc.gammaln, sc.digamma, [0.5, 5.0, 100.0]),
    ("1/x", lambda x: 1 / x, lambda x: -1 / x**2, [1e-3, 0.1, 3.0]),
    ("sin(20x)", lambda x: np.sin(20 * x), lambda x: 20 * np.cos(20 * x), [0.1, 1.0, 3.0]),
    ("exp(10x)", lambda x: np.exp(10 * x), lambda x: 10 * np.exp(10 * x), [-1.0, 1.0, 30.0]),
]
