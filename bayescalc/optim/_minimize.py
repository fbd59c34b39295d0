"""``minimize`` and ``maximize``: gradient-based optimization of a function of one point."""

from __future__ import annotations

import numpy as np

from .._core.arraykind import to_numpy
from .._core.validation import as_point, check_callable, check_choice, check_int, check_positive
from .._core.warnings import ConvergenceWarning, warn_unless_success
from ._objective import Objective
from .lbfgs import lbfgs
from .linesearch import LineSearchError
from .newton import newton
from .result import IterationInfo, OptimizeResult
from .steppers import from_transform
from .transforms import FIRST_ORDER

METHODS = ("gd", "momentum", "nesterov", "adam", "newton", "lbfgs")

#: Default learning rate of each method. For gd/momentum/nesterov it must be below
#: 2/L (L: the largest Hessian eigenvalue; 1/(1-β) times smaller with momentum), so
#: 1e-3 suits functions whose curvature is up to ~1000 (Rosenbrock's is ~1000 at its
#: minimum). Adam's step is ~lr per coordinate whatever the scale of f. For newton and
#: lbfgs, lr is the first step length the backtracking line search tries.
DEFAULT_LR = {"gd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adam": 1e-2,
              "newton": 1.0, "lbfgs": 1.0}
#: Default step budget of each method.
DEFAULT_MAX_STEPS = {"gd": 10_000, "momentum": 10_000, "nesterov": 10_000, "adam": 10_000,
                     "newton": 200, "lbfgs": 1_000}


def minimize(f, x0, *, method="adam", lr=None, max_steps=None, tol=1e-6, grad=None,
             hess=None, callback=None) -> OptimizeResult:
    r"""Minimize ``f`` from ``x0`` with a gradient-based method, recording the path.

    Each method updates :math:`x_{k+1} = x_k + u_k` until
    :math:`\|\nabla f(x_k)\|_2 \le` ``tol`` or ``max_steps`` updates:

    - ``"gd"``: :math:`u_k = -\eta\, g_k` (:math:`g_k = \nabla f(x_k)`, :math:`\eta` = lr);
    - ``"momentum"``: :math:`m_k = \beta m_{k-1} + g_k`, :math:`u_k = -\eta m_k` (β = 0.9);
    - ``"nesterov"``: :math:`u_k = -\eta(\beta m_k + g_k)`, the look-ahead form;
    - ``"adam"``: :math:`u_k = -\eta\,\hat m_k / (\sqrt{\hat v_k} + \epsilon)` with
      bias-corrected moment estimates (Kingma & Ba 2015);
    - ``"newton"``: :math:`u_k = -\alpha |H_k|^{-1} g_k`, with the Hessian's eigenvalues
      replaced by their absolute values and α from a backtracking line search;
    - ``"lbfgs"``: :math:`u_k = -\alpha H_k g_k`, :math:`H_k` the limited-memory BFGS
      inverse Hessian (10 pairs, two-loop recursion), α by backtracking.

    Parameters
    ----------
    f : callable
        A function of ONE point: a float when ``x0`` is a scalar, else an array (or a
        torch tensor, when ``x0`` is one) of shape ``(d,)``; returns a scalar.
    x0 : float, array_like of shape (d,), or Tensor
        The start.
    method : {"adam", "gd", "momentum", "nesterov", "newton", "lbfgs"}
    lr : float, optional
        Learning rate (> 0); for newton/lbfgs the first trial step of the line search.
        Default per method: gd, momentum, nesterov 1e-3; adam 1e-2; newton, lbfgs 1.
    max_steps : int, optional
        Budget of updates. Default: 10,000 for the first-order methods, 200 for newton,
        1,000 for lbfgs.
    tol : float
        Converged when the gradient's Euclidean norm is ``<= tol``.
    grad, hess : callable, optional
        ``∇f`` and ``∇²f`` as functions of the same kind of point. Default:
        :func:`bayescalc.diff.gradient` / :func:`~bayescalc.diff.hessian` (autodiff
        when f is a torch callable, numeric differences otherwise).
    callback : callable, optional
        Called as ``callback(info)`` after each step with an :class:`IterationInfo`
        ``(step, x, fun, grad_norm)``; returning True stops the run.

    Returns
    -------
    OptimizeResult
        ``x`` (in the kind ``x0`` came in), ``fun = f(x)``, ``grad_norm``, ``n_steps``,
        ``success``, ``message``, ``path`` (the iterates, shape ``(n_steps + 1, d)``),
        ``fun_path``, ``method``. If f returns NaN/inf at a step the run stops there with
        ``success=False``, a message naming the step, and the last finite iterate. A
        run that is not a success emits a :class:`~bayescalc.ConvergenceWarning`.

    Raises
    ------
    ValueError
        x0 not a finite scalar or 1-D array, lr <= 0, max_steps < 1, an unknown method,
        or f / its gradient not finite at x0.

    Examples
    --------
    >>> import numpy as np
    >>> from bayescalc.optim import minimize
    >>> quadratic = lambda x: (x[0] - 1.0) ** 2 + 10.0 * (x[1] + 2.0) ** 2
    >>> r = minimize(quadratic, np.zeros(2), method="newton")
    >>> np.round(r.x, 6), r.success, r.path[0]
    (array([ 1., -2.]), True, array([0., 0.]))
    >>> r = minimize(lambda x: (x - 3.0) ** 2, 0.0, method="gd", lr=0.1)
    >>> round(r.x, 5), r.n_steps
    (3.0, 70)
    """
    objective, z0, stepper, options = _minimize_iv(f, x0, method, lr, max_steps, tol, grad,
                                                   hess, callback, sign=1.0)
    result = _run(objective, z0, stepper, x0=x0, method=method, **options)
    return warn_unless_success(result, ConvergenceWarning)


def maximize(f, x0, *, method="adam", lr=None, max_steps=None, tol=1e-6, grad=None,
             hess=None, callback=None) -> OptimizeResult:
    """Maximize ``f`` from ``x0``: :func:`minimize` on ``-f``; ``fun`` reports ``f`` itself.

    Same arguments and defaults as :func:`minimize` (``grad``/``hess`` are those of
    ``f``, not of ``-f``); ``fun_path`` holds ``f`` along the path.

    Examples
    --------
    >>> import numpy as np
    >>> from bayescalc.optim import maximize
    >>> r = maximize(lambda x: -np.sum((x - 2.0) ** 2) + 5.0, np.zeros(3), method="lbfgs")
    >>> np.round(r.x, 6), round(r.fun, 9), r.success
    (array([2., 2., 2.]), 5.0, True)
    """
    objective, z0, stepper, options = _minimize_iv(f, x0, method, lr, max_steps, tol, grad,
                                                   hess, callback, sign=-1.0)
    result = _run(objective, z0, stepper, x0=x0, method=method, **options)
    return warn_unless_success(result, ConvergenceWarning)


def _minimize_iv(f, x0, method, lr, max_steps, tol, grad, hess, callback, *, sign):
    check_callable(f, "f")
    for name, value in (("grad", grad), ("hess", hess), ("callback", callback)):
        if value is not None:
            check_callable(value, name)
    check_choice(method, "method", METHODS)
    lr = check_positive(lr, "lr", allow_none=True) or DEFAULT_LR[method]
    max_steps = check_int(max_steps, "max_steps", minimum=1, allow_none=True)
    max_steps = max_steps or DEFAULT_MAX_STEPS[method]
    tol = check_positive(tol, "tol", allow_zero=True)
    z0 = np.atleast_1d(as_point(x0, "x0")).astype(np.float64)
    objective = Objective(f, x0, grad=grad, hess=hess, sign=sign)
    if method in FIRST_ORDER:
        stepper = from_transform(FIRST_ORDER[method](lr), objective)
    else:
        stepper = newton(objective, lr) if method == "newton" else lbfgs(objective, lr)
    return objective, z0, stepper, {"tol": tol, "max_steps": max_steps, "callback": callback}


def _run(objective, z0, stepper, *, x0, method, tol, max_steps, callback) -> OptimizeResult:
    sign = objective.sign
    value = objective.value(z0)
    if not np.isfinite(value):
        raise ValueError(f"f returned a non-finite value {sign * value} at x0 = {_show(z0)}")
    gradient = objective.grad(z0)
    if not np.all(np.isfinite(gradient)):
        raise ValueError(f"the gradient of f is not finite at x0 = {_show(z0)}: {gradient}")
    z, path, values = z0, [z0], [value]
    state = stepper.init(z0)
    message = None
    step = 0
    while np.linalg.norm(gradient) > tol and step < max_steps and message is None:
        step += 1
        try:
            state_new, _ = stepper.step(state)
        except LineSearchError as error:
            message = f"stopped at step {step}: the line search failed ({error})"
            break
        z_new = state_new.position
        if not np.all(np.isfinite(z_new)):
            message = (f"the iterate overflowed at step {step} (x = {_show(z_new)}): the "
                       f"steps diverge, lower lr; returning the last finite iterate "
                       f"(step {step - 1})")
            break
        try:
            value_new = objective.value(z_new)
        except ArithmeticError as error:  # Python floats raise OverflowError, not inf
            value_new = np.nan
            message = (f"f raised {type(error).__name__} ({error}) at step {step} "
                       f"(x = {_show(z_new)}); returning the last finite iterate "
                       f"(step {step - 1})")
            break
        if not np.isfinite(value_new):
            message = (f"f returned {sign * value_new} at step {step} (x = {_show(z_new)}); "
                       f"stopped there, returning the last finite iterate (step {step - 1})")
            break
        try:
            gradient_new = objective.grad(z_new)
        except ValueError as error:  # diff refuses points where f is not finite nearby
            gradient_new, reason = None, str(error)
        else:
            reason = f"it is {gradient_new}"
        if gradient_new is None or not np.all(np.isfinite(gradient_new)):
            message = (f"the gradient is not finite at step {step} (x = {_show(z_new)}): "
                       f"{reason}; stopped, returning the last finite iterate "
                       f"(step {step - 1})")
            break
        state, z, value, gradient = state_new, z_new, value_new, gradient_new
        path.append(z)
        values.append(value)
        if callback is not None and callback(IterationInfo(
                step, _as_kind(objective, x0, z), sign * value, float(np.linalg.norm(gradient)))):
            message = f"stopped by the callback at step {step}"
    grad_norm = float(np.linalg.norm(gradient))
    n_steps = len(path) - 1
    success = grad_norm <= tol
    if message is None:
        message = (f"converged: |grad f| = {grad_norm:.3g} <= tol = {tol:g} after "
                   f"{n_steps} steps" if success else
                   f"max_steps = {max_steps} reached with |grad f| = {grad_norm:.3g} "
                   f"> tol = {tol:g}")
    path = np.array(path)
    return OptimizeResult(
        x=_as_kind(objective, x0, z), fun=sign * value, grad_norm=grad_norm,
        n_steps=n_steps, success=bool(success),
        message=message, path=path[:, 0] if objective.scalar else path,
        fun_path=sign * np.array(values), method=method,
    )


def _as_kind(objective, x0, z):
    """``z`` in the kind of ``x0``: float, ndarray or tensor."""
    point = objective.point(z)
    if isinstance(x0, np.ndarray) and objective.scalar:
        return np.asarray(point)
    return point


def _show(z) -> str:
    z = to_numpy(z)
    if z.size == 1:
        return repr(float(z.reshape(())))
    return np.array2string(z, precision=6, separator=", ")
