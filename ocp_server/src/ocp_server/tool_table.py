"""The four tools as the server lists them: each one's wire shape, description, handler and
annotations, and the `tools/list` answer made from them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.types import ListToolsResult, Tool, ToolAnnotations
from pydantic import BaseModel

import ocp_wire as wire
from ocp_server.client_limits import tool_meta
from ocp_server.render import ToolAnswer, restore_answer
from ocp_server.settings import ServerSettings

if TYPE_CHECKING:
    # Loaded after `initialize` is answered (server._load_app).
    from ocp_server.app import AppState
    from ocp_server.workspaces import Workspace

__all__ = ["Handler", "TOOLS", "ToolSpec", "list_tools_result"]

Handler = Callable[["AppState", "Workspace | None", Any], Awaitable[BaseModel | ToolAnswer]]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    shape: wire.ToolShape[Any, Any]  # names and models, shared with ocp_client
    description: str
    handler: Handler
    # read_only: changes nothing of the user's (OCP's own index and memory live in .ocp/ of
    # a configured workspace); open_world: reaches outside the machine (paid model providers).
    read_only: bool
    needs_workspace: bool = True
    open_world: bool = False

    @property
    def verb(self) -> str:
        return self.shape.verb

    @property
    def args(self) -> type[BaseModel]:
        return self.shape.args

    @property
    def output(self) -> type[BaseModel]:
        return self.shape.result

    @property
    def underscore(self) -> str:
        return self.shape.name


async def _search(state: AppState, ws: Workspace | None, args: wire.SearchArgs) -> ToolAnswer:
    assert ws is not None
    return await state.search_answer(ws, args)


async def _restore(state: AppState, ws: Workspace | None, args: wire.RestoreArgs) -> ToolAnswer:
    assert ws is not None
    return restore_answer(await state.restore(ws, args), state.client)  # the brief sent once


async def _route(state: AppState, ws: Workspace | None, args: wire.RouteArgs) -> BaseModel:
    return await state.route(ws, args)


async def _save(state: AppState, ws: Workspace | None, args: wire.SaveArgs) -> BaseModel:
    assert ws is not None
    return await state.save(ws, args)


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        wire.SEARCH,
        "Find the code that answers a question in this workspace: the most relevant "
        "definitions and text chunks, each cited as path:start-end, from an always-fresh "
        "index. Use before opening files. Accepts identifiers in any spelling "
        "(verify_token, verifyToken, 'verify token') or plain questions.",
        _search,
        read_only=True,
    ),
    ToolSpec(
        wire.RESTORE,
        "Restore what earlier sessions left: active decisions with reasons, each checked "
        "against the code it cites (valid, moved, or listed apart as stale with what changed), "
        "open items, key/value state, summaries, notes and notable model routes, most relevant "
        "and most recent first, the whole result within max_tokens. Call at the start of a task.",
        _restore,
        read_only=True,
    ),
    ToolSpec(
        wire.ROUTE,
        "Answer a request on the right model: simple requests go to a local model (private, "
        "free); complex ones to a paid model (mid, or top for the hardest) with retrieved code "
        "context and the session brief, secrets redacted. Pass `request`, or a whole "
        "conversation as `messages` (with `system`/`tools`). Failures escalate to the next "
        "tier; budgets are respected. Returns the answer and the full routing trace. Without a "
        "paid API key, complex requests come back as an enriched prompt for you to answer.",
        _route,
        read_only=False,
        needs_workspace=False,
        open_world=True,
    ),
    ToolSpec(
        wire.SAVE,
        "Save what the next session should know: a summary, decisions (which may supersede "
        "earlier ones by id; saved again under its title, reworded, one supersedes the old "
        "one), key/value state, notes and open items, and the outcome of a "
        "routed answer (by trace_id). Cite the code a decision or note is about (citations: "
        "path:start-end or a symbol) so later sessions are told when it changes; forget "
        "memories by id. Nothing is silently overwritten.",
        _save,
        read_only=False,
    ),
)


def list_tools_result(settings: ServerSettings) -> ListToolsResult:
    return ListToolsResult(
        tools=[
            Tool(
                name=settings.tool_name(spec.shape),
                title=spec.verb,
                description=spec.description,
                input_schema=spec.args.model_json_schema(),
                output_schema=spec.output.model_json_schema(),
                annotations=ToolAnnotations(
                    title=spec.verb,
                    read_only_hint=spec.read_only,
                    destructive_hint=False,
                    open_world_hint=spec.open_world,
                ),
                meta=tool_meta(spec.shape),
            )
            for spec in TOOLS
        ]
    )
