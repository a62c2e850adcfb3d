"""The tools: one table for the server (which advertises them) and the client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, get_args

from pydantic import BaseModel

from ocp_wire.restore import RestoreArgs, RestoreResult
from ocp_wire.route import RouteArgs, RouteResult
from ocp_wire.save import SaveArgs, SaveResult
from ocp_wire.search import SearchArgs, SearchResult

ArgsT = TypeVar("ArgsT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)

#: How the tools are named (OCP_TOOL_NAMES): `ocp_context_search`, or `ocp.context.search`.
ToolNameStyle = Literal["underscore", "dotted"]
TOOL_NAME_STYLES: tuple[ToolNameStyle, ...] = get_args(ToolNameStyle)  # the default first


@dataclass(frozen=True, slots=True)
class ToolShape(Generic[ArgsT, ResultT]):
    """A tool's names and models. `verb` is dotted (the tool's title, and its name with
    OCP_TOOL_NAMES=dotted); `name` is the underscore form most clients need; `method` is the
    verb's last word, the name of the tool's method on `ocp_client.OCPClient`."""

    verb: str
    args: type[ArgsT]
    result: type[ResultT]

    @property
    def name(self) -> str:
        return self.verb.replace(".", "_")

    @property
    def method(self) -> str:
        return self.verb.rsplit(".", 1)[-1]

    def name_in(self, style: ToolNameStyle) -> str:
        """The name advertised under OCP_TOOL_NAMES=`style`."""
        return self.verb if style == "dotted" else self.name


SEARCH = ToolShape("ocp.context.search", SearchArgs, SearchResult)
RESTORE = ToolShape("ocp.session.restore", RestoreArgs, RestoreResult)
ROUTE = ToolShape("ocp.model.route", RouteArgs, RouteResult)
SAVE = ToolShape("ocp.result.save", SaveArgs, SaveResult)
TOOL_SHAPES: tuple[ToolShape[Any, Any], ...] = (SEARCH, RESTORE, ROUTE, SAVE)
