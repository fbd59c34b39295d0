"""The verdict every grader returns: ok, where the answer first disagrees, a message."""

from __future__ import annotations

import dataclasses
from typing import Any

from .._core.result import Result


@dataclasses.dataclass(frozen=True, repr=False)
class Verdict(Result):
    """A grader's verdict on a student's function.

    Attributes
    ----------
    ok : bool
        The student's answer matches the reference everywhere it was tried.
    message : str
        A readable explanation, written for the student.
    where : str or None
        The first place the answer disagrees (the test case and the entry), or the
        call that failed; None when ``ok``.
    expected, got : object
        The reference value and the student's at ``where`` (None when not applicable).
    diagnosis : str or None
        The name of the mistake or of the rule the student actually wrote, when the
        grader recognizes it (e.g. ``"swapped arguments"``, ``"simultaneous"``).
    n_cases : int
        How many test cases were tried.

    ``bool(verdict)`` is ``verdict.ok``; ``str(verdict)`` is the message.
    """

    ok: bool
    message: str
    where: str | None = None
    expected: Any = None
    got: Any = None
    diagnosis: str | None = None
    n_cases: int = 0

    def __bool__(self) -> bool:
        return bool(self.ok)

    def __str__(self) -> str:
        return self.message
