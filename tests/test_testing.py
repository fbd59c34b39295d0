"""The course kit's graders: each passes the reference solution, fails deliberately wrong
solutions at the right place with the right diagnosis, and never lets a student's
exception or wrong shape through as a traceback."""

import numpy as np
import pytest

from bayescalc.testing import Verdict, check_gradient, check_kl, check_minmax_step, gaussian_kl
from bayescalc.testing._check_kl import CASES as KL_CASES

# --- check_kl --------------------------------------------------------------------------


def kl_reference(mq, sq, mp, sp):
    ip = np.linalg.inv(sp)
    d = mp - mq
    return 0.5 * (np.trace(ip @ sq) + d @ ip @ d - len(mq)
                  + np.log(np.linalg.det(sp)) - np.log(np.linalg.det(sq)))


def _terms(mq, sq, mp, sp):
    ip = np.linalg.inv(sp)
    d = mp - mq
    return (np.trace(ip @ sq), d @ ip @ d, len(mq),
            np.log(np.linalg.det(sp)) - np.log(np.linalg.det(sq)))


WRONG_KL = {
    "swapped arguments": lambda mq, sq, mp, sp: kl_reference(mp, sp, mq, sq),
    "missing trace term": lambda *a: 0.5 * (_terms(*a)[1] - _terms(*a)[2] + _terms(*a)[3]),
    "missing log-determinant term": lambda *a: 0.5 * (sum(_terms(*a)[:2]) - _terms(*a)[2]),
    "log-determinant sign": lambda *a: 0.5 * (sum(_terms(*a)[:2]) - _terms(*a)[2]
                                              - _terms(*a)[3]),
    "missing factor 1/2": lambda *a: 2 * kl_reference(*a),
    "missing mean term": lambda *a: 0.5 * (_terms(*a)[0] - _terms(*a)[2] + _terms(*a)[3]),
}


def test_gaussian_kl_matches_torch():
    import torch
    from torch.distributions import MultivariateNormal, kl_divergence

    for _, mq, sq, mp, sp in KL_CASES:
        expected = kl_divergence(MultivariateNormal(torch.tensor(mq), torch.tensor(sq)),
                                 MultivariateNormal(torch.tensor(mp), torch.tensor(sp)))
        assert gaussian_kl(mq, sq, mp, sp) == pytest.approx(float(expected), rel=1e-10,
                                                            abs=1e-12)


def test_check_kl_passes_the_reference_in_numpy_and_torch():
    import torch

    verdict = check_kl(kl_reference)
    assert isinstance(verdict, Verdict) and verdict.ok and bool(verdict)
    assert verdict.where is None and "correct" in str(verdict)

    def torch_kl(mq, sq, mp, sp):
        return torch.distributions.kl_divergence(
            torch.distributions.MultivariateNormal(mq, sq),
            torch.distributions.MultivariateNormal(mp, sp))

    assert check_kl(torch_kl, array="torch").ok


@pytest.mark.parametrize("mistake", sorted(WRONG_KL))
def test_check_kl_names_each_mistake_at_the_first_case(mistake):
    verdict = check_kl(WRONG_KL[mistake])
    assert not verdict.ok
    assert verdict.diagnosis == mistake
    assert verdict.where.startswith("case 1 (1-D")     # every mistake shows in 1-D already
    _, *case = KL_CASES[0]
    assert verdict.expected == pytest.approx(kl_reference(*case))
    assert verdict.got == pytest.approx(WRONG_KL[mistake](*case))


def test_check_kl_first_disagreement_can_be_a_later_case():
    # right in 1-D (a scalar formula on the diagonal), wrong once covariances are full
    def diagonal_only(mq, sq, mp, sp):
        vq, vp = np.diag(sq), np.diag(sp)
        return 0.5 * np.sum(vq / vp + (mp - mq) ** 2 / vp - 1 + np.log(vp / vq))

    verdict = check_kl(diagonal_only)
    assert not verdict.ok and verdict.where.startswith("case 3 (3-D, full")
    assert verdict.diagnosis is None and "term by term" in verdict.message


@pytest.mark.parametrize("student, words", [
    (lambda mq, sq, mp, sp: 1 / 0, "raised ZeroDivisionError"),
    (lambda mq, sq, mp, sp: np.zeros(len(mq)), "has shape (2,); expected one number"),
    (lambda mq, sq, mp, sp: "0.5", None),
    (lambda mq, sq, mp, sp: float("nan"), "not finite"),
    (lambda mq, sq: 0.0, "raised TypeError"),
])
def test_check_kl_bad_student_functions_get_a_verdict(student, words):
    verdict = check_kl(student)
    assert not verdict.ok and verdict.where.startswith("case")
    if words:
        assert words in verdict.message


def test_check_kl_bad_grader_input():
    with pytest.raises(TypeError, match="student_kl_fn"):
        check_kl(3.0)
    with pytest.raises(ValueError, match="array"):
        check_kl(kl_reference, array="jax")


# --- check_minmax_step -------------------------------------------------------------------

def simultaneous(x, y, gx, gy, lr):
    return x - lr * gx(x, y), y + lr * gy(x, y)


def alternating(x, y, gx, gy, lr):
    x_new = x - lr * gx(x, y)
    return x_new, y + lr * gy(x_new, y)


def alternating_y_first(x, y, gx, gy, lr):
    y_new = y + lr * gy(x, y)
    return x - lr * gx(x, y_new), y_new


def extragradient(x, y, gx, gy, lr):
    xh, yh = x - lr * gx(x, y), y + lr * gy(x, y)
    return x - lr * gx(xh, yh), y + lr * gy(xh, yh)


def two_steps(x, y, gx, gy, lr):
    xh, yh = x - lr * gx(x, y), y + lr * gy(x, y)
    return xh - lr * gx(xh, yh), yh + lr * gy(xh, yh)


def optimistic(x, y, gx, gy, lr, previous):
    px, py = previous
    return x - 2 * lr * gx(x, y) + lr * px, y + 2 * lr * gy(x, y) - lr * py


def optimistic_weights_swapped(x, y, gx, gy, lr, previous):
    px, py = previous
    return x - lr * gx(x, y) + 2 * lr * px, y + lr * gy(x, y) - 2 * lr * py


def optimistic_sign(x, y, gx, gy, lr, previous):
    px, py = previous
    return x - 2 * lr * gx(x, y) - lr * px, y + 2 * lr * gy(x, y) + lr * py


def both_descend(x, y, gx, gy, lr):
    return x - lr * gx(x, y), y - lr * gy(x, y)


def roles_swapped(x, y, gx, gy, lr):
    return x + lr * gx(x, y), y - lr * gy(x, y)


REFERENCES = {"simultaneous": simultaneous, "alternating": alternating,
              "extragradient": extragradient, "optimistic": optimistic}


@pytest.mark.parametrize("method", sorted(REFERENCES))
def test_check_minmax_step_passes_each_reference(method):
    verdict = check_minmax_step(REFERENCES[method], method)
    assert verdict.ok, verdict.message
    assert verdict.n_cases == 3


@pytest.mark.parametrize("method, student, diagnosis, where", [
    ("extragradient", simultaneous, "simultaneous", "game 1 (bilinear"),
    ("extragradient", two_steps, "two simultaneous steps", "game 1 (bilinear"),
    ("extragradient", alternating, "alternating", "game 1 (bilinear"),
    ("simultaneous", both_descend, "both descend", "game 1 (bilinear"),
    ("simultaneous", roles_swapped, "roles swapped", "game 1 (bilinear"),
    ("simultaneous", extragradient, "extragradient", "game 1 (bilinear"),
    ("alternating", alternating_y_first, "alternating, y first", "game 1 (bilinear"),
    ("alternating", simultaneous, "simultaneous", "game 1 (bilinear"),
    ("optimistic", optimistic_weights_swapped, "optimistic, weights swapped", "game 1"),
    ("optimistic", optimistic_sign, "optimistic, correction sign", "game 1"),
    ("optimistic", lambda x, y, gx, gy, lr, previous: simultaneous(x, y, gx, gy, lr),
     "simultaneous", "game 1"),
])
def test_check_minmax_step_names_the_rule_written(method, student, diagnosis, where):
    verdict = check_minmax_step(student, method)
    assert not verdict.ok
    assert verdict.diagnosis == diagnosis, verdict.message
    assert verdict.where.startswith(where)
    assert verdict.expected != pytest.approx(verdict.got)


def test_check_minmax_step_where_is_the_first_wrong_coordinate():
    # alternating steps differ from simultaneous ones only in y: the first wrong entry
    # is y_new[0] of the bilinear game
    verdict = check_minmax_step(simultaneous, "alternating")
    assert verdict.where.endswith("y_new[0]")
    x, y, lr = 1.0, 0.5, 0.1
    assert verdict.expected == pytest.approx(y + lr * (x - lr * y))   # ∂f/∂y at the new x
    assert verdict.got == pytest.approx(y + lr * x)


def test_check_minmax_step_unknown_rule_has_no_diagnosis():
    verdict = check_minmax_step(lambda x, y, gx, gy, lr: (x * 0.9, y * 1.1), "simultaneous")
    assert not verdict.ok and verdict.diagnosis is None
    assert "none of the rules" in verdict.message


@pytest.mark.parametrize("student, words", [
    (lambda x, y, gx, gy, lr: undefined_name, "raised NameError"),  # noqa: F821
    (lambda x, y, gx, gy, lr: x - lr * gx(x, y), "expected the pair (x_new, y_new)"),
    (lambda x, y, gx, gy, lr: (np.zeros(5), y), "x_new has shape (5,)"),
    (lambda x, y, gx, gy, lr: (x, None), "y_new"),
    (lambda x, y: (x, y), "raised TypeError"),
])
def test_check_minmax_step_bad_student_functions_get_a_verdict(student, words):
    verdict = check_minmax_step(student, "simultaneous")
    assert not verdict.ok and words in verdict.message


def test_check_minmax_step_optimistic_needs_previous():
    verdict = check_minmax_step(simultaneous, "optimistic")
    assert not verdict.ok and "previous" in verdict.message


def test_check_minmax_step_bad_grader_input():
    with pytest.raises(ValueError, match="method"):
        check_minmax_step(simultaneous, "adam")
    with pytest.raises(ValueError, match="lr"):
        check_minmax_step(simultaneous, "simultaneous", lr=-1.0)
    with pytest.raises(TypeError, match="student_step"):
        check_minmax_step(None, "simultaneous")


# --- check_gradient ----------------------------------------------------------------------

def f(p):
    return p[0] ** 2 * p[1] + p[1] ** 3 + np.sin(p[2]) * p[0]


def grad_f(p):
    return np.array([2 * p[0] * p[1] + np.sin(p[2]), p[0] ** 2 + 3 * p[1] ** 2,
                     np.cos(p[2]) * p[0]])


X = np.array([1.0, 2.0, 0.5])


def test_check_gradient_passes_the_reference():
    verdict = check_gradient(f, grad_f, X)
    assert verdict.ok and verdict.where is None


@pytest.mark.parametrize("student, coordinate, diagnosis", [
    (lambda p: -grad_f(p), 0, "wrong sign"),
    (lambda p: 2 * grad_f(p), 0, "factor 2"),
    (lambda p: grad_f(p)[::-1], 0, "coordinates reversed"),
    (lambda p: grad_f(p) * np.array([1, 1, 0.5]), 2, None),          # one partial halved
    (lambda p: np.array([2 * p[0] * p[1], p[0] ** 2 + 3 * p[1] ** 2,     # forgot sin term
                         np.cos(p[2]) * p[0]]), 0, None),
])
def test_check_gradient_finds_the_wrong_coordinate(student, coordinate, diagnosis):
    verdict = check_gradient(f, student, X)
    assert not verdict.ok
    assert verdict.where == f"coordinate {coordinate} of the gradient"
    assert verdict.diagnosis == diagnosis
    assert verdict.expected == pytest.approx(grad_f(X)[coordinate], rel=1e-8)


@pytest.mark.parametrize("student, words", [
    (lambda p: np.log(-1.0) * p, "not finite"),
    (lambda p: p[:2], "shape (2,)"),
    (lambda p: {}["x"], "raised KeyError"),
])
def test_check_gradient_bad_student_functions_get_a_verdict(student, words):
    with np.errstate(invalid="ignore"):
        verdict = check_gradient(f, student, X)
    assert not verdict.ok and words in verdict.message
