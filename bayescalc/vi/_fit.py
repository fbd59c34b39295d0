"""fit: ADVI (Adam on a whitened family) and Batch-and-Match, one result type."""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from torch.optim.adam import adam as _torch_adam

from .._core.progress import progress_bar
from .._core.random import torch_generator
from .._core.warnings import ConvergenceWarning, ReliabilityWarning
from ..integrate import psis_khat
from ..model import CountedModel, NonFiniteDensityError
from ._elbo import _check_estimator, _gaussian_prior, elbo_terms
from .families import (
    FAMILIES,
    Flow,
    FullRankNormal,
    LowRankNormal,
    MeanFieldNormal,
    make_family,
)
from .laplace_start import check_start, laplace_start
from .result import VIResult

METHODS = ("advi", "bam")
#: the window means and spreads of the ADVI iterates use every _THIN-th step
_THIN = 4
INITS = ("laplace", "standard", "approx")


class _Info:
    """What a callback sees each step: ``step``, ``elbo``, ``lr`` and ``approx`` (a
    function returning the current approximation on the model's space)."""

    __slots__ = ("step", "elbo", "lr", "approx", "n_grad_evals")


def _family_name(q):
    return {MeanFieldNormal: "meanfield", FullRankNormal: "fullrank",
            LowRankNormal: "lowrank", Flow: "flow"}[type(q)]


def _precondition(start, approx, family, dim, rank, flow_options, device):
    """(q_w, shift, scale): the family to optimize in whitened coordinates, and the map
    ``z = shift + scale u`` (scale a vector, or a lower-triangular matrix) back."""
    if start is None:  # the approx's own state is the start (resume / init="approx")
        q = approx
        if isinstance(q, MeanFieldNormal):
            shift, scale = q.loc.detach(), q.scale.detach()
        elif isinstance(q, FullRankNormal):
            shift, scale = q.loc.detach(), q.scale_tril.detach()
        elif isinstance(q, LowRankNormal):
            shift, scale = q.loc.detach(), q.variance.detach().sqrt()
        else:
            shift, scale = q.shift, q.A
            qw = q.affine(torch.zeros_like(shift), torch.eye(dim, dtype=torch.float64,
                                                               device=device))
            qw.shift, qw.A = torch.zeros_like(shift), torch.eye(dim, dtype=torch.float64,
                                                                device=device)
            return qw, shift, scale
        if scale.ndim == 1:
            qw = q.affine(-shift / scale, 1.0 / scale)
        else:
            inv = torch.linalg.solve_triangular(scale, torch.eye(dim, dtype=torch.float64,
                                                                 device=device), upper=False)
            qw = q.affine(-inv @ shift, inv)
        return qw, shift, scale
    m0 = start.mode
    if family == "meanfield":
        s0 = start.precision_diag.rsqrt()
        return MeanFieldNormal(dim).to(device), m0, s0
    if family == "fullrank":
        L0 = torch.linalg.cholesky(start.cov)
        return FullRankNormal(dim).to(device), m0, L0
    if family == "lowrank":
        if start.precision is None:
            s0 = start.precision_diag.rsqrt()
            return LowRankNormal(dim, rank).to(device), m0, s0
        cov = start.cov
        s0 = torch.diagonal(cov).sqrt()
        q0 = LowRankNormal.from_gaussian(m0.cpu(), cov.cpu(), rank=rank).to(device)
        return q0.affine(-m0 / s0, 1.0 / s0), m0, s0
    # flow
    L0 = torch.linalg.cholesky(start.cov) if start.precision is not None else \
        torch.diag(start.precision_diag.rsqrt())
    q = approx if isinstance(approx, Flow) else Flow(dim, **flow_options)
    q.to(device)
    q.shift = torch.zeros(dim, dtype=torch.float64, device=device)
    q.A = torch.eye(dim, dtype=torch.float64, device=device)
    return q, m0, L0


def _whitened_log_joint(cm, shift, scale, batch):
    """``u -> log p(shift + scale u)``, and the constant ``log|det scale|`` to add to it
    (``log p`` in whitened coordinates, whose log Z equals the model's). The constant is
    kept out of the graph: it changes no gradient."""
    diagonal = scale.ndim == 1
    logdet = float(scale.abs().log().sum() if diagonal else
                   torch.diagonal(scale).abs().log().sum())
    identity = diagonal and bool((scale == 1).all()) and bool((shift == 0).all())
    scale_t = None if diagonal else scale.T.contiguous()

    def to_z(u):
        if identity:
            return u
        if diagonal:
            return torch.addcmul(shift, u, scale)
        return torch.addmm(shift, u, scale_t)

    if batch is None:
        def log_joint(u):
            return cm.log_joint(to_z(u))

        def log_joint_and_grad(u):
            """(log p, grad_u log p) at u (n, d), detached, one autograd call."""
            lp, g = cm.log_joint_and_grad(to_z(u))
            if identity:
                return lp, g
            return lp, (g * scale if diagonal else g @ scale)
    else:
        n_data, size, gen = batch
        model = cm.model

        def log_joint(u):
            z = to_z(u)
            idx = torch.randint(0, n_data, (size,), generator=gen, device=z.device)
            lik = model.log_likelihood_subset(z, idx)
            cm.n_evals += z.shape[0]
            cm.n_grad_evals += z.shape[0]
            return model.log_prior(z) + (n_data / size) * lik

        def log_joint_and_grad(u):
            u = u.detach().requires_grad_(True)
            with torch.enable_grad():
                lp = log_joint(u)
                (g,) = torch.autograd.grad(lp.sum(), u)
            return lp.detach(), g
    log_joint.and_grad = log_joint_and_grad
    return log_joint, logdet


def _check_batch(model, batch_size):
    if batch_size is None:
        return None
    n_data = getattr(model, "n_data", None)
    if n_data is None or not callable(getattr(model, "log_likelihood_subset", None)):
        raise ValueError(
            "batch_size needs a model that exposes per-datum likelihood terms: give it an "
            "int attribute n_data and a method log_likelihood_subset(z, idx) -> (n,) (the "
            "sum of the log likelihood over the data rows idx at unconstrained z); see "
            "docs/vi.md, 'Data subsampling'")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if batch_size > n_data:
        raise ValueError(f"batch_size = {batch_size} is larger than the data "
                         f"(n_data = {n_data})")
    return int(n_data), int(batch_size)


def fit(model, approx="fullrank", *, method="advi", steps=None, lr=None, n_samples=None,
        estimator="stl", seed=None, progress=True, callback=None, device=None,
        batch_size=None, init=None, rank=None, tol=0.01, param_tol=0.05, check_every=100,
        patience=3,
        n_final=2000, monitor_snr=False, max_retries=5, flow_options=None, prior=None,
        batch=None):
    """Fit a variational approximation ``q`` to ``model``'s posterior.

    Parameters
    ----------
    model : Model
    approx : str, family instance or VIResult
        ``"fullrank"`` (default), ``"meanfield"``, ``"lowrank"`` (``rank=``, default
        ``min(d, 5)``), ``"flow"`` (zuko; ``flow_options=``), a family instance (for its
        options; it is re-started from the Laplace point unless ``init="approx"``), or a
        :class:`VIResult` to resume (continues from its approximation, appending to its
        ELBO history and counts).
    method : str
        ``"advi"``: Adam on the ELBO gradient, in coordinates whitened by the Laplace
        approximation, scales in log space, learning rate ``lr`` halved on each noisy
        plateau (see ``tol``).
        ``"bam"``: Batch-and-Match (Cai et al. 2024), closed-form score-matching updates
        of a full-rank Gaussian, ``batch`` draws per iteration (default ``max(16, 2 d)``).
    steps : int
        Budget of optimizer steps (ADVI, default 5000) or iterations (BaM, default 200).
    lr : float
        Adam's initial learning rate in the whitened coordinates (ADVI, default 0.05;
        0.001 for ``"flow"``, whose parameters are network weights);
        for BaM the initial step size ``lambda_0`` of ``lambda_t = lambda_0 / (t + 1)``
        (default ``B d``, B the batch).
    n_samples : int
        Draws per ELBO gradient (ADVI; default 1 for stl/reparam, 8 for score).
    estimator : str
        ``"stl"`` (default: sticking the landing, zero gradient noise at an exact
        Gaussian fit), ``"reparam"``, ``"score"``, ``"analytic-kl"`` (``prior=``).
    seed : int, optional
    progress : bool
        A tqdm bar with the running ELBO.
    callback : callable, optional
        ``callback(info)`` each step; ``info.step``, ``info.elbo``, ``info.lr``,
        ``info.approx()`` (the current approximation). Returning True stops the fit.
    device : str or torch.device, optional
        Where the approximation and its draws live; the model's functions must accept
        tensors on it (keep the data there).
    batch_size : int, optional
        Data subsampling: each step uses ``B`` random rows of the data with the
        likelihood scaled by ``N / B``. The model must expose ``n_data`` and
        ``log_likelihood_subset(z, idx)`` (see docs/vi.md).
    init : str
        ``"laplace"`` (default; mode + Hessian), ``"standard"`` (N(0, I), no whitening)
        or ``"approx"`` (the given instance's current state).
    tol, param_tol, check_every, patience : float, float, int, int
        Convergence: every ``check_every`` steps the window means of the ELBO trace and
        of the (whitened) parameters are compared with those ``patience`` windows back;
        the fit has converged when the ELBO gained less than ``max(tol, 2 standard
        errors)`` AND no parameter's window mean moved more than ``param_tol`` (in
        posterior-sd units after whitening; log units for scales). When the ELBO gain is
        within the noise and the parameters show no steady trend (window means moving
        by > 3 within-window sds) but still jitter by more than ``param_tol``, the
        learning rate is halved (reduce on plateau) instead. So a noisy flat fit stops
        (its step shrinks until the jitter is below ``param_tol``), and a slowly
        improving one does not (its parameters drift steadily even when single ELBO
        draws are too noisy to show the gain). The returned parameters are the average
        over the last ``patience`` windows.
    n_final : int
        Draws for the final ELBO estimate and k-hat.
    monitor_snr : bool
        Record the gradient signal-to-noise ratio ``|mean| / sd`` per parameter entry
        over the last window (``result.grad_snr``).
    max_retries : int
        NaN/inf guard: on a non-finite ELBO the last good parameters are restored and
        the learning rate halved, with a warning; after ``max_retries`` the fit stops
        with ``success=False`` and the last good parameters.

    Returns
    -------
    VIResult

    Examples
    --------
    A conjugate normal mean (prior N(0, 1), two observations with unit noise): the
    posterior is N(2/3, 1/3) and log Z is known, so the gap log Z - ELBO is KL(q || p).

    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc.model import Model
    >>> y = torch.tensor([0.5, 1.5], dtype=torch.float64)
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t, 1.0).log_prob(y).sum(-1), dim=1,
    ...           log_z_exact=-2.5 - math.log(2 * math.pi) - 0.5 * math.log(3) + 1 / 1.5)
    >>> r = fit(m, "meanfield", seed=0, progress=False)
    >>> round(r.mean.item(), 3), round(r.cov.item(), 3), r.gap < 1e-3
    (0.667, 0.333, True)
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    _check_estimator(estimator)
    resume = approx if isinstance(approx, VIResult) else None
    if resume is not None:
        approx = resume.approx
    if isinstance(approx, str):
        if approx not in FAMILIES:
            raise ValueError(f"unknown approx {approx!r}; valid: {', '.join(FAMILIES)} "
                             "(or a family instance)")
        family = approx
    elif isinstance(approx, (MeanFieldNormal, FullRankNormal, LowRankNormal, Flow)):
        family = _family_name(approx)
        if approx.dim != model.dim:
            raise ValueError(f"approx has dim {approx.dim} but the model has dim "
                             f"{model.dim}: build the family with the model's dim")
        rank = approx.rank if isinstance(approx, LowRankNormal) else rank
    else:
        raise TypeError("approx must be a family name, a bayescalc.vi family or a VIResult, "
                        f"got {type(approx).__name__}")
    if init is None:
        init = "approx" if resume is not None else "laplace"
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; valid: {', '.join(INITS)}")
    if init == "approx" and isinstance(approx, str):
        raise ValueError("init='approx' needs a family instance or a VIResult as approx")
    if method == "bam" and family != "fullrank":
        raise ValueError(f"method='bam' fits a full-rank Gaussian; got approx={family!r} "
                         "(use approx='fullrank', or method='advi')")
    dim = model.dim
    rank = rank if rank is not None else min(dim, 5)
    device = torch.device(device) if device is not None else torch.device("cpu")
    flow_options = dict(flow_options or {})
    batch_info = _check_batch(model, batch_size)
    if estimator == "analytic-kl":
        prior = _gaussian_prior(model, prior)
        if batch_info is not None:
            raise ValueError("estimator='analytic-kl' does not combine with batch_size")

    cm = CountedModel(model)
    z_init = torch.zeros(dim, dtype=torch.float64, device=device)
    if init == "approx":
        approx.to(device)
        z_init = approx.mean.detach() if not isinstance(approx, Flow) else approx.shift
    check_start(cm, z_init)
    start = None
    if init == "laplace":
        start = laplace_start(cm, z_init)
    gen = torch_generator(seed, device=device)

    if method == "bam":
        from .bam import batch_and_match

        run = batch_and_match(cm, dim, start, approx if init == "approx" else None,
                              steps=steps or 200, lam0=lr, batch=batch,
                              generator=gen, progress=progress, callback=callback,
                              tol=tol, device=device)
        q, history, n_steps, converged, message, diag = run
        snr = None
    else:
        if init == "standard":
            qw = make_family(family, dim, rank=rank, **flow_options).to(device)
            if isinstance(approx, Flow):
                qw = approx.to(device)
            shift = torch.zeros(dim, dtype=torch.float64, device=device)
            scale = torch.ones(dim, dtype=torch.float64, device=device)
        else:
            qw, shift, scale = _precondition(start, approx if init == "approx" else
                                             (approx if isinstance(approx, Flow) else None),
                                             family, dim, rank, flow_options, device)
        batch_spec = None if batch_info is None else (*batch_info, gen)
        if estimator == "analytic-kl":
            if not (scale.ndim == 1 and bool((scale == 1).all()) and
                    bool((shift == 0).all())):
                # the KL to the prior is taken in the model's own coordinates
                qw = qw.affine(shift, scale) if not isinstance(qw, Flow) else qw
                shift = torch.zeros(dim, dtype=torch.float64, device=device)
                scale = torch.ones(dim, dtype=torch.float64, device=device)
        log_joint, logdet = _whitened_log_joint(cm, shift, scale, batch_spec)
        steps = 5000 if steps is None else int(steps)
        lr = (0.001 if family == "flow" else 0.05) if lr is None else float(lr)
        if n_samples is None:
            n_samples = 8 if estimator == "score" else 1
        run = _advi(cm, qw, log_joint, estimator=estimator, steps=steps, lr=lr,
                    n_samples=int(n_samples), generator=gen, progress=progress,
                    callback=callback, tol=tol, check_every=int(check_every),
                    patience=int(patience), monitor_snr=monitor_snr,
                    max_retries=max_retries, prior=prior, shift=shift, scale=scale,
                    param_tol=param_tol, logdet=logdet)
        qw, history, n_steps, converged, message, snr, diag = run
        q = qw.affine(shift, scale) if not (scale.ndim == 1 and bool((scale == 1).all()) and
                                            bool((shift == 0).all())) else qw
    if start is not None:
        diag["laplace_mode"] = start.mode
        diag["laplace_success"] = start.success

    # final estimate and diagnostics, on many draws
    with torch.no_grad():
        z = q.sample((int(n_final),), generator=gen)
        lw = torch.cat([_final_log_joint(cm, z[i:i + _FINAL_CHUNK])
                        for i in range(0, len(z), _FINAL_CHUNK)]) - q.log_prob(z)
    finite = torch.isfinite(lw)
    lw_np = lw.detach().cpu().numpy()
    lw_np = np.where(np.isnan(lw_np), -np.inf, lw_np)
    value = float(lw[finite].mean()) if bool(finite.any()) else -math.inf
    error = float(lw[finite].std() / math.sqrt(max(int(finite.sum()), 1)))
    khat = _safe_khat(lw_np)
    gap = None if model.log_z_exact is None else model.log_z_exact - value
    history = np.asarray(history, dtype=float)
    n_prev_steps = n_prev_evals = n_prev_grads = 0
    if resume is not None:
        history = np.concatenate([resume.elbo_history, history])
        n_prev_steps, n_prev_evals, n_prev_grads = (resume.n_steps, resume.n_evals,
                                                    resume.n_grad_evals)
    if not khat <= 0.7:
        warnings.warn(f"PSIS k-hat = {khat:.2f} > 0.7: the approximation is unreliable as a "
                      "posterior (and as an importance proposal)", ReliabilityWarning,
                      stacklevel=2)
    success = bool(converged and np.isfinite(value) and khat <= 0.7)
    if not np.isfinite(value):
        message += "; the final ELBO estimate is not finite"
    if not converged:
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    diag["model"] = model
    return VIResult(approx=q, elbo=value, elbo_error=error, elbo_history=history,
                    n_steps=n_prev_steps + n_steps, n_evals=n_prev_evals + cm.n_evals,
                    n_grad_evals=n_prev_grads + cm.n_grad_evals, converged=bool(converged),
                    success=success, message=message, khat=khat, gap=gap, method=method,
                    family=family, grad_snr=snr, diagnostics=diag)


# draws per call of the final ELBO estimate: a plain-function likelihood over N data
# builds (draws, N) intermediates, so 2,000 draws at once would hold 2,000 x N
_FINAL_CHUNK = 256


def _final_log_joint(cm, z):
    """``log p(z)`` for one chunk of the final draws; where the model still diverges,
    judged one draw at a time (non-finite draws become NaN)."""
    try:
        return cm.log_joint(z)
    except NonFiniteDensityError:
        return torch.stack([_finite_or_nan(cm, z[i:i + 1]) for i in range(len(z))])


def _safe_khat(lw):
    """k-hat of the final log weights: ``-inf`` when they are all equal up to float
    noise (q = p exactly: no tail at all), ``nan`` when too few are finite or the GPD
    tail fit degenerates."""
    finite = lw[np.isfinite(lw)]
    if finite.size < 50:
        return float("nan")
    if np.ptp(finite) < 1e-6 * max(1.0, float(np.abs(finite).max())):
        return float("-inf")
    try:
        return float(psis_khat(lw))
    except (ZeroDivisionError, FloatingPointError):
        return float("nan")


class _Adam:
    """Adam by torch.optim's own implementation (``torch.optim.adam.adam``, the public
    functional form of ``torch.optim.Adam``), fused kernel where the device has one,
    ascending (``maximize=True``). Calling the functional form skips
    ``Optimizer.step``'s per-call wrapper (hooks, grad-mode switch, regrouping), which
    on a small model cost more than the update itself (~50 us of a ~500 us step)."""

    def __init__(self, params, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.betas, self.eps = params, betas, eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = [torch.zeros((), dtype=torch.float32, device=p.device) for p in params]
        self.fused = True

    @torch.no_grad()
    def step(self, lr):
        grads = [p.grad for p in self.params]
        options = dict(amsgrad=False, beta1=self.betas[0], beta2=self.betas[1], lr=lr,
                       weight_decay=0.0, eps=self.eps, maximize=True)
        if self.fused:
            try:
                _torch_adam(self.params, grads, self.m, self.v, [], self.t,
                                      fused=True, **options)
                return
            except (RuntimeError, NotImplementedError):  # pragma: no cover - no kernel
                self.fused = False
        _torch_adam(self.params, grads, self.m, self.v, [], self.t,
                              foreach=True, **options)


class _Step:
    """One ELBO gradient per call, with as few tensor ops as the estimator allows.

    ``__call__(generator) -> value``: sets ``p.grad`` of the family's parameters to the
    estimator's gradient of the ELBO (to be ascended; a positive multiple of it, which
    Adam does not see) and returns the step's ELBO estimate (a float). For the Gaussian
    families with ``"stl"`` or ``"reparam"`` (the hot path of a fit) the model is
    differentiated once, in ``z``, and the chain rule through the draw
    ``u = loc + scale eps`` is written out in closed form, under ``no_grad``: no graph
    of the family is built. Every other case goes through :func:`elbo_terms` and
    autograd.
    """

    def __init__(self, qw, log_joint, logdet, estimator, n, prior, lik):
        self.qw, self.log_joint, self.estimator, self.n = qw, log_joint, estimator, n
        self.prior, self.lik = prior, lik
        self.joint_and_grad = getattr(log_joint, "and_grad", None)
        self.const = logdet + 0.5 * qw.dim * (1.0 + math.log(2.0 * math.pi))
        self.logdet = logdet
        fast = estimator in ("stl", "reparam")
        self.kind = ("meanfield" if fast and type(qw) is MeanFieldNormal else
                     "fullrank" if fast and type(qw) is FullRankNormal else "generic")
        self.stl = estimator == "stl"
        self.shape = (n, qw.dim)
        self.dtype, self.device = torch.float64, qw.device

    def __call__(self, generator):
        qw, n = self.qw, self.n
        if self.kind == "generic":
            z = qw.rsample((n,), generator=generator)
            value, _ = elbo_terms(self.log_joint, qw, z, self.estimator, prior=self.prior,
                                  log_likelihood=self.lik, weights=False)
            v = value.item() + self.logdet
            if math.isfinite(v):
                value.backward()
            return v
        with torch.no_grad():
            eps = torch.randn(self.shape, dtype=self.dtype, device=self.device,
                              generator=generator)
            if self.kind == "meanfield":
                log_s = qw.log_scale
                s = log_s.exp()
                u = torch.addcmul(qw.loc, eps, s)
            else:
                log_s = torch.diagonal(qw.tril)
                s = log_s.exp()
                L = torch.tril(qw.tril, -1)
                L.diagonal().copy_(s)
                u = torch.addmm(qw.loc, eps, L.T)
            entropy = float(log_s.sum())
            lp, g = self.joint_and_grad(u)
            v = float(lp.sum()) / n + entropy + self.const
            if v != v or v in (math.inf, -math.inf):
                return v
            # d ELBO / d u for each draw: the model's score, plus (stl) the score of
            # -log q(u) with q's parameters stopped, which is L^-T eps
            if self.kind == "meanfield":
                if self.stl:
                    g = torch.addcdiv(g, eps, s)
                if n == 1:
                    qw.loc.grad = g[0]
                    gs = g[0].mul(eps[0]).mul_(s)
                else:
                    qw.loc.grad = g.sum(0)
                    gs = (g * eps).sum(0).mul_(s)
                # d u / d log_s = eps * s; reparam adds the entropy's d/d log_s = 1
                qw.log_scale.grad = gs if self.stl else gs.add_(n)
            else:
                if self.stl:
                    g = g + torch.linalg.solve_triangular(L, eps, upper=False, left=False)
                qw.loc.grad = g[0] if n == 1 else g.sum(0)
                gL = torch.tril(g.T @ eps)       # d/dL of sum_n g_n . (L eps_n)
                d = gL.diagonal()
                d.mul_(s)                        # the diagonal is stored in log space
                if not self.stl:
                    d.add_(n)
                qw.tril.grad = gL
        return v


def _advi(cm, qw, log_joint, *, estimator, steps, lr, n_samples, generator, progress,
          callback, tol, check_every, patience, monitor_snr, max_retries, prior, shift,
          scale, param_tol, logdet=0.0):
    params = qw.parameters()
    opt = _Adam(params)
    lik = cm.log_likelihood if estimator == "analytic-kl" else None
    draw = _Step(qw, log_joint, logdet, estimator, n_samples, prior, lik)
    history = []
    window_means, window_vars = [], []
    snapshot = [p.detach().clone() for p in params]
    acc = [torch.zeros_like(p) for p in params]
    acc2 = [torch.zeros_like(p) for p in params]
    acc_n = 0
    window_params, window_sds = [], []
    snr_sum = snr_sq = None
    snr_n = 0
    retries, lr_scale = 0, 1.0
    converged, message = False, f"the budget of {steps} steps ran out before convergence"
    bar = progress_bar(steps, enabled=progress, desc="vi.fit (advi)")
    isfinite = math.isfinite
    step = 0
    try:
        while step < steps:
            try:
                v = draw(generator)
            except NonFiniteDensityError:  # the model diverged at a draw: a non-finite ELBO
                v = math.nan
            if not isfinite(v):
                retries += 1
                with torch.no_grad():
                    for p, s in zip(params, snapshot, strict=True):
                        p.copy_(s)
                        p.grad = None
                if retries > max_retries:
                    message = (f"stopped after {retries - 1} restarts: the ELBO kept turning "
                               f"non-finite (last at step {step}); returning the last good "
                               "parameters")
                    break
                lr_scale *= 0.5
                warnings.warn(f"non-finite ELBO at step {step}: restored the last good "
                              f"parameters and halved the learning rate (restart {retries} "
                              f"of {max_retries})", ConvergenceWarning, stacklevel=3)
                opt = _Adam(params)
                torch._foreach_zero_(acc)
                torch._foreach_zero_(acc2)
                acc_n = 0
                continue
            if step % 10 == 0:
                with torch.no_grad():
                    torch._foreach_copy_(snapshot, params)
            if monitor_snr:
                flat = torch.cat([p.grad.reshape(-1) for p in params]).detach() / n_samples
                if snr_sum is None:
                    snr_sum, snr_sq = torch.zeros_like(flat), torch.zeros_like(flat)
                snr_sum += flat
                snr_sq += flat**2
                snr_n += 1
            opt.step(lr * lr_scale)
            for p in params:
                p.grad = None
            history.append(v)
            step += 1
            if step % _THIN == 0 or step % check_every == 0:
                # the window statistics of the iterates, from every _THIN-th one
                with torch.no_grad():
                    torch._foreach_add_(acc, params)
                    torch._foreach_addcmul_(acc2, params, params)
                acc_n += 1
            bar.update(1)
            if callback is not None:
                info = _Info()
                info.step, info.elbo, info.lr, info.n_grad_evals = step, v, lr * lr_scale, \
                    cm.n_grad_evals
                info.approx = lambda: qw.affine(shift, scale)
                if callback(info):
                    message = f"stopped by the callback at step {step}"
                    break
            if step % check_every == 0:
                w = np.asarray(history[-check_every:])
                window_means.append(w.mean())
                window_vars.append(w.var(ddof=1) / len(w))
                mean_p = [a / acc_n for a in acc]
                within = [(a2 / acc_n - m**2).clamp_min(0).sqrt()
                          for a2, m in zip(acc2, mean_p, strict=True)]
                window_params.append(mean_p)
                window_sds.append(within)
                bar.set_postfix(elbo=f"{window_means[-1]:.4g}", lr=f"{lr * lr_scale:.2g}")
                torch._foreach_zero_(acc)
                torch._foreach_zero_(acc2)
                acc_n = 0
                if len(window_means) > patience:
                    gain = window_means[-1] - window_means[-1 - patience]
                    se = math.sqrt(window_vars[-1] + window_vars[-1 - patience])
                    flat = gain < max(tol, 2.0 * se)
                    drift, trend = 0.0, False
                    if not isinstance(qw, Flow):
                        d = torch.cat([(a - b).abs().reshape(-1) for a, b in
                                       zip(window_params[-1], window_params[-1 - patience],
                                           strict=True)])
                        sd = torch.cat([s.reshape(-1) for s in window_sds[-1]]).detach()
                        d = d.detach()
                        drift = float(d.max())
                        # a steady trend moves the window means by many within-window
                        # sds; the jitter of a stationary noisy fit does not
                        trend = float((d / (sd + 1e-300)).median()) > 3.0
                    if flat and not trend:
                        if drift < param_tol:
                            converged = True
                            message = (f"converged at step {step}: over the last "
                                       f"{patience * check_every} steps the windowed ELBO "
                                       f"gained {gain:.3g} (threshold max(tol, 2 se) = "
                                       f"{max(tol, 2 * se):.3g}) and the window-mean "
                                       f"parameters moved {drift:.3g} (< {param_tol})")
                            # the average over the flat stretch: the iterates' noise
                            # averages out
                            with torch.no_grad():
                                for i, p in enumerate(params):
                                    p.copy_(sum(wp[i] for wp in window_params[-patience:]) /
                                            patience)
                            break
                        lr_scale *= 0.5          # a noisy plateau: reduce the step
    except KeyboardInterrupt:
        message = f"interrupted (KeyboardInterrupt) at step {step}: partial result"
    finally:
        bar.close()
    snr = None
    if monitor_snr and snr_sum is not None:
        mean = snr_sum / snr_n
        sd = (snr_sq / snr_n - mean**2).clamp_min(0).sqrt()
        snr = (mean.abs() / sd.clamp_min(1e-300)).cpu().numpy()
    diag = {"lr_final": lr * lr_scale, "restarts": retries}
    return qw, history, step, converged, message, snr, diag


def _finite_or_nan(model, z):
    """log_joint at one point, NaN where the model refuses (a non-finite density)."""
    try:
        return model.log_joint(z)[0]
    except NonFiniteDensityError:
        return torch.tensor(math.nan, dtype=torch.float64, device=z.device)
