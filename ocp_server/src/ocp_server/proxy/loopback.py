"""Whether a host is this machine: the proxy's admission (origin.py) and the MCP server's
telling of the proxy's address (own_address.py) share the one test."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    """A loopback address or name (a host name, `host:port` or `[v6]:port` as in `Host`)."""
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
