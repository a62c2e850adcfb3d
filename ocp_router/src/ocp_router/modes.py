"""How a router is told to route: decide per request or force one tier, and what to do
when the paid tier is needed but missing or failing."""

from __future__ import annotations

from enum import StrEnum


class RouteMode(StrEnum):
    """`auto` decides per request; `local` and `paid` force every request to one tier."""

    AUTO = "auto"
    LOCAL = "local"
    PAID = "paid"


class PaidFallback(StrEnum):
    """What to do when a request needs the paid tier and it is missing or failing."""

    LOCAL = "local"
    ERROR = "error"
