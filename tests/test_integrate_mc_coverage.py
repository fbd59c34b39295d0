"""The coverage study (slow): over 200 seeded repeats on 3 Genz cases, the fraction of
runs with |value - exact| <= 2 * error must lie in [0.90, 0.99] for every method.

Why this band: for a normal error it is 0.954; RQMC's 16-31 replicates give a t with
15-30 dof (0.936-0.945); with 200 repeats the binomial sd is ~0.015, so a calibrated
method falls outside [0.90, 0.99] with probability < 1e-3. Below 0.90 the error bars
are too small; above 0.99 too large. The same study runs in bench/montecarlo.py."""

import pytest

from bench._genz import coverage_methods, coverage_study


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(coverage_methods()))
def test_two_standard_errors_cover_the_truth_90_to_99_percent(method, seed):
    study = coverage_study(repeats=200, seed=seed, methods={method: coverage_methods()[method]})
    for case, fraction in study[method].items():
        assert 0.90 <= fraction <= 0.99, f"{method} on {case}: coverage {fraction:.3f}"
