"""check_kl: grade a student's KL divergence between two Gaussians."""

from __future__ import annotations

import numpy as np

from ._calling import StudentError, as_array, call_student, close
from .verdict import Verdict

# The test cases, in the order they are tried: (description, mean_q, cov_q, mean_p, cov_p).
_L = np.array([[1.0, 0.0, 0.0], [0.4, 0.9, 0.0], [-0.3, 0.5, 1.2]])
_M = np.array([[0.8, 0.0, 0.0], [-0.2, 1.1, 0.0], [0.5, 0.1, 0.6]])
CASES = [
    ("1-D: q = N(0.5, 2), p = N(-1, 0.5)",
     np.array([0.5]), np.array([[2.0]]), np.array([-1.0]), np.array([[0.5]])),
    ("2-D, diagonal covariances",
     np.array([1.0, -0.5]), np.diag([0.3, 1.5]), np.array([0.0, 0.2]), np.diag([1.0, 2.0])),
    ("3-D, full covariances",
     np.array([0.3, -1.0, 2.0]), _L @ _L.T, np.array([-0.5, 0.4, 1.0]), _M @ _M.T),
    ("2-D, q = p (the KL is 0)",
     np.array([0.7, -0.3]), np.array([[1.0, 0.3], [0.3, 0.5]]),
     np.array([0.7, -0.3]), np.array([[1.0, 0.3], [0.3, 0.5]])),
]


def _terms(mean_q, cov_q, mean_p, cov_p):
    """The pieces of KL(q || p): trace, Mahalanobis, dimension, log-determinant."""
    inverse_p = np.linalg.inv(cov_p)
    delta = mean_p - mean_q
    return {"trace": float(np.trace(inverse_p @ cov_q)),
            "mean": float(delta @ inverse_p @ delta),
            "dim": float(mean_q.size),
            "logdet": float(np.linalg.slogdet(cov_p)[1] - np.linalg.slogdet(cov_q)[1]),
            "trace_no_inverse": float(np.trace(cov_p @ cov_q)),
            "mean_no_inverse": float(delta @ cov_p @ delta)}


def gaussian_kl(mean_q, cov_q, mean_p, cov_p) -> float:
    """KL(q || p) for q = N(mean_q, cov_q), p = N(mean_p, cov_p), in closed form.

    .. math:: \\tfrac12\\left[\\operatorname{tr}(\\Sigma_p^{-1}\\Sigma_q)
              + (\\mu_p-\\mu_q)^\\top\\Sigma_p^{-1}(\\mu_p-\\mu_q) - d
              + \\log\\det\\Sigma_p - \\log\\det\\Sigma_q\\right]

    Examples
    --------
    >>> import numpy as np
    >>> round(gaussian_kl(np.zeros(1), np.eye(1), np.ones(1), np.eye(1)), 12)
    0.5
    """
    t = _terms(*(np.asarray(a, dtype=float) for a in (mean_q, cov_q, mean_p, cov_p)))
    return 0.5 * (t["trace"] + t["mean"] - t["dim"] + t["logdet"])


# Mistakes the grader recognizes: name -> (explanation, value as a function of the case).
def _variants():
    def half(f):
        return lambda mq, sq, mp, sp: 0.5 * f(_terms(mq, sq, mp, sp))

    return {
        "swapped arguments": (
            "this is KL(p || q): the arguments are swapped (the KL divergence is not "
            "symmetric; the grader asks for KL(q || p) = E_q[log q - log p])",
            lambda mq, sq, mp, sp: gaussian_kl(mp, sp, mq, sq)),
        "missing trace term": (
            "the trace term tr(Σp⁻¹ Σq) is missing",
            half(lambda t: t["mean"] - t["dim"] + t["logdet"])),
        "missing log-determinant term": (
            "the log-determinant term log det Σp - log det Σq is missing",
            half(lambda t: t["trace"] + t["mean"] - t["dim"])),
        "log-determinant sign": (
            "the log-determinant term has the wrong sign: it is log det Σp - log det Σq "
            "(p's covariance first)",
            half(lambda t: t["trace"] + t["mean"] - t["dim"] - t["logdet"])),
        "missing dimension term": (
            "the -d term (d the dimension) is missing",
            half(lambda t: t["trace"] + t["mean"] + t["logdet"])),
        "missing factor 1/2": (
            "the factor 1/2 in front is missing",
            lambda mq, sq, mp, sp: 2.0 * gaussian_kl(mq, sq, mp, sp)),
        "missing mean term": (
            "the mean term (μp - μq)ᵀ Σp⁻¹ (μp - μq) is missing",
            half(lambda t: t["trace"] - t["dim"] + t["logdet"])),
        "covariance not inverted": (
            "Σp is used where its inverse Σp⁻¹ belongs (in the trace and mean terms)",
            half(lambda t: t["trace_no_inverse"] + t["mean_no_inverse"] - t["dim"]
                 + t["logdet"])),
    }


def _convert(array, kind):
    if kind == "torch":
        import torch

        return torch.as_tensor(array, dtype=torch.float64)
    return array.copy()


def check_kl(student_kl_fn, *, rtol: float = 1e-6, atol: float = 1e-9,
             array: str = "numpy") -> Verdict:
    """Grade a student's KL(q || p) between two multivariate Gaussians.

    The student's function is called as ``student_kl_fn(mean_q, cov_q, mean_p, cov_p)``
    (means of shape (d,), covariances (d, d)) and must return KL(q || p) as one number.
    It is tried on a 1-D, a 2-D diagonal, a 3-D full-covariance case and on q = p, and
    compared with the closed form. A wrong answer is matched against the usual mistakes:
    swapped arguments, a missing trace, log-determinant, mean, dimension or 1/2 term, a
    log-determinant with the wrong sign, an uninverted covariance.

    Parameters
    ----------
    student_kl_fn : callable
        The student's function.
    rtol, atol : float
        The answer must be within ``atol + rtol * |KL|`` on every case.
    array : {"numpy", "torch"}
        Pass numpy arrays (default) or float64 torch tensors.

    Returns
    -------
    Verdict
        ``ok``; the first case where the answer disagrees (``where``, ``expected``,
        ``got``); ``diagnosis``, the mistake recognized, if any. A function that raises
        or returns the wrong shape gets a verdict too, never a traceback.

    Examples
    --------
    >>> import numpy as np
    >>> def kl(mq, sq, mp, sp):
    ...     ip = np.linalg.inv(sp)
    ...     d = mp - mq
    ...     return 0.5 * (np.trace(ip @ sq) + d @ ip @ d - len(mq)
    ...                   + np.log(np.linalg.det(sp) / np.linalg.det(sq)))
    >>> check_kl(kl).ok
    True
    >>> swapped = lambda mq, sq, mp, sp: kl(mp, sp, mq, sq)
    >>> verdict = check_kl(swapped)
    >>> verdict.ok, verdict.diagnosis
    (False, 'swapped arguments')
    """
    if not callable(student_kl_fn):
        raise TypeError(f"student_kl_fn must be callable, got {type(student_kl_fn).__name__}")
    if array not in ("numpy", "torch"):
        raise ValueError(f"array must be 'numpy' or 'torch', got {array!r}")
    expected, got = [], []
    for index, (description, *case) in enumerate(CASES, start=1):
        where = f"case {index} ({description})"
        try:
            value = call_student(student_kl_fn, *(_convert(a, array) for a in case),
                                 name="your KL function")
            value = float(as_array(value, shape=(), what="the value it returned"))
        except StudentError as error:
            return Verdict(ok=False, message=f"{where}: {error}.", where=where,
                           n_cases=len(CASES))
        expected.append(gaussian_kl(*case))
        got.append(value)
    expected, got = np.array(expected), np.array(got)
    agree = close(got, expected, rtol, atol)
    if agree.all():
        return Verdict(ok=True, n_cases=len(CASES),
                       message=f"correct: KL(q || p) matches the closed form on all "
                               f"{len(CASES)} cases (1-D, diagonal, full covariance, q = p).")
    first = int(np.argmin(agree))
    where = f"case {first + 1} ({CASES[first][0]})"
    diagnosis, explanation = None, "no common mistake matches; compare your formula " \
        "term by term with ½[tr(Σp⁻¹Σq) + (μp-μq)ᵀΣp⁻¹(μp-μq) - d + log det Σp - log det Σq]"
    for name, (text, formula) in _variants().items():
        values = np.array([formula(*case) for _, *case in CASES])
        if close(got, values, rtol, atol).all():
            diagnosis, explanation = name, text
            break
    return Verdict(
        ok=False, where=where, expected=float(expected[first]), got=float(got[first]),
        diagnosis=diagnosis, n_cases=len(CASES),
        message=f"{where}: expected KL(q || p) = {expected[first]:.6g}, got "
                f"{got[first]:.6g}. {explanation[0].upper()}{explanation[1:]}.")
