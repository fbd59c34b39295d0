"""The Model: one unnormalized log posterior on an unconstrained space.

Every estimator of :mod:`bayescalc.posterior` and every fit of :mod:`bayescalc.vi` takes
a :class:`Model`. It keeps the log prior and the log likelihood apart (tempering walks
from one to the other), works on batches ``z`` of shape ``(n, d)`` on the unconstrained
space ``R^d`` and returns shape ``(n,)`` in torch float64, differentiable.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .._core.random import torch_generator
from .._core.warnings import BayescalcWarning

_IDENTITY = torch.distributions.transforms.identity_transform


def _identity_transform():
    return _IDENTITY


def _as_batch(x, width, name, kind) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x, dtype=np.float64))
    if not x.is_floating_point() or x.dtype != torch.float64:
        x = x.to(torch.float64)
    if x.ndim == 1 and width > 1 or x.ndim == 0:
        x = x.reshape(1, -1)
    elif x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(
            f"{name} must have shape (n, {width}) ({width} {kind}coordinates of this "
            f"model), got {tuple(x.shape)}")
    return x


def _vmapped(fn, probe, single):
    """A batched version of a point-wise scalar ``fn``: torch.func.vmap where it traces
    and agrees with a direct call, else a Python loop. Returns (callable, description)."""
    def looped(theta):
        return torch.stack([torch.as_tensor(fn(t), dtype=torch.float64).reshape(())
                            for t in theta])

    try:
        vf = torch.func.vmap(lambda t: torch.as_tensor(fn(t), dtype=torch.float64).reshape(()))
        out = vf(probe)
        if out.shape == (probe.shape[0],) and torch.allclose(out[0], single.reshape(()),
                                                             rtol=1e-12, atol=1e-12,
                                                             equal_nan=True):
            return vf, "torch.func.vmap"
    except Exception:  # noqa: BLE001 - data-dependent control flow, .item(), numpy...
        pass
    return looped, "a Python loop over the batch (torch.func.vmap could not trace it)"


class NonFiniteDensityError(ValueError):
    """A log density returned NaN or +inf (the message names the function and the point).

    A ``ValueError``, so bad input fails as every other; iterative methods (``vi.fit``)
    catch this class to treat a divergence mid-run as one, without hiding other errors.
    """


class Model:
    """An unnormalized posterior ``p(theta) p(y | theta)`` on an unconstrained space.

    Parameters
    ----------
    log_prior : callable
        ``log_prior(theta) -> (n,)``: the log prior density at a batch of constrained
        parameters ``theta`` of shape ``(n, d)`` (a torch float64 tensor). It should be
        normalized where the evidence is wanted (log Z is only meaningful then).
    log_likelihood : callable
        ``log_likelihood(theta) -> (n,)``: the log likelihood of the data at a batch
        ``theta`` of shape ``(n, d)``.
    dim : int
        The number of parameters d.
    transform : torch.distributions.Transform, optional
        A bijection from ``R^d`` (the unconstrained space, where every method works) onto
        the parameters' support, acting on shape ``(n, d)``; for instance
        ``torch.distributions.biject_to(constraints.positive)``. Its log-det-Jacobian is
        added to the log prior, once, for every method. Default: the identity.
    names : sequence of str, optional
        One name per parameter (default ``theta[0]``, ``theta[1]``, ...).
    prior_sample : callable, optional
        ``prior_sample(n, generator) -> (n, d)`` constrained draws from the prior, given a
        ``torch.Generator``. When given, :meth:`sample_prior` works (tempering from the
        prior needs it).
    log_z_exact : float, optional
        The exact log evidence, where it is known (reference models set it).

    Notes
    -----
    ``log_prior(z)``, ``log_likelihood(z)`` and ``log_joint(z)`` of the model take the
    *unconstrained* ``z``; ``log_prior`` includes the log-det-Jacobian of ``transform``,
    so ``exp(log_joint)`` integrates over ``R^d`` to the evidence Z. ``constrained_dim``
    is the width D of theta (D > d where a simplex is stick-broken).

    A log density that returns NaN or +inf raises ``ValueError`` naming theta and the
    batch row (-inf is a zero density and allowed). A log density written for one point,
    ``theta (D,) -> scalar``, is detected on the first call and wrapped (vectorized by
    ``torch.func.vmap`` where it traces, else a loop), with a warning.

    Examples
    --------
    A normal mean with a standard normal prior and one observation y = 1 (unit noise):
    the evidence is N(1; 0, 2).

    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t[:, 0], 1.0).log_prob(torch.tensor(1.0)), dim=1,
    ...           log_z_exact=Normal(0.0, math.sqrt(2.0)).log_prob(torch.tensor(1.0)).item())
    >>> m.log_joint(torch.zeros(3, 1)).shape
    torch.Size([3])
    >>> round(m.log_z_exact, 6)
    -1.515512
    """

    def __init__(self, log_prior, log_likelihood, dim, *, transform=None, names=None,
                 prior_sample=None, log_z_exact=None):
        if not callable(log_prior):
            raise TypeError(f"log_prior must be callable, got {type(log_prior).__name__}")
        if not callable(log_likelihood):
            raise TypeError(
                f"log_likelihood must be callable, got {type(log_likelihood).__name__}")
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        self._log_prior = log_prior
        self._log_likelihood = log_likelihood
        self.dim = int(dim)
        self.transform = _identity_transform() if transform is None else transform
        self.constrained_dim = self._constrained_width()
        # the user's callables once known batched (or wrapped): see _resolve
        self._resolved = {}
        # optional theta -> (log prior, log likelihood) in one pass (Pyro models)
        self._log_prior_and_likelihood = None
        if names is None:
            names = [f"theta[{i}]" for i in range(self.dim)]
        names = [str(n) for n in names]
        if len(names) != self.dim:
            raise ValueError(f"names has {len(names)} entries, expected dim = {self.dim}")
        self.names = tuple(names)
        self._prior_sample = prior_sample
        self.log_z_exact = None if log_z_exact is None else float(log_z_exact)

    def _constrained_width(self) -> int:
        width = getattr(self.transform, "constrained_dim", None)
        if width is not None:
            return int(width)
        try:
            shape = self.transform.forward_shape(torch.Size((1, self.dim)))
        except (TypeError, ValueError, AttributeError, NotImplementedError):
            return self.dim
        if len(shape) != 2:
            raise ValueError(f"transform must map shape (n, {self.dim}) to (n, D), it maps "
                             f"(1, {self.dim}) to {tuple(shape)}")
        return int(shape[1])

    # -- points -------------------------------------------------------------------------
    def as_batch(self, z) -> torch.Tensor:
        """``z`` as a float64 tensor of shape ``(n, d)`` (a single point becomes n = 1).

        Raises ``ValueError`` naming ``z`` on a wrong trailing dimension.
        """
        return _as_batch(z, self.dim, "z", "unconstrained ")

    def constrain(self, z) -> torch.Tensor:
        """Map unconstrained points ``z`` (n, d) to the parameters' support, (n, D).

        D = d except where a block's constrained shape differs (a simplex of k components
        has k - 1 unconstrained coordinates): ``constrained_dim`` gives D.
        """
        return self.transform(self.as_batch(z))

    def unconstrain(self, theta) -> torch.Tensor:
        """Map parameters ``theta`` (n, D) on their support to the unconstrained space."""
        theta = _as_batch(theta, self.constrained_dim, "theta", "constrained ")
        return self.transform.inv(theta)

    def _log_det_jacobian(self, z, theta):
        ladj = self.transform.log_abs_det_jacobian(z, theta)
        if ladj.ndim == 2:  # an elementwise transform: sum over the coordinates
            ladj = ladj.sum(-1)
        return ladj.expand(z.shape[0])

    # -- densities ----------------------------------------------------------------------
    def log_prior(self, z) -> torch.Tensor:
        """Log prior density of the unconstrained ``z`` (log-det-Jacobian included)."""
        z = self.as_batch(z)
        theta = self.transform(z)
        if self._log_prior_and_likelihood is not None:
            values = self._log_prior_and_likelihood(theta, which="prior")[0]
            values = self._values(values, z, "log_prior", theta)
        else:
            values = self._evaluate("log_prior", theta, z)
        if self.transform is _IDENTITY:  # no Jacobian: no op on the hot path
            return values
        return values + self._log_det_jacobian(z, theta)

    def log_likelihood(self, z) -> torch.Tensor:
        """Log likelihood at the unconstrained ``z``, shape ``(n,)``."""
        z = self.as_batch(z)
        theta = self.transform(z)
        if self._log_prior_and_likelihood is not None:
            values = self._log_prior_and_likelihood(theta, which="likelihood")[1]
            return self._values(values, z, "log_likelihood", theta)
        return self._evaluate("log_likelihood", theta, z)

    def log_joint(self, z) -> torch.Tensor:
        """Unnormalized log posterior ``log_prior(z) + log_likelihood(z)``, shape ``(n,)``."""
        z = self.as_batch(z)
        theta = self.transform(z)
        if self._log_prior_and_likelihood is not None:
            lp, ll = self._log_prior_and_likelihood(theta, which="both")
            lp = self._values(lp, z, "log_prior", theta)
            ll = self._values(ll, z, "log_likelihood", theta)
        else:
            # one finiteness check on the sum, not one per term: the sum is NaN or +inf
            # whenever a term is; only then is each term checked (to name it)
            lp = self._evaluate("log_prior", theta, z, check=False)
            try:
                ll = self._evaluate("log_likelihood", theta, z, check=False)
            except Exception:
                self._values(lp, z, "log_prior", theta)  # a bad prior comes first
                raise
            both = lp + ll
            total = float(both.detach().sum())
            if total != total or total == math.inf:
                self._values(lp, z, "log_prior", theta)
                self._values(ll, z, "log_likelihood", theta)
            if self.transform is _IDENTITY:
                return both
        if self.transform is _IDENTITY:
            return lp + ll
        return lp + self._log_det_jacobian(z, theta) + ll

    def log_joint_and_grad(self, z):
        """``(log_joint(z), its gradient in z)``: shapes ``(n,)`` and ``(n, d)``, detached."""
        z = self.as_batch(z).detach().requires_grad_(True)
        with torch.enable_grad():
            values = self.log_joint(z)
            (grad,) = torch.autograd.grad(values.sum(), z)
        return values.detach(), grad

    def _evaluate(self, what, theta, z, check=True):
        fn = self._resolved.get(what)
        if fn is None:
            fn, out = self._resolve(what, theta, z)
            if out is not None:
                return self._values(out, z, what, theta, check)
        return self._values(fn(theta), z, what, theta, check)

    def _resolve(self, what, theta, z):
        """Find out, on the first call, whether the user's callable is batched.

        Batched: ``f(theta (n, D)) -> (n,)``, accepted at once when n != D or n = 1
        (no extra call). Otherwise a probe batch of k identical rows, k != D, decides; a
        callable written for one point, ``f(theta (D,)) -> scalar`` (on the probe it
        returns a shape other than (k,) or raises, on one row of shape (D,) a scalar), is
        wrapped with ``torch.func.vmap``, or a loop over the batch where vmap cannot
        trace it, with a warning. Anything else raises.
        """
        raw = self._log_prior if what == "log_prior" else self._log_likelihood
        n, width = theta.shape
        try:
            out = raw(theta)
        except Exception:  # noqa: BLE001 - a point-wise callable may fail on a batch
            out = None
        # shape (n,) is conclusive unless n = D >= 2 (a point-wise f could return (D,))
        if isinstance(out, torch.Tensor) and out.shape == (n,) and (n != width or n == 1):
            self._resolved[what] = raw
            return raw, out
        k = 3 if width == 2 else 2
        with torch.no_grad():
            probe = theta[:1].detach().expand(k, width).clone()
            try:
                out = raw(probe)
                batched = isinstance(out, torch.Tensor) and out.shape == (k,)
            except Exception:  # noqa: BLE001 - a point-wise callable may fail on a batch
                batched = False
            if batched:
                self._resolved[what] = raw
                return raw, None
            try:
                single = torch.as_tensor(raw(probe[0]), dtype=torch.float64)
            except Exception as error:  # noqa: BLE001
                raise ValueError(
                    f"{what} fails both on a batch theta of shape ({k}, {width}) and on one "
                    f"point of shape ({width},): {type(error).__name__}: {error}") from error
            if single.numel() != 1:
                got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                raise ValueError(
                    f"{what} must return shape (n,) for a batch theta of shape (n, {width}) "
                    f"(got {got} for n = {k}) or a scalar for one point of shape ({width},) "
                    f"(got shape {tuple(single.shape)}): write it vectorized over the first "
                    "axis of theta")
            wrapped, how = _vmapped(raw, probe, single)
        warnings.warn(
            f"{what} is not batched (it maps one theta of shape ({width},) to a scalar): "
            f"wrapped with {how}. Write it vectorized over the first axis of theta, "
            "theta (n, D) -> (n,), for speed.", BayescalcWarning, stacklevel=4)
        self._resolved[what] = wrapped
        return wrapped, None

    def _values(self, values, z, what, theta=None, check=True):
        values = torch.as_tensor(values, dtype=torch.float64)
        n = z.shape[0]
        if values.ndim == 0 and n == 1:
            values = values.reshape(1)
        if values.shape != (n,):
            raise ValueError(
                f"{what} must return shape (n,) = ({n},) for a batch theta of shape "
                f"{tuple(z.shape)}, got {tuple(values.shape)}: write it vectorized over "
                "the first axis of theta")
        if not check:
            return values
        # one reduction on the hot path: the sum is NaN or +inf whenever a value is NaN
        # or +inf (-inf values, a zero density, are allowed); only then find the row
        total = float(values.detach().sum())
        if total != total or total == math.inf:
            bad = torch.isnan(values.detach()) | (values.detach() == math.inf)
            if bool(bad.any()):
                i = int(torch.nonzero(bad)[0, 0])
                point = (theta if theta is not None else z)[i].detach().tolist()
                raise NonFiniteDensityError(
                    f"{what} returned {values[i].item()} at theta = {point} (row {i} of "
                    f"the batch; unconstrained z = {z[i].detach().tolist()}): a log "
                    "density must be finite or -inf (zero density), never NaN or +inf")
        return values

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def from_torch(cls, prior, likelihood_fn, data, *, names=None,
                   max_chunk_elements=2 ** 22, log_z_exact=None):
        """A Model from torch distributions: a prior and a likelihood over ``data``.

        Parameters
        ----------
        prior : torch.distributions.Distribution, dict or sequence of them
            The prior over the parameters. One Distribution: theta has shape
            ``(n, *prior.batch_shape, *prior.event_shape)`` (a vector prior such as
            ``Normal(torch.zeros(d), 1.0)`` gives ``(n, d)``). A dict ``{name: dist}``:
            theta is a dict of such tensors (a scalar parameter has shape ``(n,)``); a
            sequence: a tuple of them. Each parameter's support maps to R^k by
            ``torch.distributions.biject_to`` (positive scales by exp, intervals by a
            scaled logistic, a simplex of k components by stick-breaking on k - 1
            coordinates, ordered vectors, ...), in one block transform over the flat
            vector, its log-det-Jacobian added to the log prior.
        likelihood_fn : callable
            ``likelihood_fn(theta, data) -> Distribution`` whose ``log_prob`` at the
            observations (``data``, or ``data[-1]`` when data is a tuple ``(inputs...,
            y)``) has the particles on its first axis, shape ``(n, ...)``; it is summed
            over the rest. It may also return those log-probabilities directly (needed
            for dict data). Broadcast theta against the data: ``Normal(theta[:, :1], 1)``
            for observations of shape (N,).
        data : tensor, tuple or dict of tensors
            The observations (and inputs), sharing their first dimension N.
        names : sequence of str, optional
            Names of the unconstrained coordinates (default from the parameter names).
        max_chunk_elements : int
            Memory bound: the likelihood is evaluated over chunks of particles and
            observations whose product (times the elements per observation) is at most
            this many elements, 2**22 by default (32 MiB per float64 intermediate). With
            gradients, each chunk is recomputed in the backward pass
            (``torch.utils.checkpoint``), so the autograd graph holds one chunk at a time.
        log_z_exact : float, optional
            The exact log evidence, if known.

        Returns
        -------
        Model
            With ``max_chunk_elements`` and ``data``; prior draws by ``prior.sample``.

        Examples
        --------
        A positive scale and a mean, 1000 observations:

        >>> import torch
        >>> from torch.distributions import HalfNormal, Normal
        >>> y = torch.randn(1000, generator=torch.Generator().manual_seed(0),
        ...                 dtype=torch.float64)
        >>> m = Model.from_torch({"mu": Normal(0.0, 1.0), "sigma": HalfNormal(1.0)},
        ...     lambda th, y: Normal(th["mu"][:, None], th["sigma"][:, None]), y)
        >>> m.dim, m.names
        (2, ('mu', 'sigma'))
        >>> m.log_joint(m.sample_prior(5, seed=0)).shape
        torch.Size([5])
        """
        from ._torch import from_torch

        return from_torch(cls, prior, likelihood_fn, data, names=names,
                          max_chunk_elements=max_chunk_elements, log_z_exact=log_z_exact)

    @classmethod
    def from_pyro(cls, model_fn, *args, **kwargs):
        """A Model from a Pyro model with continuous latent sites.

        Pyro's own machinery finds the sites (``poutine.trace``), their supports
        (``biject_to(site["fn"].support)``) and the log density (``Trace.compute_log_prob``,
        with the sites' scales and masks): latent sample sites form the prior, observed
        sites (and ``pyro.factor``) the likelihood. The flat unconstrained vector
        concatenates the latent sites' unconstrained values in trace order.

        The log density is evaluated for a whole batch of particles at once, as Pyro's
        ``vectorize_particles`` does: the model runs once inside
        ``pyro.plate("_particles", n, dim=-(max_plate_nesting + 1))`` with every latent
        site conditioned on its batch of values. This needs a model whose code broadcasts
        over extra leading dimensions (as vectorize_particles needs); it is checked on
        the first points against a per-particle evaluation and, if it does not agree, the
        Model falls back to a loop over the particles, with a warning
        (``model.vectorized`` says which).

        Parameters
        ----------
        model_fn : callable
            The Pyro model.
        *args, **kwargs
            Passed to ``model_fn`` on every call.

        Returns
        -------
        Model
            With ``vectorized``, ``sites`` (latent site name -> constrained shape) and
            ``observed_sites``.

        Raises
        ------
        ValueError
            A discrete latent site (marginalize it out, or observe it), or a model with no
            latent site.

        Examples
        --------
        >>> import torch, pyro, pyro.distributions as dist
        >>> def model(y):
        ...     mu = pyro.sample("mu", dist.Normal(0.0, 1.0))
        ...     sigma = pyro.sample("sigma", dist.HalfNormal(1.0))
        ...     with pyro.plate("data", len(y)):
        ...         pyro.sample("y", dist.Normal(mu, sigma), obs=y)
        >>> m = Model.from_pyro(model, torch.tensor([0.1, -0.3, 0.5], dtype=torch.float64))
        >>> m.names, m.vectorized
        (('mu', 'sigma'), True)
        >>> m.log_joint(torch.zeros(4, 2)).shape
        torch.Size([4])
        """
        from ._pyro import from_pyro

        return from_pyro(cls, model_fn, *args, **kwargs)

    # -- prior draws --------------------------------------------------------------------
    @property
    def can_sample_prior(self) -> bool:
        """True when the prior can be sampled (``prior_sample`` was given)."""
        return self._prior_sample is not None

    def sample_prior(self, n, seed=None) -> torch.Tensor:
        """``n`` draws from the prior, on the unconstrained space, shape ``(n, d)``."""
        if self._prior_sample is None:
            raise ValueError("this model has no prior sampler: build it with prior_sample= "
                             "(Model.from_torch and the reference models have one)")
        theta = self._prior_sample(int(n), torch_generator(seed))
        return self.unconstrain(torch.as_tensor(theta, dtype=torch.float64).reshape(n, -1))

    def __repr__(self) -> str:
        exact = "" if self.log_z_exact is None else f", log_z_exact={self.log_z_exact:.6g}"
        return f"Model(dim={self.dim}, names={list(self.names)[:6]}{exact})"

