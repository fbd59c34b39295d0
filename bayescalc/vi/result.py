"""VIResult: the fitted approximation, its ELBO trace, counts and diagnostics."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field

import numpy as np
import torch

from .._core.result import Result


@dataclass(frozen=True, repr=False)
class VIResult(Result):
    """What :func:`bayescalc.vi.fit` returns.

    Attributes
    ----------
    approx : Distribution
        The fitted family (a :mod:`bayescalc.vi` family on the unconstrained space).
    elbo : float
        Many-draw estimate of the final ELBO (``n_final`` draws), ``elbo_error`` its
        standard error.
    elbo_history : numpy.ndarray
        The per-step ELBO estimates (method "advi") or per-iteration ones ("bam").
    n_steps, n_evals, n_grad_evals : int
        Optimizer steps, log-density points and gradient points spent (Laplace start and
        final estimate included).
    converged : bool
        The convergence test held (else the budget ran out, or the run was stopped).
    success : bool
        Converged, finite, and k-hat <= 0.7.
    message : str
    khat : float
        PSIS k-hat of ``log p - log q`` over the final draws (Yao et al. 2018): < 0.5
        good, 0.5-0.7 usable with care, > 0.7 the approximation is unreliable.
    gap : float or None
        ``log Z - ELBO = KL(q || p)`` when the model's ``log_z_exact`` is known.
    method, family : str
    grad_snr : numpy.ndarray or None
        Gradient signal-to-noise ratio per parameter entry (``monitor_snr=True``).
    diagnostics : dict
        Method-specific details (``lr`` at the end, restarts, the Laplace start...).
    """

    approx: object
    elbo: float
    elbo_error: float
    elbo_history: np.ndarray
    n_steps: int
    n_evals: int
    n_grad_evals: int
    converged: bool
    success: bool
    message: str
    khat: float
    gap: float | None = None
    method: str = "advi"
    family: str = "fullrank"
    grad_snr: np.ndarray | None = None
    diagnostics: dict = field(default_factory=dict, repr=False)

    # -- the approximation ------------------------------------------------------------
    def sample(self, n, seed=None, *, constrained=False) -> torch.Tensor:
        """``n`` draws from the approximation, shape ``(n, d)`` (unconstrained unless
        ``constrained=True`` and ``model`` is in ``diagnostics``)."""
        z = self.approx.sample((int(n),), generator=seed)
        model = self.diagnostics.get("model")
        if constrained and model is not None:
            return model.constrain(z)
        return z

    @property
    def mean(self) -> torch.Tensor:
        """Mean of the approximation on the unconstrained space."""
        return self.approx.mean.detach()

    @property
    def cov(self) -> torch.Tensor:
        """Covariance of the approximation on the unconstrained space."""
        return self.approx.covariance.detach()

    # -- persistence ------------------------------------------------------------------
    def save(self, path) -> None:
        """Pickle the result (the approximation's parameters, the trace, the numbers)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["approx"] = (type(self.approx).__name__, _init_args(self.approx),
                          self.approx.state())
        data["diagnostics"] = {k: v for k, v in self.diagnostics.items() if k != "model"}
        with open(path, "wb") as fh:
            pickle.dump(data, fh)

    @classmethod
    def load(cls, path) -> VIResult:
        """Read a result written by :meth:`save` (``fit(model, approx=result)`` resumes)."""
        from . import families

        with open(path, "rb") as fh:
            data = pickle.load(fh)
        name, args, state = data["approx"]
        approx = getattr(families, name)(**args)
        approx.load_state(state)
        data["approx"] = approx
        return cls(**data)

    def to_arviz(self, n=1000, seed=0, model=None):
        """An ``arviz.InferenceData`` with ``n`` draws (one chain), on the constrained
        space when the model is known, named by its parameter names."""
        import arviz as az

        model = model or self.diagnostics.get("model")
        z = self.sample(n, seed)
        theta = model.constrain(z) if model is not None else z
        theta = theta.detach().cpu().numpy()
        names = list(model.names) if model is not None else \
            [f"z[{i}]" for i in range(theta.shape[1])]
        return az.from_dict(posterior={nm: theta[None, :, i] for i, nm in enumerate(names)})


def _init_args(approx):
    from .families import Flow, LowRankNormal

    args = {"dim": approx.dim}
    if isinstance(approx, LowRankNormal):
        args["rank"] = approx.rank
    if isinstance(approx, Flow):
        args.update(approx._init_options)
    return args
