"""Progress bars for long work (tqdm), always switchable off with ``progress=False``."""

from __future__ import annotations


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


#: Work of at least this many evaluations shows a bar unless ``progress=False`` (about
#: a second or more for a cheap vectorized integrand).
LONG_RUN_EVALS = 1_000_000


def is_long(n_evals, progress) -> bool:
    """Whether to show a bar: ``progress`` if given, else whether the work is long."""
    if progress is None:
        return n_evals >= LONG_RUN_EVALS
    if not isinstance(progress, (bool, int)):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    return bool(progress)


def progress_bar(total=None, *, enabled: bool = True, desc: str | None = None):
    """A tqdm bar when ``enabled`` (and tqdm is importable), else a do-nothing bar."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)
