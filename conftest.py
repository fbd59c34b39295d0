# `python -m bayescalc` runs the CLI on import; doctest collection must not import it.
collect_ignore = ["bayescalc/__main__.py"]
