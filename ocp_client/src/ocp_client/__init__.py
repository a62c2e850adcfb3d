"""Async client SDK for ocp-server: start it over stdio and call its tools with typed results."""

from ocp_client.client import OCPClient, OCPToolError

__all__ = ["OCPClient", "OCPToolError"]
