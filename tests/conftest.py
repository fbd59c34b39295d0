"""Test configuration shared by every test module.

Seeds: statistical tests take their seed from ``seed`` below, which reads the
BAYESCALC_TEST_SEED environment variable (default 0), so that a failure can be replayed
or varied (the dynesty convention). Property tests (hypothesis) are derandomized the
same way: the default profile draws a fixed sequence of examples, so CI is reproducible;
``--hypothesis-profile=explore`` draws fresh ones.
"""

import os

import matplotlib
import pytest
import torch
from hypothesis import settings

settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=500)
settings.load_profile("default")

matplotlib.use("Agg")
torch.set_num_threads(1)  # tiny tensor ops are erratic with 2 threads on 2 cores


@pytest.fixture
def seed() -> int:
    return int(os.environ.get("BAYESCALC_TEST_SEED", "0"))
