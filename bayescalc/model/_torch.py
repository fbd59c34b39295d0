"""``Model.from_torch``: a Model from torch distributions, with a chunked likelihood.

The prior is a torch ``Distribution`` (or a dict / sequence of them); its support gives
the bijection to R^d (``torch.distributions.biject_to``, one block per parameter). The
likelihood is ``likelihood_fn(theta, data)``, a Distribution over the observations (or
their log-probabilities), evaluated over chunks of observations and particles so that no
intermediate tensor exceeds ``max_chunk_elements`` elements.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Distribution

from ._transforms import BlockTransform

#: default bound on the elements of one likelihood chunk: 2**22 float64 = 32 MiB
MAX_CHUNK_ELEMENTS = 2 ** 22


def _block_names(name, ushape):
    if len(ushape) == 0:
        return [name]
    size = math.prod(ushape)
    if len(ushape) == 1:
        return [f"{name}[{i}]" for i in range(size)]
    idx = torch.arange(size).reshape(ushape)
    return [f"{name}[{','.join(str(int(j)) for j in (idx == i).nonzero()[0])}]"
            for i in range(size)]


def _prior_blocks(prior):
    """(kind, [(name, distribution)]) from a Distribution, dict or sequence."""
    if isinstance(prior, Distribution):
        return "single", [("theta", prior)]
    if isinstance(prior, dict):
        items = list(prior.items())
        kind = "dict"
    elif isinstance(prior, (list, tuple)):
        items = [(f"theta{i}", p) for i, p in enumerate(prior)]
        kind = "sequence"
    else:
        raise TypeError("prior must be a torch Distribution, a dict of them or a sequence of "
                        f"them, got {type(prior).__name__}")
    if not items:
        raise ValueError("prior has no parameters")
    for name, dist in items:
        if not isinstance(dist, Distribution):
            raise TypeError(f"prior[{name!r}] must be a torch Distribution, got "
                            f"{type(dist).__name__}")
    return kind, [(str(k), v) for k, v in items]


def _check_continuous(name, dist):
    support = dist.support
    if getattr(support, "is_discrete", False):
        raise ValueError(f"prior parameter {name!r} has a discrete support ({support}): "
                         "Model.from_torch needs continuous parameters")


def _data_length(data):
    tensors = _data_tensors(data)
    lengths = {int(t.shape[0]) for t in tensors if t.ndim > 0}
    if len(lengths) != 1:
        raise ValueError("data must be a tensor (N, ...) or a tuple/dict of tensors sharing "
                         f"their first dimension N; got first dimensions {sorted(lengths)}")
    per_obs = max(max(1, t[0].numel()) if t.ndim > 0 else 1 for t in tensors)
    return lengths.pop(), per_obs


def _data_tensors(data):
    if isinstance(data, torch.Tensor):
        return [data]
    if isinstance(data, dict):
        return list(data.values())
    if isinstance(data, (list, tuple)):
        return list(data)
    raise TypeError(f"data must be a tensor, a tuple or a dict of tensors, got "
                    f"{type(data).__name__}")


def _as_data(data):
    def conv(x):
        x = torch.as_tensor(x)
        return x.to(torch.float64) if x.is_floating_point() else x
    if isinstance(data, dict):
        return {k: conv(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return tuple(conv(v) for v in data)
    return conv(data)


def _slice(data, start, stop):
    if isinstance(data, torch.Tensor):
        return data[start:stop]
    if isinstance(data, dict):
        return {k: v[start:stop] for k, v in data.items()}
    return tuple(v[start:stop] for v in data)


def _observed(data):
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, tuple):
        return data[-1]
    raise TypeError("with dict data, likelihood_fn must return log-probabilities (a tensor), "
                    "not a Distribution: which entry is observed is ambiguous")


def chunk_sizes(n, n_obs, per_obs, max_chunk_elements):
    """(particles per chunk, observations per chunk) so that their product times the
    elements per observation stays within ``max_chunk_elements``; the observation chunk
    is kept different from the particle chunk (so a likelihood that pairs particle i with
    observation i by mistake fails loudly instead of broadcasting silently)."""
    pc = max(1, min(n, max_chunk_elements // per_obs))
    oc = max(1, min(n_obs, max_chunk_elements // (pc * per_obs)))
    if oc == pc and n_obs > 1:
        oc = oc - 1 if oc > 1 else 2
        if oc * pc * per_obs > max_chunk_elements and pc > 1:
            pc -= 1
    return pc, oc


class _RecomputedSum(torch.autograd.Function):
    """``sum over chunks of evaluate(theta[rows], chunk)`` whose backward recomputes one
    chunk at a time (activation checkpointing without torch.utils.checkpoint's import
    cost): the autograd graph never holds more than one chunk. Double backward (Hessians)
    works through a differentiable recomputation."""

    @staticmethod
    def forward(ctx, theta, plan, evaluate):
        ctx.plan, ctx.evaluate = plan, evaluate
        ctx.save_for_backward(theta)
        return _sum_chunks(theta, plan, evaluate)

    @staticmethod
    def backward(ctx, grad_out):
        (theta,) = ctx.saved_tensors
        plan, evaluate = ctx.plan, ctx.evaluate
        if torch.is_grad_enabled():   # create_graph: recompute differentiably
            return _RecomputedSum._differentiable_grad(theta, plan, evaluate, grad_out)
        grad = torch.zeros_like(theta)
        for rows, piece in plan:
            with torch.enable_grad():
                sub = theta[rows].detach().requires_grad_(True)
                (g,) = torch.autograd.grad(evaluate(sub, piece), sub, grad_out[..., rows])
            grad[rows] += g
        return grad, None, None

    @staticmethod
    def _differentiable_grad(theta, plan, evaluate, grad_out):
        grad = torch.zeros_like(theta)
        for rows, piece in plan:
            (g,) = torch.autograd.grad(evaluate(theta[rows], piece), theta,
                                       grad_out[..., rows], create_graph=True)
            grad = grad + g
        return grad, None, None


def _sum_chunks(theta, plan, evaluate):
    """Sum of ``evaluate(theta[rows], piece)`` (shape (..., rows)) into (..., n)."""
    total = None
    for rows, piece in plan:
        value = evaluate(theta[rows], piece)
        if total is None:
            total = torch.zeros(value.shape[:-1] + (theta.shape[0],), dtype=torch.float64)
        total[..., rows] += value
    return total


def from_torch(cls, prior, likelihood_fn, data, *, names=None,
               max_chunk_elements=MAX_CHUNK_ELEMENTS, log_z_exact=None):
    kind, items = _prior_blocks(prior)
    if not callable(likelihood_fn):
        raise TypeError(f"likelihood_fn must be callable, got {type(likelihood_fn).__name__}")
    if isinstance(max_chunk_elements, bool) or not isinstance(max_chunk_elements, int) \
            or max_chunk_elements < 1:
        raise ValueError(f"max_chunk_elements must be a positive int, got "
                         f"{max_chunk_elements!r}")
    blocks = []
    for name, dist in items:
        _check_continuous(name, dist)
        shape = tuple(dist.batch_shape + dist.event_shape)
        blocks.append((name, torch.distributions.biject_to(dist.support), shape))
    transform = BlockTransform(blocks)
    dists = dict(items)
    data = _as_data(data)
    n_obs, per_obs = _data_length(data)

    if names is None:
        names = []
        for b in transform.blocks:
            names += _block_names(b.name, b.ushape)

    def unpack(theta):
        values = transform.split(theta)
        if kind == "single":
            return values["theta"]
        if kind == "dict":
            return values
        return tuple(values[name] for name, _ in items)

    def log_prior(theta):
        n = theta.shape[0]
        total = 0.0
        for name, value in transform.split(theta).items():
            lp = dists[name].log_prob(value)
            total = total + (lp.reshape(n, -1).sum(-1) if lp.ndim else lp.expand(n))
        return total

    def chunk(theta, piece):
        m = theta.shape[0]
        try:
            out = likelihood_fn(unpack(theta), piece)
            lp = out.log_prob(_observed(piece)) if isinstance(out, Distribution) else out
        except (RuntimeError, ValueError, IndexError) as error:
            shapes = [tuple(t.shape) for t in _data_tensors(piece)]
            raise ValueError(
                f"likelihood_fn(theta, data) failed for a batch theta of {m} particles "
                f"(flat shape {tuple(theta.shape)}) and a data chunk of shapes {shapes}: "
                f"{type(error).__name__}: {str(error).rstrip('.')}. theta carries the "
                "particles on its first axis: broadcast it against the observations, e.g. "
                "Normal(theta[:, :1], 1.0) for data of shape (N,)") from error
        lp = torch.as_tensor(lp, dtype=torch.float64)
        if lp.ndim == 0 or lp.shape[0] not in (m, 1):
            raise ValueError(
                f"likelihood_fn's log-probabilities must have the particles on their first "
                f"axis, shape ({m}, ...), got {tuple(lp.shape)} for {m} particles and a data "
                "chunk of length "
                f"{_data_tensors(piece)[0].shape[0] if _data_tensors(piece)[0].ndim else 1}")
        return lp.reshape(lp.shape[0], -1).sum(-1).expand(m)

    def log_likelihood(theta):
        n = theta.shape[0]
        pc, oc = chunk_sizes(n, n_obs, per_obs, max_chunk_elements)
        if pc >= n and oc >= n_obs:
            return chunk(theta, data)
        plan = [(slice(p0, p0 + pc), _slice(data, o0, o0 + oc))
                for p0 in range(0, n, pc) for o0 in range(0, n_obs, oc)]
        if torch.is_grad_enabled() and theta.requires_grad:
            # recompute each chunk in the backward pass: the graph holds one chunk
            return _RecomputedSum.apply(theta, plan, chunk)
        return _sum_chunks(theta, plan, chunk)

    def prior_sample(n, generator):
        seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            values = {name: dists[name].sample((n,)).to(torch.float64) for name, _ in items}
        return transform.join(values)

    model = cls(log_prior, log_likelihood, transform.dim, transform=transform, names=names,
                prior_sample=prior_sample, log_z_exact=log_z_exact)
    model._resolved = {"log_prior": log_prior, "log_likelihood": log_likelihood}
    model.max_chunk_elements = max_chunk_elements
    model.data = data
    return model
