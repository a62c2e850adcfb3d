"""ocp_client speaks the wire models: one tool method per `ToolShape`, carrying exactly its
argument model's fields with the model's defaults; what it sends is built from those models and
what it receives is checked by them. Adding a field to a wire model without carrying it in the
client fails here."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.message import SessionMessage
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field
from pydantic_core import PydanticUndefined

import ocp_wire as wire
from ocp_client import OCPClient, OCPToolError
from ocp_client import client as client_module
from tests.fakes import FakeOllama
from tests.server.stdio_env import server_env, wait_for_index


def surface_mismatches(client: type, shapes: tuple[wire.ToolShape[Any, Any], ...]) -> list[str]:
    """Where the client's tool methods and the wire models part, one line each."""
    found = []
    for shape in shapes:
        method = getattr(client, shape.method, None)
        if method is None:
            found.append(f"{shape.verb}: no method {client.__name__}.{shape.method}")
            continue
        params = dict(list(inspect.signature(method).parameters.items())[1:])  # without self
        fields = shape.args.model_fields
        for name in sorted(fields.keys() - params.keys()):
            found.append(f"{shape.method}: wire field {name!r} is not an argument")
        for name in sorted(params.keys() - fields.keys()):
            found.append(f"{shape.method}: argument {name!r} is not a wire field")
        for name in sorted(fields.keys() & params.keys()):
            wanted = fields[name].get_default(call_default_factory=True)
            given = params[name].default
            if wanted is PydanticUndefined:
                if given is not inspect.Parameter.empty:
                    found.append(f"{shape.method}: {name!r} is required on the wire")
            elif given is inspect.Parameter.empty:
                found.append(f"{shape.method}: {name!r} has a default on the wire ({wanted!r})")
            elif given is not None and client_module._plain(given) != wanted:
                found.append(f"{shape.method}: {name!r} defaults to {given!r}, not {wanted!r}")
    return found


def test_every_tool_has_a_client_method_carrying_exactly_its_wire_arguments() -> None:
    assert surface_mismatches(OCPClient, wire.TOOL_SHAPES) == []
    assert [shape.method for shape in wire.TOOL_SHAPES] == ["search", "restore", "route", "save"]


class _SearchArgsWithANewField(wire.SearchArgs):
    since: str | None = Field(None, description="A field the client does not carry yet")


class _WidgetArgs(BaseModel):
    size: int = 3


def test_the_check_catches_a_new_wire_field_a_changed_default_and_a_tool_without_a_method() -> None:
    grown = wire.ToolShape("ocp.context.search", _SearchArgsWithANewField, wire.SearchResult)
    new_tool = wire.ToolShape("ocp.widget.make", _WidgetArgs, wire.SaveResult)
    assert surface_mismatches(OCPClient, (grown, new_tool)) == [
        "search: wire field 'since' is not an argument",
        "ocp.widget.make: no method OCPClient.make",
    ]

    class Drifted(OCPClient):
        async def restore(  # type: ignore[override]
            self,
            query: str | None = None,
            *,
            max_tokens: int = 1000,
            workspace: str | None = None,
            answer_of: str | None = None,
            answer_from: int = 0,
            decision: int | None = None,
        ) -> wire.RestoreResult:
            raise AssertionError("never called")

    assert surface_mismatches(Drifted, (wire.RESTORE,)) == [
        "restore: wire field 'stale' is not an argument",
        "restore: 'max_tokens' defaults to 1000, not 2000",
    ]


SAVED = {
    "session_id": "s",
    "saved": {},
    "decision_ids": [],
    "note_ids": [],
    "open_item_ids": [],
    "citations": [],
    "suggested": [],
    "merged": [],
    "forgotten": [],
    "warnings": [],
}


async def test_a_result_that_breaks_the_wire_model_is_rejected_and_a_good_one_passes() -> None:
    """Checked with the pydantic models instead of the SDK's jsonschema pass (same verdict, a
    fortieth of the cost); other tools keep the SDK's check."""
    send, sent = anyio.create_memory_object_stream[SessionMessage](1)
    to_client, receive = anyio.create_memory_object_stream[SessionMessage | Exception](1)
    session = client_module._Session(receive, send)
    good = CallToolResult(content=[TextContent(type="text", text="ok")], structured_content=SAVED)
    await session.validate_tool_result("ocp_result_save", good)
    await session.validate_tool_result("ocp.result.save", good)
    bad = good.model_copy(update={"structured_content": {"session_id": "s"}})
    with pytest.raises(RuntimeError, match="Invalid structured content returned by tool"):
        await session.validate_tool_result("ocp_result_save", bad)
    for stream in (send, sent, to_client, receive):
        await stream.aclose()


class _Recorder(OCPClient):
    """Records what a tool method sends instead of starting a server."""

    def __init__(self, answer: Mapping[str, Any], *, error: bool = False) -> None:
        super().__init__("unused")
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._answer, self._error = dict(answer), error

    async def call(self, name: str, arguments: Mapping[str, Any]) -> CallToolResult:
        self.sent.append((name, dict(arguments)))
        return CallToolResult(
            content=[TextContent(type="text", text="`k`: at most 50")],
            structured_content=None if self._error else self._answer,
            is_error=self._error,
        )


async def test_a_method_sends_the_wire_name_and_only_what_differs_from_the_wire_defaults() -> None:
    client = _Recorder(SAVED)
    saved = await client.save(
        decisions=[wire.DecisionArg(title="t", decision="d", citations=["src/a.py:1-2"])],
        notes=["plain", wire.NoteArg(text="tied", citations=["verify_token"])],
        state={"phase": "review"},
        resolve=(3,),
        workspace=None,
    )
    assert isinstance(saved, wire.SaveResult) and saved.session_id == "s"
    assert client.sent == [
        (
            "ocp_result_save",
            {
                "decisions": [{"title": "t", "decision": "d", "citations": ["src/a.py:1-2"]}],
                "notes": ["plain", {"text": "tied", "citations": ["verify_token"]}],
                "state": {"phase": "review"},
                "resolve": [3],
            },
        )
    ]
    client._error = True  # what the server answers does not matter here
    with pytest.raises(OCPToolError):
        await client.route("explain", dry_run=False, force="top", effort="none")
    assert client.sent[-1] == (
        "ocp_model_route",
        {"request": "explain", "force": "top", "effort": "none"},
    )


async def test_run_calls_any_tool_by_its_shape_and_refuses_an_argument_the_model_lacks() -> None:
    client = _Recorder(SAVED)
    assert (await client.run(wire.SAVE, summary="done")).session_id == "s"
    assert client.sent == [("ocp_result_save", {"summary": "done"})]
    with pytest.raises(TypeError, match="ocp_result_save has no argument sumary; it takes"):
        await client.run(wire.SAVE, sumary="done")
    assert len(client.sent) == 1, "nothing is sent for an unknown argument"


async def test_a_tool_error_is_raised_with_the_servers_message() -> None:
    with pytest.raises(OCPToolError, match="`k`: at most 50"):
        await _Recorder({}, error=True).search("x", k=99)


async def test_call_names_an_argument_it_cannot_send_and_refuses_no_mapping() -> None:
    # A session on streams nobody reads: the old errors came from dict(None) and pydantic.
    send, sent = anyio.create_memory_object_stream[SessionMessage](1)
    to_client, receive = anyio.create_memory_object_stream[SessionMessage | Exception](1)
    client = OCPClient("unused")
    client._session = client_module._Session(receive, send)
    try:
        with pytest.raises(
            TypeError, match=r"arguments must be a mapping .*\{\} for none.*NoneType"
        ):
            await client.call("ocp_context_search", None)  # type: ignore[arg-type]
        with pytest.raises(
            TypeError,
            match=r"argument 'when' cannot be sent as JSON .*'object'.*expected str",
        ):
            await client.call("ocp_context_search", {"query": "x", "when": object()})
        with pytest.raises(TypeError, match=r"argument 'state' cannot be sent"):
            await client.run(wire.SAVE, state={"phase": object()})
    finally:
        client._session = None
        for stream in (send, sent, to_client, receive):
            await stream.aclose()


def test_without_a_command_it_starts_the_server_next_to_it_or_on_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util
    import shutil

    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ocp_server" else found(name, *a),
    )
    monkeypatch.setattr(shutil, "which", lambda name: f"/opt/bin/{name}")
    assert client_module._installed_server(["-v"]) == ("/opt/bin/ocp-server", ["-v"])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"pip install ocp-client\[server\]"):
        OCPClient()


def test_a_folder_named_ocp_server_is_not_taken_for_the_installed_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A script run beside a folder called ocp_server (an OCP checkout's) found it as a
    # namespace package, and started `python -m ocp_server.cli`: "No module named".
    import importlib.machinery
    import importlib.util
    import shutil

    (tmp_path / "ocp_server").mkdir()
    folder = importlib.machinery.PathFinder.find_spec("ocp_server", [str(tmp_path)])
    assert folder is not None and folder.origin is None  # what such a folder is found as
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: folder)
    monkeypatch.setattr(shutil, "which", lambda name: f"/opt/bin/{name}")
    assert client_module._installed_server([]) == ("/opt/bin/ocp-server", [])


def test_a_string_for_args_is_refused_instead_of_split_into_characters() -> None:
    """`OCPClient("python", "server.py")` started `python s e r v e r . p y`."""
    with pytest.raises(TypeError, match=r"args must be a sequence of strings, not a str"):
        OCPClient("python", "server.py")
    with pytest.raises(TypeError, match=r"args\[1\] must be a str or a path, got 3 \(int\)"):
        OCPClient("python", ["-c", 3])  # type: ignore[list-item]


def test_a_command_line_as_a_list_is_refused_naming_command_and_args() -> None:
    """`OCPClient(["uvx", "ocp-server@0.4.0"])`, as an IDE's config spells a server, said
    "expected str, bytes or os.PathLike object, not list", naming no argument."""
    with pytest.raises(TypeError, match=r"command must be a str or a path, got a list") as caught:
        OCPClient(["uvx", "ocp-server@0.4.0"])  # type: ignore[arg-type]
    assert "OCPClient('uvx', ['ocp-server@0.4.0'])" in str(caught.value)
    with pytest.raises(TypeError, match=r"command must be a str or a path, got 3 \(int\)"):
        OCPClient(3)  # type: ignore[arg-type]


async def test_a_whole_command_line_in_command_is_named_with_the_fix() -> None:
    """`OCPClient("uvx ocp-server@0.4.0")` looked for a program of that whole name."""
    line = f"{sys.executable} -m ocp_server.cli"
    with pytest.raises(FileNotFoundError) as caught:
        await asyncio.wait_for(OCPClient(line).__aenter__(), 10)
    assert f"OCPClient({sys.executable!r}, ['-m', 'ocp_server.cli'])" in str(caught.value)
    # A path with a space in it is a path: no program of its first word, no hint.
    with pytest.raises(FileNotFoundError) as caught:
        await asyncio.wait_for(OCPClient("/opt/My Apps/ocp-server").__aenter__(), 10)
    assert "args" not in str(caught.value)


def test_paths_are_accepted_for_the_command_and_its_arguments() -> None:
    client = OCPClient(Path("/opt/python"), [Path("/srv/server.py"), "-v"])
    assert client.command_line == "/opt/python /srv/server.py -v"


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "5", True])
def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_refused(timeout: Any) -> None:
    with pytest.raises((TypeError, ValueError), match=r"timeout must be a number of seconds > 0"):
        OCPClient("python", timeout=timeout)


def test_an_env_value_that_is_not_a_string_is_named() -> None:
    with pytest.raises(TypeError, match=r"env\['OCP_MAX_FILES'\] must be a str, got 10 \(int\)"):
        OCPClient("python", env={"OCP_MAX_FILES": 10})  # type: ignore[dict-item]


async def test_restore_sends_the_id_of_the_one_decision_to_show() -> None:
    # A brief's `replaces #12` named a decision no tool could show; restore shows it by id.
    client = _Recorder(SAVED)
    client._error = True  # what the server answers does not matter here
    with pytest.raises(OCPToolError):
        await client.restore(decision=12)
    assert client.sent[-1] == ("ocp_session_restore", {"decision": 12})


async def test_a_lone_surrogate_in_an_argument_is_named_and_the_server_keeps_serving(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    # A query holding a lone surrogate (a file name read with surrogateescape, "\udcff") passed
    # the JSON check, then failed in the SDK's writer task: the connection closed, and the
    # caller read "ocp-server closed the connection (exit status 0)" as the server's fault.
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify_token")
        with pytest.raises(
            TypeError, match=r"argument 'query' cannot be sent as JSON: it holds a lone surrogate"
        ):
            await client.search("verify_token \udcff")
        with pytest.raises(TypeError, match=r"argument 'notes' cannot be sent as JSON"):
            await client.save(notes=["seen in caf\udce9.py"])
        assert (await client.search("verify_token")).results  # the same server still answers


async def test_a_status_the_server_cannot_give_is_a_tool_error_naming_why(
    workspace: Path, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    # The status resource answered with an error (the database cannot be opened: its folder
    # is a file) came out as the SDK's own MCPError, which a caller catching OCPToolError, as
    # for every tool's error, did not catch.
    (tmp_path / "notadir").write_text("a file where the database's folder should be\n")
    env = server_env(workspace, fake_ollama, db_path=tmp_path / "notadir" / "ocp.db")
    async with OCPClient(env=env) as client:
        with pytest.raises(OCPToolError, match=r"cannot open the OCP database at .*notadir"):
            await client.index_status()
        assert len(await client.list_tools()) == 4  # the same server still answers
