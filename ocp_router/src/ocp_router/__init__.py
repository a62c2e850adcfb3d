"""Local-first model routing."""

__all__: list[str] = []
