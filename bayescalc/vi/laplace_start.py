"""The Laplace start of a fit: the mode (L-BFGS on torch gradients) and the curvature.

A fit starts from ``N(mode, H^-1)`` (``H`` the negative Hessian of the log joint at the
mode, by reverse-mode autodiff) and works in coordinates whitened by it, so that every
direction has scale ~1 whatever the posterior's scales (sd 0.001 and sd 1 alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize
import torch

#: above this dimension the Hessian is not formed: its diagonal is estimated instead
MAX_DENSE = 2000


@dataclass
class LaplaceStart:
    mode: torch.Tensor
    precision: torch.Tensor | None    # (d, d), or None when only the diagonal is known
    precision_diag: torch.Tensor
    success: bool
    message: str

    @property
    def cov(self):
        return torch.linalg.inv(self.precision) if self.precision is not None else \
            torch.diag(1.0 / self.precision_diag)


def check_start(model, z0):
    """Raise a clear ValueError when the log density or its gradient is not finite."""
    value, grad = model.log_joint_and_grad(z0[None])
    if not bool(torch.isfinite(value).all()):
        raise ValueError(
            f"the model's log density is {value.item()} at the initial point z = "
            f"{_short(z0)}: it must be finite there (check the prior's support, the "
            "transform, and the data for NaNs)")
    if not bool(torch.isfinite(grad).all()):
        raise ValueError(f"the gradient of the model's log density is not finite at the "
                         f"initial point z = {_short(z0)}")
    return value.item()


def _short(z):
    z = z.detach().cpu().numpy()
    return np.array2string(z[:6], precision=3) + (" ..." if z.size > 6 else "")


def laplace_start(model, z0, *, max_iter=500) -> LaplaceStart:
    """Mode by L-BFGS-B (scipy, torch gradients) and the precision at the mode.

    ``model`` is a :class:`~bayescalc.model.CountedModel` (its counts include this
    start); the Hessian is counted as ``d`` gradient evaluations.
    """
    device, dim = z0.device, z0.shape[0]

    def objective(x):
        z = torch.as_tensor(x, dtype=torch.float64, device=device)[None]
        value, grad = model.log_joint_and_grad(z)
        v = -value.item()
        g = -grad[0].cpu().numpy()
        if not np.isfinite(v) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(x)
        return v, g

    res = scipy.optimize.minimize(objective, z0.cpu().numpy(), jac=True, method="L-BFGS-B",
                                  options={"maxiter": max_iter, "gtol": 1e-8})
    mode = torch.as_tensor(res.x, dtype=torch.float64, device=device)
    if not bool(torch.isfinite(model.log_joint(mode[None])).all()):
        mode, ok, msg = z0.clone(), False, "the mode search left the support"
    else:
        ok, msg = bool(res.success), str(res.message)
    raw = getattr(model, "model", model)
    if dim <= MAX_DENSE:
        precision = _dense_precision(raw, mode)
        model.n_grad_evals += dim
        return LaplaceStart(mode, precision, torch.diagonal(precision).clone(), ok, msg)
    diag = _diag_precision(raw, mode, n_probes=16)
    model.n_grad_evals += 32
    return LaplaceStart(mode, None, diag, ok, msg)


def _make_pd(H):
    """A symmetric positive-definite version of ``H`` (eigenvalues floored at
    1e-6 of the largest |eigenvalue|, negative ones mirrored)."""
    H = 0.5 * (H + H.T)
    evals, evecs = torch.linalg.eigh(H)
    if bool((evals > 0).all()) and evals.min() > 1e-10 * evals.max():
        return H
    scale = evals.abs().max().clamp_min(1e-12)
    evals = evals.abs().clamp_min(1e-6 * scale)
    return (evecs * evals) @ evecs.T


def _dense_precision(model, mode):
    # Plain reverse mode, one row per backward pass: torch.func.hessian would be one
    # vmapped pass, but its first call imports torch._dynamo (~1.5 s), more than the d
    # passes cost at the sizes a dense Cholesky family is used for.
    z = mode.detach().clone().requires_grad_(True)
    value = -model.log_joint(z[None])[0]
    (grad,) = torch.autograd.grad(value, z, create_graph=True)
    rows = []
    for i in range(z.shape[0]):
        (row,) = torch.autograd.grad(grad[i], z, retain_graph=True, allow_unused=True)
        rows.append(torch.zeros_like(z) if row is None else row)
    H = torch.stack(rows).detach()
    H = 0.5 * (H + H.T)
    if not bool(torch.isfinite(H).all()):
        return torch.eye(mode.shape[0], dtype=torch.float64, device=mode.device)
    return _make_pd(H)


def _diag_precision(model, mode, n_probes=16):
    """Hutchinson estimate of diag(H) from Rademacher Hessian-vector products."""
    g = torch.Generator(device=mode.device).manual_seed(0)
    z = mode.detach().clone().requires_grad_(True)
    value = -model.log_joint(z[None])[0]
    (grad,) = torch.autograd.grad(value, z, create_graph=True)
    acc = torch.zeros_like(mode)
    for _ in range(n_probes):
        v = torch.randint(0, 2, mode.shape, generator=g, device=mode.device).double() * 2 - 1
        (hv,) = torch.autograd.grad(grad, z, v, retain_graph=True)
        acc += v * hv.detach()
    diag = acc / n_probes
    return diag.abs().clamp_min(1e-6 * diag.abs().max().clamp_min(1e-12))
