"""The ring of Gaussians: the standard 2-D test of a GAN's mode coverage.

Eight Gaussians of standard deviation σ on a circle of radius r (Metz, Poole, Pfau and
Sohl-Dickstein 2017, "Unrolled Generative Adversarial Networks", Sec. 3.1; the metrics of
Srivastava et al. 2017, VEEGAN): a sample is *high quality* when it lies within 3σ of
the nearest mode; a mode is *covered* when it receives at least ``min_share`` of its fair
share 1/k of the samples as high-quality ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core.arraykind import to_numpy
from .._core.random import as_generator
from .._core.result import Result


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The modes' centers (n_modes, 2), evenly spaced on the circle, the first at (r, 0).

    Examples
    --------
    >>> ring_centers(4, 1.0).round(12) + 0.0
    array([[ 1.,  0.],
           [ 0.,  1.],
           [-1.,  0.],
           [ 0., -1.]])
    """
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


def sample_ring(n: int, *, n_modes: int = 8, radius: float = 2.0, std: float = 0.02,
                seed=None) -> np.ndarray:
    """``n`` samples (n, 2) from the equal-weight mixture on the ring.

    Examples
    --------
    >>> sample_ring(3, seed=0).shape
    (3, 2)
    """
    rng = as_generator(seed)
    centers = ring_centers(n_modes, radius)
    return centers[rng.integers(n_modes, size=n)] + std * rng.standard_normal((n, 2))


@dataclass(frozen=True, repr=False)
class ModeCoverage(Result):
    """How well samples cover the ring: ``modes_covered`` of ``n_modes``, the fraction of
    ``high_quality`` samples (within 3σ of a mode) and the per-mode ``counts`` of them."""

    modes_covered: int
    n_modes: int
    high_quality: float
    counts: object


def mode_coverage(samples, *, n_modes: int = 8, radius: float = 2.0, std: float = 0.02,
                  min_share: float = 0.2) -> ModeCoverage:
    """Modes covered and the high-quality fraction of ``samples`` (n, 2).

    Examples
    --------
    >>> coverage = mode_coverage(sample_ring(4000, seed=1))
    >>> coverage.modes_covered, round(coverage.high_quality, 2)
    (8, 0.99)
    >>> mode_coverage(np.zeros((10, 2))).modes_covered   # all at the center: none
    0
    """
    points = to_numpy(samples).reshape(-1, 2)
    centers = ring_centers(n_modes, radius)
    distance = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=-1)
    nearest = distance.argmin(axis=1)
    good = distance[np.arange(len(points)), nearest] <= 3.0 * std
    counts = np.bincount(nearest[good], minlength=n_modes)
    covered = int(np.sum(counts >= min_share * len(points) / n_modes))
    return ModeCoverage(covered, n_modes, float(good.mean()), counts)
