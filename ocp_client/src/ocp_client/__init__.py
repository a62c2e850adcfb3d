"""Async client SDK for ocp-server."""

__all__: list[str] = []
