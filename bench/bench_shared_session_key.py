"""What one conversation key shared by the proxy and the MCP server would do under
OCP_STICKY=upward, as IDE agents use the two: the proxy routes the agent's own turns (a
coding agent offers its tools on every one), `ocp_model_route` the requests the agent chooses
to hand off. Each request is decided by one router (the same router both processes run) under
its own key, and under one key `S` shared by both, in the order an agent makes them: its own
turn, then what it delegates. With `--local-tools` the local model
takes tools (OCP_LOCAL_TOOLS=1) and the other direction is shown: a delegated question that
needs a paid model, then the agent's next turn. Decisions only: no model is called, no timing.
The outcome is recorded in docs/routing-rounds.md (round 58, "One key for the proxy and the
MCP server").

    uv run python bench/bench_shared_session_key.py [--local-tools]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ocp_router import LocalProfile, MockBackend, OCPRouter, Sticky, parse_payload

_TOOLS = [
    {"name": name, "description": text, "input_schema": {"type": "object", "properties": {}}}
    for name, text in [("Read", "Read a file"), ("Edit", "Edit a file"), ("Bash", "Run a command")]
]
#: The agent's own turn as a coding agent sends it through the proxy: its tools offered.
AGENT_TURN: dict[str, Any] = {
    "system": "You are an interactive CLI tool that helps users with software engineering tasks.",
    "tools": _TOOLS,
    "messages": [{"role": "user", "content": "the test in tests/test_dates.py fails, fix it"}],
}
#: What an agent hands to `ocp_model_route`: short, self-contained requests.
DELEGATED = [
    "Write a one-line docstring for: def add(a, b): return a + b",
    "Rename the variable `tmp` to `total` in: tmp = 0\nfor x in xs: tmp += x\nprint(tmp)",
    "What does `git status --short` print for an untracked file?",
]
#: A delegated question that needs a paid model (security, architecture).
HARD = (
    "Find the security vulnerability in this authentication flow and explain the race "
    "condition between token refresh and logout across our distributed session store; "
    "propose an architecture change."
)


def _router(local_tools: bool) -> OCPRouter:
    return OCPRouter(
        local=MockBackend(lambda request: "ok"),
        paid=MockBackend(lambda request: "ok"),
        sticky=Sticky.UPWARD,
        local_profile=LocalProfile(tools=local_tools),
    )


async def _tier(router: OCPRouter, payload: Any, session: str) -> str:
    return str((await router.plan(parse_payload(payload), session=session)).tier)


async def main(local_tools: bool) -> None:
    own, shared = _router(local_tools), _router(local_tools)
    order: list[tuple[str, Any, str]] = [("agent's own turn (proxy)", AGENT_TURN, "proxy-turn")]
    if local_tools:
        order.insert(0, ("delegated, needs paid (MCP)", HARD, "mcp-hard"))
    else:
        order += [
            (f"delegated {i + 1} (MCP)", text, f"mcp-{i}") for i, text in enumerate(DELEGATED)
        ]
    print(f"OCP_STICKY=upward, local model takes tools: {local_tools}")
    print(f"{'request':<30} {'own keys':<9} one key S")
    for label, payload, key in order:
        print(
            f"{label:<30} {await _tier(own, payload, key):<9} {await _tier(shared, payload, 'S')}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-tools", action="store_true", help="as OCP_LOCAL_TOOLS=1")
    asyncio.run(main(parser.parse_args().local_tools))
