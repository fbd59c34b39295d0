"""Side-by-side benchmarks against the peers. Run ``python -m bench NAME`` or ``all``."""
