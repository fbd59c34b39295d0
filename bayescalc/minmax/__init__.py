"""Gradient-based min-max games: GDA and its stable variants, game analysis."""

__all__: list[str] = []
