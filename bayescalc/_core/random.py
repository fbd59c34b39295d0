"""Seeds: randomness only through an explicit ``seed`` argument, never global state."""

from __future__ import annotations

import numpy as np


def as_generator(seed) -> np.random.Generator:
    """A numpy Generator from ``seed`` (None, int, SeedSequence or Generator).

    The same int always gives the same stream; a Generator passed in is used as is
    (so a caller can thread one stream through several calls).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if _is_torch_generator(seed):
        return np.random.default_rng(int(seed.initial_seed()))
    raise TypeError(
        f"seed must be None, an int, a numpy SeedSequence/Generator or a torch.Generator, "
        f"got {type(seed).__name__}"
    )


def spawn_seeds(seed, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``seed`` (numpy's SeedSequence.spawn).

    Used to give every batch of work its own stream, so that the answer depends on the
    seed alone and not on how many workers computed it.
    """
    if isinstance(seed, np.random.Generator):
        root = np.random.SeedSequence(seed.integers(2**63))
    elif isinstance(seed, np.random.SeedSequence):
        root = seed
    else:
        root = np.random.SeedSequence(None if seed is None else int(seed))
    return root.spawn(n)


def torch_generator(seed, device=None):
    """A ``torch.Generator`` on ``device`` seeded from ``seed`` (any kind accepted above)."""
    import torch

    if _is_torch_generator(seed):
        return seed
    generator = torch.Generator(device=device or "cpu")
    generator.manual_seed(int(as_generator(seed).integers(2**62)))
    return generator


def _is_torch_generator(seed) -> bool:
    return type(seed).__name__ == "Generator" and type(seed).__module__.startswith("torch")
