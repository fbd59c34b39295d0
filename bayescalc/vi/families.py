"""Approximating families: torch Distributions on the model's unconstrained space.

Every family is a :class:`torch.distributions.Distribution` over ``R^d`` whose
parameters are plain float64 tensors (``requires_grad=True``), listed by
:meth:`parameters`; there is no global parameter store. Each has ``rsample`` (with an
optional ``generator=``), ``log_prob``, ``entropy``, ``mean`` and ``covariance`` (the
Gaussian ones), :meth:`detached` (the same distribution with its parameters cut from
the graph, which the sticking-the-landing and DReG estimators need) and
:meth:`affine` (the law of ``shift + A z``, used to whiten a fit by the Laplace
approximation).

- :class:`MeanFieldNormal`: ``N(loc, diag(exp(log_scale))^2)``.
- :class:`FullRankNormal`: ``N(loc, L L^T)`` with ``L`` lower triangular, its diagonal
  stored in log space.
- :class:`LowRankNormal`: ``N(loc, D^2 + W W^T)`` with ``W`` of shape ``(d, k)``; the
  log density and entropy use the matrix determinant lemma and Woodbury's identity, so
  no ``d x d`` matrix is ever built (d = 10^5, k = 10 takes a few MB).
- :class:`Flow`: a zuko normalizing flow (masked autoregressive, by default with two
  passes, i.e. coupling layers), behind a fixed affine map (optional extra
  ``pip install bayescalc[flows]``).
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Distribution, constraints

from .._core.random import torch_generator

_LOG_2PI = math.log(2.0 * math.pi)

__all__ = ["MeanFieldNormal", "FullRankNormal", "LowRankNormal", "Flow", "make_family",
           "FAMILIES"]


def _tensor(x, dim, name, shape=None):
    t = torch.as_tensor(x, dtype=torch.float64).detach().clone()
    shape = (dim,) if shape is None else shape
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(t.shape)}")
    return t


def _check_dim(dim):
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be a positive int, got {dim!r}")
    return dim


def _shape(sample_shape):
    return torch.Size(sample_shape if not isinstance(sample_shape, int) else (sample_shape,))


class _Family(Distribution):
    """Shared plumbing: event shape (d,), real support, parameters as plain tensors."""

    arg_constraints: dict = {}
    support = constraints.real_vector
    has_rsample = True
    _param_names: tuple = ()

    def __init__(self, dim):
        self.dim = _check_dim(dim)
        super().__init__(batch_shape=torch.Size(), event_shape=torch.Size((dim,)),
                         validate_args=False)

    # -- parameters ---------------------------------------------------------------------
    def parameters(self) -> list[torch.Tensor]:
        """The free parameters (leaf tensors with ``requires_grad=True``)."""
        return [getattr(self, n) for n in self._param_names]

    def state(self) -> dict:
        """A plain dict of detached parameter copies (for saving and resuming)."""
        return {n: getattr(self, n).detach().cpu().clone() for n in self._param_names}

    def load_state(self, state: dict) -> _Family:
        """Set the parameters from :meth:`state` in place (keeps them leaves)."""
        with torch.no_grad():
            for n in self._param_names:
                getattr(self, n).copy_(torch.as_tensor(state[n]))
        return self

    def to(self, device) -> _Family:
        """Move the parameters to ``device`` (in place; they stay leaves)."""
        for n in self._param_names:
            setattr(self, n, getattr(self, n).detach().to(device).requires_grad_(True))
        return self

    @property
    def device(self):
        return self.parameters()[0].device

    def _noise(self, shape, generator):
        if generator is not None and not isinstance(generator, torch.Generator):
            generator = torch_generator(generator, device=self.device)
        return torch.randn(shape, dtype=torch.float64, device=self.device,
                           generator=generator)

    def sample(self, sample_shape=(), generator=None) -> torch.Tensor:
        """Draws without gradient, shape ``sample_shape + (d,)``."""
        with torch.no_grad():
            return self.rsample(sample_shape, generator=generator)

    def detached(self) -> _Family:
        """The same distribution with its parameters detached from the graph."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for n in self._param_names:
            setattr(new, n, getattr(self, n).detach())
        return new

    def __repr__(self):
        return f"{type(self).__name__}(dim={self.dim})"


class MeanFieldNormal(_Family):
    """Independent normals: ``N(loc, diag(scale^2))`` with ``scale = exp(log_scale)``.

    Parameters
    ----------
    dim : int
        The dimension d.
    loc, scale : array_like, shape (d,), optional
        Initial mean (default 0) and standard deviations (default 1).

    Examples
    --------
    >>> import torch
    >>> q = MeanFieldNormal(3, scale=[1.0, 2.0, 0.5])
    >>> q.rsample((4,), generator=0).shape
    torch.Size([4, 3])
    >>> round(float(q.entropy()), 4)            # 3/2 (1 + log 2 pi) + sum log scale
    4.2568
    """

    _param_names = ("loc", "log_scale")

    def __init__(self, dim, *, loc=None, scale=None):
        super().__init__(dim)
        self.loc = (torch.zeros(dim, dtype=torch.float64) if loc is None
                    else _tensor(loc, dim, "loc")).requires_grad_(True)
        scale = torch.ones(dim, dtype=torch.float64) if scale is None else \
            _tensor(scale, dim, "scale")
        if not bool((scale > 0).all()):
            raise ValueError("scale must be positive")
        self.log_scale = scale.log().requires_grad_(True)

    @property
    def scale(self):
        return self.log_scale.exp()

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return self.scale**2

    @property
    def covariance(self):
        return torch.diag(self.variance)

    covariance_matrix = covariance

    def rsample(self, sample_shape=(), generator=None):
        eps = self._noise(_shape(sample_shape) + (self.dim,), generator)
        return self.loc + eps * self.scale

    def log_prob(self, z):
        u = (z - self.loc) / self.scale
        return -0.5 * (u**2).sum(-1) - self.log_scale.sum() - 0.5 * self.dim * _LOG_2PI

    def entropy(self):
        return self.log_scale.sum() + 0.5 * self.dim * (1.0 + _LOG_2PI)

    def affine(self, shift, scale) -> MeanFieldNormal:
        """The law of ``shift + scale * z`` (``scale`` a positive vector)."""
        scale = torch.as_tensor(scale, dtype=torch.float64, device=self.device)
        if scale.ndim != 1:
            raise ValueError("a mean-field family only maps through a diagonal scale")
        return MeanFieldNormal(self.dim, loc=shift + scale * self.loc.detach(),
                               scale=scale * self.scale.detach()).to(self.device)

    def as_torch(self):
        """The equivalent ``Independent(Normal)`` (for ``kl_divergence``)."""
        return torch.distributions.Independent(torch.distributions.Normal(self.loc, self.scale),
                                               1)

    @classmethod
    def from_gaussian(cls, mean, cov=None, *, precision=None):
        """The mean-field optimum for a Gaussian target: precisions = diag of its precision.

        (KL(q || N(mean, cov)) over diagonal q is minimized by ``q_i = N(mean_i,
        1 / P_ii)`` with ``P = cov^-1``, not by the marginal variances ``cov_ii``.)
        """
        mean = torch.as_tensor(mean, dtype=torch.float64)
        if precision is None:
            precision = torch.linalg.inv(torch.as_tensor(cov, dtype=torch.float64))
        return cls(mean.shape[0], loc=mean, scale=torch.diagonal(precision).rsqrt())


class FullRankNormal(_Family):
    """A full-rank Gaussian ``N(loc, L L^T)``, ``L`` lower triangular (Cholesky).

    The free parameters are ``loc`` and ``tril``, a ``(d, d)`` tensor whose strict lower
    triangle is that of ``L`` and whose diagonal is ``log diag(L)`` (so the scales move
    in log space and stay positive).

    Parameters
    ----------
    dim : int
    loc : array_like, shape (d,), optional
    scale_tril : array_like, shape (d, d), optional
        Initial Cholesky factor (default identity); or give ``covariance_matrix``.

    Examples
    --------
    >>> q = FullRankNormal(2, covariance_matrix=[[1.0, 0.9], [0.9, 1.0]])
    >>> q.covariance.tolist()
    [[1.0, 0.9], [0.9, 1.0]]
    >>> round(float(q.log_prob(q.loc.detach()[None])), 4)
    -1.0075
    """

    _param_names = ("loc", "tril")

    def __init__(self, dim, *, loc=None, scale_tril=None, covariance_matrix=None):
        super().__init__(dim)
        self.loc = (torch.zeros(dim, dtype=torch.float64) if loc is None
                    else _tensor(loc, dim, "loc")).requires_grad_(True)
        if covariance_matrix is not None:
            cov = _tensor(covariance_matrix, dim, "covariance_matrix", (dim, dim))
            scale_tril = torch.linalg.cholesky(cov)
        L = torch.eye(dim, dtype=torch.float64) if scale_tril is None else \
            _tensor(scale_tril, dim, "scale_tril", (dim, dim))
        diag = torch.diagonal(L)
        if not bool((diag > 0).all()):
            raise ValueError("scale_tril must have a positive diagonal")
        raw = torch.tril(L, -1) + torch.diag(diag.log())
        self.tril = raw.requires_grad_(True)

    @property
    def scale_tril(self):
        return torch.tril(self.tril, -1) + torch.diag_embed(torch.diagonal(self.tril).exp())

    @property
    def mean(self):
        return self.loc

    @property
    def covariance(self):
        L = self.scale_tril
        return L @ L.T

    covariance_matrix = covariance

    @property
    def variance(self):
        return (self.scale_tril**2).sum(-1)

    def rsample(self, sample_shape=(), generator=None):
        eps = self._noise(_shape(sample_shape) + (self.dim,), generator)
        return self.loc + eps @ self.scale_tril.T

    def log_prob(self, z):
        L = self.scale_tril
        r = (z - self.loc).reshape(-1, self.dim)
        u = torch.linalg.solve_triangular(L, r.T, upper=False).T
        out = -0.5 * (u**2).sum(-1) - torch.diagonal(self.tril).sum() - \
            0.5 * self.dim * _LOG_2PI
        return out.reshape(z.shape[:-1])

    def entropy(self):
        return torch.diagonal(self.tril).sum() + 0.5 * self.dim * (1.0 + _LOG_2PI)

    def affine(self, shift, scale) -> FullRankNormal:
        """The law of ``shift + A z``, ``A`` lower triangular with a positive diagonal
        (a vector means a diagonal ``A``)."""
        A = torch.as_tensor(scale, dtype=torch.float64, device=self.device)
        L = self.scale_tril.detach()
        if A.ndim == 1:
            loc, L = shift + A * self.loc.detach(), A[:, None] * L
        else:
            loc, L = shift + A @ self.loc.detach(), A @ L
        return FullRankNormal(self.dim, loc=loc.cpu(), scale_tril=L.cpu()).to(self.device)

    def as_torch(self):
        """The equivalent ``MultivariateNormal`` (for ``kl_divergence``)."""
        return torch.distributions.MultivariateNormal(self.loc, scale_tril=self.scale_tril)

    @classmethod
    def from_gaussian(cls, mean, cov=None, *, precision=None):
        """``N(mean, cov)`` itself (full rank is exact for a Gaussian target)."""
        mean = torch.as_tensor(mean, dtype=torch.float64)
        if cov is None:
            cov = torch.linalg.inv(torch.as_tensor(precision, dtype=torch.float64))
        return cls(mean.shape[0], loc=mean, covariance_matrix=cov)


class LowRankNormal(_Family):
    """``N(loc, D^2 + W W^T)``: a diagonal ``D = diag(exp(log_diag))`` plus rank ``k``.

    Never builds a ``d x d`` matrix: with the capacitance ``C = I_k + W^T D^-2 W``,
    ``log det = 2 sum log D + log det C`` (determinant lemma) and the Mahalanobis term
    follows from Woodbury's identity; sampling is ``loc + D e1 + W e2``. Memory is
    ``O(n d + d k)``.

    Parameters
    ----------
    dim : int
    rank : int
        ``k >= 1``.
    loc, diag : array_like, shape (d,), optional
        Initial mean (0) and diagonal standard deviations (1).
    factor : array_like, shape (d, k), optional
        Initial ``W``; default small seeded random values (``W = 0`` is a saddle point
        of the ELBO in ``W``).

    Examples
    --------
    >>> q = LowRankNormal(100_000, rank=10)         # a few MB, not 80 GB
    >>> q.rsample((2,), generator=0).shape
    torch.Size([2, 100000])
    >>> q.log_prob(q.rsample((2,), generator=1)).shape
    torch.Size([2])
    """

    _param_names = ("loc", "log_diag", "factor")

    def __init__(self, dim, rank, *, loc=None, diag=None, factor=None, seed=0):
        super().__init__(dim)
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise ValueError(f"rank must be a positive int, got {rank!r}")
        self.rank = rank
        self.loc = (torch.zeros(dim, dtype=torch.float64) if loc is None
                    else _tensor(loc, dim, "loc")).requires_grad_(True)
        diag = torch.ones(dim, dtype=torch.float64) if diag is None else \
            _tensor(diag, dim, "diag")
        if not bool((diag > 0).all()):
            raise ValueError("diag must be positive")
        self.log_diag = diag.log().requires_grad_(True)
        if factor is None:
            g = torch_generator(seed)
            factor = 1e-2 * torch.randn(dim, rank, dtype=torch.float64, generator=g)
        self.factor = _tensor(factor, dim, "factor", (dim, rank)).requires_grad_(True)

    @property
    def mean(self):
        return self.loc

    @property
    def diag(self):
        return self.log_diag.exp()

    @property
    def variance(self):
        return self.diag**2 + (self.factor**2).sum(-1)

    @property
    def covariance(self):
        """The dense ``(d, d)`` covariance (only ask for it when d is small)."""
        return torch.diag(self.diag**2) + self.factor @ self.factor.T

    covariance_matrix = covariance

    def _capacitance(self):
        Wd = self.factor * torch.exp(-2.0 * self.log_diag)[:, None]       # D^-2 W
        C = torch.eye(self.rank, dtype=torch.float64, device=self.device) + self.factor.T @ Wd
        return Wd, torch.linalg.cholesky(C)

    def rsample(self, sample_shape=(), generator=None):
        shape = _shape(sample_shape)
        e1 = self._noise(shape + (self.dim,), generator)
        e2 = self._noise(shape + (self.rank,), generator)
        return self.loc + e1 * self.diag + e2 @ self.factor.T

    def log_prob(self, z):
        Wd, LC = self._capacitance()
        r = (z - self.loc).reshape(-1, self.dim)
        a = r @ Wd                                                      # (n, k)
        b = torch.linalg.solve_triangular(LC, a.T, upper=False).T
        maha = (r**2 * torch.exp(-2.0 * self.log_diag)).sum(-1) - (b**2).sum(-1)
        logdet = 2.0 * self.log_diag.sum() + 2.0 * torch.log(torch.diagonal(LC)).sum()
        out = -0.5 * (maha + logdet + self.dim * _LOG_2PI)
        return out.reshape(z.shape[:-1])

    def entropy(self):
        _, LC = self._capacitance()
        logdet = 2.0 * self.log_diag.sum() + 2.0 * torch.log(torch.diagonal(LC)).sum()
        return 0.5 * logdet + 0.5 * self.dim * (1.0 + _LOG_2PI)

    def affine(self, shift, scale) -> LowRankNormal:
        """The law of ``shift + scale * z`` (``scale`` a positive vector)."""
        s = torch.as_tensor(scale, dtype=torch.float64, device=self.device)
        if s.ndim != 1:
            raise ValueError("a low-rank family only maps through a diagonal scale")
        return LowRankNormal(self.dim, self.rank, loc=(shift + s * self.loc.detach()).cpu(),
                             diag=(s * self.diag.detach()).cpu(),
                             factor=(s[:, None] * self.factor.detach()).cpu()).to(self.device)

    def as_torch(self):
        """The equivalent ``LowRankMultivariateNormal`` (for ``kl_divergence``)."""
        return torch.distributions.LowRankMultivariateNormal(self.loc, self.factor,
                                                             self.diag**2)

    @classmethod
    def from_gaussian(cls, mean, cov, *, rank, precision=None):
        """A rank-``k`` fit of ``N(mean, cov)``: the top-``k`` principal directions as
        ``W``, the rest of each variance on the diagonal."""
        mean = torch.as_tensor(mean, dtype=torch.float64)
        cov = torch.as_tensor(cov, dtype=torch.float64)
        evals, evecs = torch.linalg.eigh(cov)
        k = min(rank, cov.shape[0])
        floor = evals[:-k].median() if cov.shape[0] > k else evals.min() * 0.5
        lam = (evals[-k:] - floor).clamp_min(0.0)
        W = torch.zeros(cov.shape[0], rank, dtype=torch.float64)
        W[:, :k] = evecs[:, -k:] * lam.sqrt()
        W[:, :k] += 1e-6 * torch.ones_like(W[:, :k])
        diag = (torch.diagonal(cov) - (W**2).sum(-1)).clamp_min(1e-3 * torch.diagonal(cov))
        return cls(mean.shape[0], rank, loc=mean, diag=diag.sqrt(), factor=W)


class Flow(_Family):
    """A zuko normalizing flow behind a fixed affine map ``z = shift + A u``.

    ``u`` follows a zuko flow (``zuko.flows.MAF`` by default; ``passes=2`` makes its
    layers coupling layers, cheap both ways) on a standard normal base. The affine map
    (default the identity) lets a fit start from the Laplace approximation. ``entropy``
    has no closed form: :meth:`entropy` returns a Monte Carlo estimate.

    Parameters
    ----------
    dim : int
    transforms : int
        Number of flow layers (default 3).
    hidden_features : sequence of int
        Hidden layer widths of each layer's conditioner (default ``(64, 64)``).
    flow : str
        A class name from ``zuko.flows`` (``"MAF"``, ``"NSF"``, ``"RealNVP"``...).
    seed : int
        Seed of the initial network weights.
    **options
        Passed to the zuko flow class.

    Examples
    --------
    >>> q = Flow(2, transforms=2, hidden_features=(16,))    # doctest: +SKIP
    >>> q.log_prob(q.rsample((5,), generator=0)).shape      # doctest: +SKIP
    torch.Size([5])
    """

    def __init__(self, dim, *, transforms=3, hidden_features=(64, 64), flow="MAF",
                 seed=0, shift=None, scale=None, **options):
        super().__init__(dim)
        try:
            import zuko
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("Flow needs zuko: pip install 'bayescalc[flows]'") from exc
        if flow == "MAF" and "passes" not in options and dim > 1:
            options["passes"] = 2
        self._init_options = dict(transforms=transforms, hidden_features=tuple(hidden_features),
                                  flow=flow, seed=seed, **options)
        cls = getattr(zuko.flows, flow, None)
        if cls is None:
            raise ValueError(f"unknown zuko flow {flow!r}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.net = cls(features=dim, transforms=transforms,
                           hidden_features=tuple(hidden_features), **options).double()
        # zero the output layer of every conditioner: an affine (MAF) layer then starts
        # as the identity, so the flow starts as its base N(0, I) behind the affine map
        # (a fit starts exactly at the Laplace approximation, not at a random warp of it)
        with torch.no_grad():
            for layer in getattr(self.net.transform, "transforms", []):
                hyper = getattr(layer, "hyper", None)
                linears = [m for m in hyper.modules() if isinstance(m, torch.nn.Linear)] \
                    if hyper is not None else []
                if linears:
                    linears[-1].weight.zero_()
                    if linears[-1].bias is not None:
                        linears[-1].bias.zero_()
        self.shift = torch.zeros(dim, dtype=torch.float64) if shift is None else \
            torch.as_tensor(shift, dtype=torch.float64)
        A = torch.eye(dim, dtype=torch.float64) if scale is None else \
            torch.as_tensor(scale, dtype=torch.float64)
        self.A = torch.diag(A) if A.ndim == 1 else A
        self._frozen = None

    def parameters(self):
        return list(self.net.parameters())

    def state(self):
        return {"net": {k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()},
                "shift": self.shift.cpu(), "A": self.A.cpu()}

    def load_state(self, state):
        self.net.load_state_dict(state["net"])
        self.shift, self.A = state["shift"].to(self.device), state["A"].to(self.device)
        return self

    def to(self, device):
        self.net.to(device)
        self.shift, self.A = self.shift.to(device), self.A.to(device)
        return self

    @property
    def device(self):
        return self.shift.device

    def _dist(self):
        if self._frozen is not None:
            from torch.func import functional_call

            return functional_call(self.net, self._frozen, ())
        return self.net()

    def detached(self):
        new = object.__new__(Flow)
        new.__dict__.update(self.__dict__)
        new._frozen = {k: v.detach() for k, v in self.net.named_parameters()}
        new._frozen.update(dict(self.net.named_buffers()))
        return new

    def rsample(self, sample_shape=(), generator=None):
        eps = self._noise(_shape(sample_shape) + (self.dim,), generator)
        u = self._dist().transform.inv(eps)
        return self.shift + u @ self.A.T

    def log_prob(self, z):
        u = torch.linalg.solve_triangular(self.A, (z - self.shift).reshape(-1, self.dim).T,
                                          upper=False).T
        logdet = torch.log(torch.abs(torch.diagonal(self.A))).sum()
        return (self._dist().log_prob(u) - logdet).reshape(z.shape[:-1])

    def entropy(self, n_samples=4096, generator=0):
        """A Monte Carlo estimate ``-mean log q(z)`` over ``n_samples`` draws."""
        z = self.rsample((n_samples,), generator=generator)
        return -self.log_prob(z).mean()

    @property
    def mean(self):
        return self.sample((4096,), generator=0).mean(0)

    @property
    def covariance(self):
        z = self.sample((4096,), generator=0)
        return torch.cov(z.T)

    def affine(self, shift, scale):
        A = torch.as_tensor(scale, dtype=torch.float64, device=self.device)
        A = torch.diag(A) if A.ndim == 1 else A
        new = object.__new__(Flow)
        new.__dict__.update(self.__dict__)
        new.shift, new.A = shift + A @ self.shift, A @ self.A
        return new


FAMILIES = ("meanfield", "fullrank", "lowrank", "flow")


def make_family(name, dim, **options):
    """A family by name: ``"meanfield"``, ``"fullrank"``, ``"lowrank"`` (``rank=``) or
    ``"flow"``.

    Examples
    --------
    >>> make_family("fullrank", 3)
    FullRankNormal(dim=3)
    """
    if name == "meanfield":
        return MeanFieldNormal(dim)
    if name == "fullrank":
        return FullRankNormal(dim)
    if name == "lowrank":
        return LowRankNormal(dim, options.get("rank", min(dim, 5)))
    if name == "flow":
        return Flow(dim, **options)
    raise ValueError(f"unknown approx family {name!r}; valid: {', '.join(FAMILIES)}")
