"""Executors: the same seed gives the identical number serially, on a process pool, a
thread pool and a Dask LocalCluster; a worker that raises surfaces its error (with the
worker's traceback) and nothing hangs. The speed-up is measured in bench/montecarlo.py,
never here (no wall-clock thresholds in tests)."""

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from bayescalc.integrate import monte_carlo, vegas
from bayescalc.integrate.sampling import map_batches


def smooth(x):
    return np.exp(-((x - 0.3) ** 2).sum(axis=1))


def fails_in_worker(x):
    if x[:, 0].max() > 0.9:
        raise ArithmeticError("integrand blew up in a worker")
    return x[:, 0]


@pytest.fixture(scope="module")
def pool():
    # fork: the workers import this test module's functions without a package path
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as executor:
        yield executor


CASES = [("mc", {}), ("antithetic", {}), ("stratified", {}), ("qmc", {}), ("halton", {})]


@pytest.mark.parametrize("method", [c[0] for c in CASES])
def test_process_pool_gives_the_identical_number(method, pool):
    serial = monte_carlo(smooth, [0, 0, 0], [1, 1, 1], n=3000, method=method, seed=11,
                         batch_size=256)
    parallel = monte_carlo(smooth, [0, 0, 0], [1, 1, 1], n=3000, method=method, seed=11,
                           batch_size=256, executor=pool)
    assert parallel.value == serial.value and parallel.error == serial.error
    assert parallel.n_evals == serial.n_evals


def test_thread_pool_with_any_worker_count_gives_the_identical_number():
    serial = monte_carlo(smooth, [0, 0], [1, 1], n=5000, method="mc", seed=3, batch_size=100)
    for workers in (1, 3, 7):
        with ThreadPoolExecutor(workers) as executor:
            r = monte_carlo(smooth, [0, 0], [1, 1], n=5000, method="mc", seed=3,
                            batch_size=100, executor=executor)
        assert r.value == serial.value


@pytest.mark.parametrize("sampling", ["mc", "qmc"])
def test_vegas_on_a_process_pool_gives_the_identical_number(sampling, pool):
    serial = vegas(smooth, [0, 0], [1, 1], n_eval=1000, n_iter=3, n_adapt=2, seed=5,
                   sampling=sampling, batch_size=300)
    parallel = vegas(smooth, [0, 0], [1, 1], n_eval=1000, n_iter=3, n_adapt=2, seed=5,
                     sampling=sampling, batch_size=300, executor=pool)
    assert parallel.value == serial.value and parallel.error == serial.error


def test_dask_local_cluster_gives_the_identical_number():
    distributed = pytest.importorskip("distributed")
    serial = monte_carlo(smooth, [0, 0, 0], [1, 1, 1], n=4096, method="mc", seed=21,
                         batch_size=512)
    serial_qmc = monte_carlo(smooth, [0, 0, 0], [1, 1, 1], n=4096, seed=21, batch_size=512)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_client = monte_carlo(smooth, [0, 0, 0], [1, 1, 1], n=4096, method="mc", seed=21,
                                batch_size=512, executor=client)
        on_executor = monte_carlo(smooth, [0, 0, 0], [1, 1, 1], n=4096, seed=21,
                                  batch_size=512, executor=client.get_executor())
    assert on_client.value == serial.value and on_client.error == serial.error
    assert on_executor.value == serial_qmc.value


@pytest.mark.timeout(120)
def test_worker_error_surfaces_with_its_traceback_and_nothing_hangs(pool):
    # (the batch function's first call tries the vectorized and the looped forms; when
    # both fail it raises TypeError quoting and chaining the integrand's own error)
    with pytest.raises((ArithmeticError, TypeError), match="integrand blew up in a worker") \
            as info:
        monte_carlo(fails_in_worker, [0], [1], n=20_000, method="mc", seed=0, batch_size=100,
                    executor=pool)
    # concurrent.futures attaches the worker's formatted traceback as the cause
    assert "fails_in_worker" in str(info.value.__cause__)
    # the pool is still usable afterwards
    assert monte_carlo(smooth, [0], [1], n=100, executor=pool, seed=0).value > 0


@pytest.mark.timeout(120)
def test_thread_worker_error_cancels_pending_batches():
    calls = []

    def slow_then_fail(x):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("third batch fails")
        return x[:, 0]

    with ThreadPoolExecutor(1) as executor:
        with pytest.raises(RuntimeError, match="third batch fails"):
            monte_carlo(slow_then_fail, [0], [1], n=100_000, method="mc", seed=0,
                        batch_size=100, executor=executor)
    assert len(calls) < 1000       # the rest were cancelled, not run


def test_map_batches_keeps_order_and_bounds_the_window():
    with ThreadPoolExecutor(4) as executor:
        out = map_batches(lambda a: a * 2, iter(range(200)), executor=executor, window=5)
    assert out == [2 * a for a in range(200)]


def test_process_pool_needs_picklable_integrand(pool):
    with pytest.raises(Exception, match="pickle|Pickl|lambda"):
        monte_carlo(lambda x: x, [0], [1], n=100, executor=pool)


# ∫_0^1 exp(-(x - 0.3)^2) dx = sqrt(pi)/2 (erf(0.7) + erf(0.3)), per axis of `smooth`
SMOOTH_AXIS = math.sqrt(math.pi) / 2 * (math.erf(0.7) + math.erf(0.3))


@pytest.mark.parametrize("method", [c[0] for c in CASES])
def test_one_two_three_workers_give_the_identical_number_within_its_error(method):
    serial = monte_carlo(smooth, [0, 0, 0], [1, 1, 1], n=3000, method=method, seed=11,
                         batch_size=256)
    assert abs(serial.value - SMOOTH_AXIS**3) < 5 * serial.error
    for workers in (1, 2, 3):
        with ThreadPoolExecutor(workers) as executor:
            r = monte_carlo(smooth, [0, 0, 0], [1, 1, 1], n=3000, method=method, seed=11,
                            batch_size=256, executor=executor)
        assert (r.value, r.error, r.n_evals) == (serial.value, serial.error, serial.n_evals)


@pytest.mark.parametrize("sampling", ["stratified", "mc", "qmc"])
def test_vegas_on_one_two_three_workers_gives_the_identical_number_within_its_error(sampling):
    serial = vegas(smooth, [0, 0], [1, 1], n_eval=1000, n_iter=3, n_adapt=2, seed=5,
                   sampling=sampling, batch_size=300)
    assert abs(serial.value - SMOOTH_AXIS**2) < 5 * serial.error
    for workers in (1, 2, 3):
        with ThreadPoolExecutor(workers) as executor:
            r = vegas(smooth, [0, 0], [1, 1], n_eval=1000, n_iter=3, n_adapt=2, seed=5,
                      sampling=sampling, batch_size=300, executor=executor)
        assert (r.value, r.error, r.n_evals) == (serial.value, serial.error, serial.n_evals)
