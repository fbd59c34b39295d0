"""Frozen result objects with attribute access and a readable repr.

Every estimator in bayescalc returns a subclass of :class:`Result`: a frozen dataclass
whose fields are the numbers (``value``, ``error``, ``n_evals``, ``success``,
``message``, ...). Subclasses add fields; they never change what a field means.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True, repr=False)
... class Answer(Result):
...     value: float
...     error: float
>>> Answer(1.5, 2e-16)
Answer(
    value=1.5,
    error=2e-16,
)
"""

from __future__ import annotations

import dataclasses

import numpy as np

_MAX_ITEMS = 6


def _format(value) -> str:
    """Short, readable text for one field (long arrays and paths are summarized)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, np.ndarray) or _is_tensor(value):
        array = np.asarray(value.detach().cpu() if _is_tensor(value) else value)
        kind = "tensor" if _is_tensor(value) else "array"
        if array.size > _MAX_ITEMS or array.ndim > 1:
            return f"<{kind} shape={tuple(array.shape)} dtype={array.dtype}>"
        text = np.array2string(array, precision=10, separator=", ")
        return f"{kind}({text})"
    if isinstance(value, (list, tuple)) and len(value) > _MAX_ITEMS:
        return f"<{type(value).__name__} of {len(value)} items>"
    if isinstance(value, str):
        return repr(value)
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _is_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


@dataclasses.dataclass(frozen=True, repr=False)
class Result:
    """Base of every result object: frozen fields, readable repr, ``_asdict()``."""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for field in dataclasses.fields(self):
            if field.repr:
                lines.append(f"    {field.name}={_format(getattr(self, field.name))},")
        lines.append(")")
        return "\n".join(lines)

    def _asdict(self) -> dict:
        """The fields as a plain dict (shallow)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def _replace(self, **changes):
        """A copy with some fields changed (results are frozen)."""
        return dataclasses.replace(self, **changes)
