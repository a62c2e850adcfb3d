"""OCP server: workspace index, session memory and model routing for IDE agents over MCP."""

from importlib.metadata import version as _version

__version__ = _version("ocp-server")
__all__ = ["__version__"]
