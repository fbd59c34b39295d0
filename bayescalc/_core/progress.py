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


def progress_bar(total=None, *, enabled: bool = True, desc: str | None = None):
    """A tqdm bar when ``enabled`` (and tqdm is importable), else a do-nothing bar."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)
