"""Gradient-based minimize/maximize, critical points and their kind (the core)."""

__all__: list[str] = []
