"""The shared conventions: results, validation, batch evaluation, seeds, array kinds."""

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from bayescalc._core.arraykind import like, to_numpy
from bayescalc._core.batch import BatchFunction
from bayescalc._core.random import as_generator, spawn_seeds, torch_generator
from bayescalc._core.result import Result
from bayescalc._core.validation import (
    as_bounds,
    as_point,
    check_bool,
    check_finite_values,
    check_int,
    check_positive,
    check_tolerances,
)
from bayescalc._core.warnings import AccuracyWarning, warn_unless_success


@dataclass(frozen=True, repr=False)
class _Demo(Result):
    value: float
    path: list
    success: bool = True
    message: str = "ok"


def test_result_is_frozen_and_readable():
    result = _Demo(1.25, list(range(100)))
    with pytest.raises(AttributeError):
        result.value = 2.0
    text = repr(result)
    assert "value=1.25" in text and "<list of 100 items>" in text
    assert result._replace(value=3.0).value == 3.0
    assert set(result._asdict()) == {"value", "path", "success", "message"}


def test_warn_unless_success():
    with pytest.warns(AccuracyWarning, match="missed"):
        warn_unless_success(_Demo(1.0, [], success=False, message="missed rtol"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_unless_success(_Demo(1.0, []))


def test_validation_messages_name_the_argument():
    with pytest.raises(ValueError, match="step must be finite and > 0"):
        check_positive(0.0, "step")
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int(2.5, "n")
    with pytest.raises(ValueError, match="n must be >= 1"):
        check_int(0, "n", minimum=1)
    with pytest.raises(ValueError, match="x must be finite"):
        as_point([1.0, np.nan])
    with pytest.raises(ValueError, match="shape"):
        as_point(np.ones((2, 2)))
    with pytest.raises(ValueError, match="rtol and atol cannot both be 0"):
        check_tolerances(0.0, 0)
    with pytest.raises(TypeError, match="log must be True or False"):
        check_bool("yes", "log")
    with pytest.raises(ValueError, match=r"lower\[1\] = 3.0 >= upper\[1\] = 1.0"):
        as_bounds([0, 3], [1, 1])
    with pytest.raises(ValueError, match="same shape"):
        as_bounds([0, 0], [1, 1, 1])
    with pytest.raises(ValueError, match=r"non-finite value nan at x = \[2. 3.\]"):
        check_finite_values(np.array([1.0, np.nan]), np.array([[0.0, 1.0], [2.0, 3.0]]))


@pytest.mark.parametrize(
    "f, mode",
    [
        (lambda x: np.sin(x[:, 0]) * x[:, 1], "vectorized numpy"),
        (lambda x: math.sin(x[0]) * x[1], "loop numpy"),
        (lambda x: torch.sin(x[:, 0]) * x[:, 1], "vectorized torch"),
        (lambda x: torch.sin(x[0]) * x[1], "loop torch"),
    ],
)
def test_batch_function_detects_each_kind(f, mode):
    points = np.random.default_rng(0).normal(size=(5, 2))
    g = BatchFunction(f)
    values = g(points)
    np.testing.assert_allclose(values, np.sin(points[:, 0]) * points[:, 1], rtol=1e-15)
    assert g.mode == mode and g.n_evals == 5


def test_batch_function_n_equals_d_is_not_fooled():
    points = np.arange(4.0).reshape(2, 2) + 1.0  # n == d == 2: x[0] * x[1] has shape (2,)
    g = BatchFunction(lambda x: x[0] * x[1])
    np.testing.assert_allclose(g(points), points[:, 0] * points[:, 1])
    assert g.mode == "loop numpy"


def test_batch_function_surfaces_the_users_own_error():
    def broken(x):
        raise ZeroDivisionError("the integrand divided by zero")

    with pytest.raises(ZeroDivisionError, match="divided by zero") as raised:
        BatchFunction(broken)(np.zeros((3, 2)))
    assert any("single point" in note for note in getattr(raised.value, "__notes__", [])) \
        or not hasattr(raised.value, "add_note")


def test_seeds_reproduce():
    assert as_generator(3).random() == as_generator(3).random()
    a, b = spawn_seeds(7, 2), spawn_seeds(7, 2)
    assert np.random.default_rng(a[1]).random() == np.random.default_rng(b[1]).random()
    assert torch.equal(torch.rand(3, generator=torch_generator(5)),
                       torch.rand(3, generator=torch_generator(5)))
    with pytest.raises(TypeError, match="seed must be"):
        as_generator("zero")


def test_like_returns_the_kind_that_went_in():
    assert isinstance(like(2.0, np.float64(3.0)), float)
    assert isinstance(like(np.zeros(2), [1.0, 2.0]), np.ndarray)
    tensor = like(torch.zeros(2, dtype=torch.float32), [1.0, 2.0])
    assert tensor.dtype == torch.float32
    np.testing.assert_array_equal(to_numpy(tensor), [1.0, 2.0])


def test_no_function_shadows_its_module():
    """Issue 9: `import bayescalc.minmax.solve as m` must not give a function; every
    sub-module name of every package is a module, or not an attribute at all."""
    import importlib
    import pkgutil
    import types

    import bayescalc

    shadowed = []
    packages = [bayescalc] + [importlib.import_module(m.name) for m in
                              pkgutil.walk_packages(bayescalc.__path__, "bayescalc.")
                              if m.ispkg]
    for package in packages:
        for sub in pkgutil.iter_modules(package.__path__):
            value = getattr(package, sub.name, None)
            if value is not None and not isinstance(value, types.ModuleType):
                shadowed.append(f"{package.__name__}.{sub.name}")
    assert shadowed == []
