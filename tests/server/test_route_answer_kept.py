"""A model's answer cut to fit what Claude Code accepts of a tool's result (d988aa8) was kept
nowhere: its note said "the rest was not kept", and the agent lost the tail of an answer
already paid for in time (or money). Now the whole answer is kept with the route's trace,
and the note names the call that gives the rest: the session restore tool with `answer_of`
(the trace id) and `answer_from`, each part again within what the client accepts, until
the whole answer has been read. Over real stdio, posing as Claude Code."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from ocp_server.client_limits import RESULT_TOKEN_LIMITS
from tests.fakes import FakeOllama
from tests.server.result_sizes import sized_session, sized_workspace, whole_size

LIMIT = RESULT_TOKEN_LIMITS["claude-code"]
ANSWER = "".join(f"Step {n}: resize the frame, then lay out its widgets.\n" for n in range(4_000))


def _restore(server: Any, **args: Any) -> dict[str, Any]:
    result = server.call_tool("ocp_session_restore", args)["result"]
    assert not result["isError"], result
    assert whole_size(result) <= LIMIT
    return dict(result["structuredContent"])


def test_the_rest_of_an_answer_cut_for_claude_code_is_read_through_the_restore_tool(
    tmp_path: Path,
) -> None:
    sized_workspace(tmp_path)
    with FakeOllama(reply=ANSWER) as ollama:
        server = sized_session(
            tmp_path, "claude-code", OCP_OLLAMA_URL=ollama.url, OCP_LOCAL_MAX_TOKENS="100000"
        )
        try:
            args = {"request": "rename x to count", "force": "local"}
            routed = server.call_tool("ocp_model_route", args)["result"]["structuredContent"]
            trace = routed["trace"]["trace_id"]
            read = routed["answer"]
            assert len(read) < len(ANSWER)
            assert (
                f"ocp_session_restore with answer_of='{trace[:8]}' and answer_from={len(read)}"
                in routed["note"]
            ), routed["note"]
            parts = []
            while True:
                part = _restore(
                    server, answer_of=trace[:8], answer_from=len(read), max_tokens=20_000
                )
                assert part["answer"], part
                parts.append(part)
                read += part["answer"]
                if "answer_from=" not in part["note"]:
                    break
                assert f"answer_from={len(read)}" in part["note"], part["note"]
            # named as `ocp_result_save` takes a trace id: a uuid's dashes, capitals (was "no
            # answer of a route … is kept")
            dashed = _restore(server, answer_of=str(uuid.UUID(trace)).upper(), max_tokens=20_000)
            brief = _restore(server)  # memory as before: no answer in it
            unknown = server.call_tool("ocp_session_restore", {"answer_of": "0" * 32})["result"]
        finally:
            server.kill()
    assert read == ANSWER
    assert len(parts) >= 2 and parts[-1]["note"].endswith("(its end).")
    assert ANSWER.startswith(dashed["answer"]) and dashed["answer"], dashed
    assert "answer" not in brief
    assert (
        unknown["isError"] and "`answer_of`: expected the trace id" in unknown["content"][0]["text"]
    )
