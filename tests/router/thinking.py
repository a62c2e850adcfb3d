"""A request routed through a local backend, for the tests of its thinking in each dialect."""

from __future__ import annotations

from ocp_router import (
    MockBackend,
    ModelBackend,
    OCPRouter,
    RouteResult,
)


async def routed_by(local: ModelBackend) -> RouteResult:
    """A simple request routed with `local` as the local tier (a mock paid tier)."""
    router = OCPRouter(local=local, paid=MockBackend(lambda r: "paid", model="p"))
    try:
        return await router.route("rename this variable")
    finally:
        await router.aclose()
