"""Async client SDK for ocp-server: start it over stdio and call its tools with typed results."""

from importlib.metadata import version as _version

from ocp_client.client import OCPClient, OCPServerError, OCPTimeoutError, OCPToolError

__version__ = _version("ocp-client")
__all__ = ["OCPClient", "OCPServerError", "OCPTimeoutError", "OCPToolError", "__version__"]
