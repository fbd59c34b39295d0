"""``Model.from_pyro``: a Model from a Pyro model, evaluated vectorized over particles.

Pyro's own machinery does the work: ``poutine.trace`` finds the sites, ``biject_to``
on ``site["fn"].support`` the bijections, ``poutine.condition`` sets the latent values,
``pyro.plate`` over a particle dimension left of every model plate broadcasts the model
over a batch of particles (as ``Trace_ELBO(vectorize_particles=True)`` does), and
``Trace.compute_log_prob`` computes each site's log density with its scale and mask.
"""

from __future__ import annotations

import warnings

import torch
from torch.distributions import biject_to

from .._core.warnings import BayescalcWarning
from ._torch import MAX_CHUNK_ELEMENTS, _block_names, _RecomputedSum, _sum_chunks
from ._transforms import BlockTransform

PARTICLES = "_bayescalc_particles"


def _pyro():
    try:
        import pyro
        from pyro import poutine
        from pyro.poutine.util import prune_subsample_sites
    except ImportError as error:  # pragma: no cover - pyro is a dependency
        raise ImportError("Model.from_pyro needs pyro-ppl (pip install pyro-ppl)") from error
    return pyro, poutine, prune_subsample_sites


def _is_deterministic(site):
    return bool(site.get("infer", {}).get("_deterministic", False))


def _max_plate_nesting(trace):
    dims = [frame.dim for site in trace.nodes.values() if site["type"] == "sample"
            for frame in site["cond_indep_stack"] if frame.vectorized and frame.dim is not None]
    batch = [len(site["fn"].batch_shape) for site in trace.nodes.values()
             if site["type"] == "sample"]
    return max([-min(dims) if dims else 0] + batch)


class _PyroDensity:
    """theta (n, D) -> (log prior (n,), log likelihood (n,)) for a Pyro model."""

    def __init__(self, model_fn, args, kwargs, max_chunk_elements=MAX_CHUNK_ELEMENTS):
        self.pyro, self.poutine, prune = _pyro()
        self.model_fn, self.args, self.kwargs = model_fn, args, kwargs
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            trace = prune(self.poutine.trace(model_fn).get_trace(*args, **kwargs))
        self.latent, self.observed = [], []
        for name, site in trace.nodes.items():
            if site["type"] != "sample":
                continue
            if site["is_observed"]:
                if not _is_deterministic(site):
                    self.observed.append(name)
                continue
            fn = site["fn"]
            if getattr(fn.support, "is_discrete", False) or \
                    getattr(fn, "has_enumerate_support", False):
                raise ValueError(
                    f"Pyro site {name!r} is a discrete latent site ({type(fn).__name__}, "
                    f"support {fn.support}): Model.from_pyro needs continuous latent sites. "
                    "Marginalize it out (sum over its values inside the model, e.g. a "
                    "MixtureSameFamily, or Pyro's enumeration) or make it observed")
            self.latent.append(name)
        if not self.latent:
            raise ValueError("the Pyro model has no latent sample site: nothing to infer")
        self.sites = {n: trace.nodes[n] for n in self.latent}
        self.batch_dims = {n: len(s["fn"].batch_shape) for n, s in self.sites.items()}
        self.shapes = {n: tuple(s["value"].shape) for n, s in self.sites.items()}
        self.mpn = _max_plate_nesting(trace)
        self.transform = BlockTransform([(n, biject_to(self.sites[n]["fn"].support),
                                          self.shapes[n]) for n in self.latent])
        trace.compute_log_prob()
        per_particle = sum(max(1, trace.nodes[n]["log_prob"].numel())
                           for n in self.observed + self.latent)
        self.particle_chunk = max(1, max_chunk_elements // per_particle)
        self.max_chunk_elements = max_chunk_elements
        self.vectorized = True

    # -- one trace ------------------------------------------------------------------------
    def _batched_values(self, theta):
        n = theta.shape[0]
        values = {}
        for name, value in self.transform.split(theta).items():
            pad = self.mpn - self.batch_dims[name]
            values[name] = value.reshape((n,) + (1,) * pad + self.shapes[name])
        return values

    def _run(self, data, plate_size=None):
        pyro, poutine = self.pyro, self.poutine
        model_fn = self.model_fn

        def wrapped(*a, **k):
            if plate_size is None:
                return model_fn(*a, **k)
            with pyro.plate(PARTICLES, plate_size, dim=-(self.mpn + 1)):
                return model_fn(*a, **k)

        conditioned = poutine.condition(wrapped, data=data)
        trace = poutine.trace(conditioned).get_trace(*self.args, **self.kwargs)
        trace.compute_log_prob(lambda name, site: name in self.sites or name in self.obs_set)
        return trace

    @property
    def obs_set(self):
        return set(self.observed)

    def _reduce(self, trace, names, n, vectorized):
        total = torch.zeros(n, dtype=torch.float64)
        for name in names:
            if name not in trace.nodes:
                raise ValueError(f"Pyro site {name!r} of the first trace is missing from a "
                                 "later one: models with a changing structure are not "
                                 "supported")
            lp = trace.nodes[name]["log_prob"].to(torch.float64)
            if not vectorized:
                total = total + lp.sum()
            elif lp.ndim < self.mpn + 1:
                total = total + lp.sum().expand(n)
            elif lp.ndim == self.mpn + 1 and lp.shape[0] in (1, n):
                total = total + lp.reshape(lp.shape[0], -1).sum(-1).expand(n)
            else:
                raise ValueError(f"site {name!r} log_prob has shape {tuple(lp.shape)}, not "
                                 f"({n}, ...) with {self.mpn} plate dimensions")
        return total

    def _vectorized(self, theta):
        n = theta.shape[0]
        trace = self._run(self._batched_values(theta), plate_size=n)
        for name in self.latent:
            if not trace.nodes[name]["is_observed"]:
                raise ValueError(f"latent site {name!r} was not conditioned")
        return (self._reduce(trace, self.latent, n, True),
                self._reduce(trace, self.observed, n, True))

    def _looped(self, theta):
        lps, lls = [], []
        values = self.transform.split(theta)
        for i in range(theta.shape[0]):
            trace = self._run({name: v[i] for name, v in values.items()})
            lps.append(self._reduce(trace, self.latent, 1, False))
            lls.append(self._reduce(trace, self.observed, 1, False))
        return torch.cat(lps), torch.cat(lls)

    def _both_chunk(self, theta):
        lp, ll = (self._vectorized if self.vectorized else self._looped)(theta)
        return torch.stack([lp, ll])

    def __call__(self, theta, which="both"):
        n = theta.shape[0]
        pc = self.particle_chunk
        if n <= pc:
            out = self._both_chunk(theta)
        else:  # particle chunks within the memory bound, recomputed in backward
            plan = [(slice(i, i + pc), None) for i in range(0, n, pc)]
            evaluate = lambda sub, _: self._both_chunk(sub)  # noqa: E731
            if torch.is_grad_enabled() and theta.requires_grad:
                out = _RecomputedSum.apply(theta, plan, evaluate)
            else:
                out = _sum_chunks(theta, plan, evaluate)
        return out[0], out[1]

    def check_vectorization(self):
        """Compare the vectorized evaluation with a per-particle one on 3 points near the
        first trace; fall back to the loop (with a warning) if it fails or disagrees."""
        z0 = self.transform.inv(self.transform.join(
            {n: s["value"].detach().to(torch.float64).reshape((1,) + self.shapes[n])
             for n, s in self.sites.items()}))
        gen = torch.Generator().manual_seed(0)
        z = z0 + 0.1 * torch.randn(3, z0.shape[1], generator=gen, dtype=torch.float64)
        theta = self.transform(z)
        with torch.no_grad():
            lp_loop, ll_loop = self._looped(theta)
            reason = None
            try:
                lp_vec, ll_vec = self._vectorized(theta)
                ok = torch.allclose(lp_vec, lp_loop, rtol=1e-9, atol=1e-9) and \
                    torch.allclose(ll_vec, ll_loop, rtol=1e-9, atol=1e-9)
                if not ok:
                    reason = "its values disagree with a per-particle evaluation"
            except Exception as error:  # noqa: BLE001 - any failure means: loop instead
                reason = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        if reason is not None:
            self.vectorized = False
            warnings.warn(
                "this Pyro model does not broadcast over a leading particle dimension "
                f"({reason}); Model.from_pyro evaluates it one particle at a time (slow). "
                "Write the model so that latent values with extra leading dimensions "
                "broadcast, as Pyro's vectorize_particles requires.",
                BayescalcWarning, stacklevel=4)

    def prior_sample(self, n, generator):
        seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if self.vectorized:
                def wrapped(*a, **k):
                    with self.pyro.plate(PARTICLES, n, dim=-(self.mpn + 1)):
                        return self.model_fn(*a, **k)
                trace = self.poutine.trace(wrapped).get_trace(*self.args, **self.kwargs)
                values = {name: trace.nodes[name]["value"].to(torch.float64).reshape(
                    (n,) + self.shapes[name]) for name in self.latent}
            else:
                draws = [self.poutine.trace(self.model_fn).get_trace(*self.args, **self.kwargs)
                         for _ in range(n)]
                values = {name: torch.stack([t.nodes[name]["value"].to(torch.float64)
                                             for t in draws]) for name in self.latent}
        return self.transform.join(values)


def _unused(*_):  # pragma: no cover
    raise RuntimeError("the Pyro model's densities are evaluated together")


def from_pyro(cls, model_fn, *args, **kwargs):
    if not callable(model_fn):
        raise TypeError(f"model_fn must be callable, got {type(model_fn).__name__}")
    density = _PyroDensity(model_fn, args, kwargs)
    density.check_vectorization()
    names = []
    for b in density.transform.blocks:
        names += _block_names(b.name, b.ushape)
    model = cls(_unused, _unused, density.transform.dim, transform=density.transform,
                names=names, prior_sample=density.prior_sample)
    model._log_prior_and_likelihood = density
    model.vectorized = density.vectorized
    model.sites = dict(density.shapes)
    model.observed_sites = tuple(density.observed)
    model.max_chunk_elements = density.max_chunk_elements
    return model

