"""Test configuration shared by every test module.

Seeds: statistical tests take their seed from ``seed`` below, which reads the
BAYESCALC_TEST_SEED environment variable (default 0), so that a failure can be replayed
or varied (the dynesty convention).
"""

import os

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.set_num_threads(1)  # tiny tensor ops are erratic with 2 threads on 2 cores


@pytest.fixture
def seed() -> int:
    return int(os.environ.get("BAYESCALC_TEST_SEED", "0"))
