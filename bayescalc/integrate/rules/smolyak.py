"""Smolyak sparse grids by the combination technique, for any family of 1-D rules.

Smolyak (1963); Gerstner & Griebel (1998), "Numerical integration using sparse grids",
eq. (3.3)::

    A(k, d) = Σ_i  (-1)^(k + d - |i|)  C(d - 1, k + d - |i|)  U^{i_1} ⊗ ... ⊗ U^{i_d}

over multi-indices ``i`` (``i_j >= 1``) with ``k + 1 <= |i| <= k + d``, where ``U^l`` is
the 1-D rule of level ``l``. ``k = 0`` is the one-point rule. Points shared by several
tensor grids (nested rules, or the common center of symmetric ones) are merged and their
weights added, so each distinct point is evaluated once.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np

_DIGITS = 12


def multi_indices(d: int, k: int):
    """The multi-indices ``i`` (``i_j >= 1``) with ``k + 1 <= |i| <= k + d`` and coefficients."""
    terms = []
    for total in range(max(d, k + 1), k + d + 1):
        coefficient = (-1) ** (k + d - total) * comb(d - 1, k + d - total)
        if coefficient == 0:
            continue
        for index in _compositions(total, d):
            terms.append((index, coefficient))
    return terms


def _compositions(total, parts):
    """All tuples of ``parts`` positive integers summing to ``total``."""
    for cuts in itertools.combinations(range(1, total), parts - 1):
        bounds = (0, *cuts, total)
        yield tuple(bounds[j + 1] - bounds[j] for j in range(parts))


def sparse_grid(rule, d: int, k: int):
    """Points ``(n, d)`` and weights ``(n,)`` of the level-``k`` Smolyak rule.

    ``rule(level)`` returns the 1-D nodes and weights of that level (level >= 1).
    """
    cache = {}
    blocks, weight_blocks = [], []
    for index, coefficient in multi_indices(d, k):
        rules = [cache.setdefault(level, rule(level)) for level in index]
        grids = np.meshgrid(*[r[0] for r in rules], indexing="ij")
        weights = np.meshgrid(*[r[1] for r in rules], indexing="ij")
        blocks.append(np.stack([g.ravel() for g in grids], axis=1))
        weight_blocks.append(coefficient * np.prod([w.ravel() for w in weights], axis=0))
    points = np.concatenate(blocks)
    weights = np.concatenate(weight_blocks)
    return merge_points(points, weights)


def tensor_grid(nodes, weights, d: int):
    """The tensor product of one 1-D rule with itself ``d`` times."""
    grids = np.meshgrid(*([nodes] * d), indexing="ij")
    products = np.meshgrid(*([weights] * d), indexing="ij")
    return (np.stack([g.ravel() for g in grids], axis=1),
            np.prod([w.ravel() for w in products], axis=0))


def merge_points(points, weights):
    """Merge equal points (to 12 digits), adding their weights; drop zero weights."""
    keys = np.round(points, _DIGITS) + 0.0  # + 0.0 turns -0.0 into 0.0
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    merged = np.zeros(unique.shape[0])
    np.add.at(merged, inverse.ravel(), weights)
    keep = merged != 0
    return unique[keep], merged[keep]

