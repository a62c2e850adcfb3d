"""What MCP clients do with a tool result: which content their model reads, and how large a
result they take; how OCP's answers keep within it (../shared/reference/mcp-clients.md §2, §3).

Claude Code saves a successful result over 50,000 characters to a file and gives its model
the file's name instead, unless the tool's `_meta` in tools/list raises that threshold, up to
500,000: a tool whose answer can be larger says how large (`result_chars`). A search at the
default budget came to 51,372 characters (k=50, group_by file, on pytest's sources); at most
6.4 characters of JSON answer per token of budget were measured (the hits' fields and the JSON
escapes around their texts), and 8 are counted.

Claude Code also refuses a result over MAX_MCP_OUTPUT_TOKENS (25,000 by default), counted by
its model's tokenizer, which counts more than OCP's estimate: a search, a restore and a route
for it keep their whole answer (views.search_for_client, restore_for_client,
route_for_client) to 15,000 tokens of the estimate (about 61,000 characters of a search's
JSON), which leaves it 67% more, 2.4 characters a token. (A search at max_tokens 20,000 came
to 30,205; a restore at 20,000 to 15,254 of its structured part read alone.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ocp_wire as wire
from ocp_server.settings import MAX_SEARCH_TOKENS
from ocp_wire.restore import MAX_RESTORE_TOKENS

RESULT_CHARS_META = "anthropic/maxResultSizeChars"
MAX_RESULT_CHARS = 500_000
CHARS_PER_BUDGET_TOKEN = 8
CLAUDE_CODE_OUTPUT_TOKENS = 25_000


@dataclass(frozen=True, slots=True)
class ResultReading:
    """How an MCP client (its `initialize`'s clientInfo.name) reads a tool's result."""

    # It passes its model the structured content only, JSON.stringify'd, and drops the text;
    # other clients pass the text (../shared/reference/mcp-clients.md §3).
    structured_only: bool = False
    # It refuses a result over a number of tokens: the tokens (OCP's estimate) a search's,
    # restore's or route's whole answer keeps to for it; None: no such limit.
    result_tokens: int | None = None


# The clients that read a result differently from the text-only, unlimited default; adding
# one is adding its entry. Codex's client (codex-rs/protocol/src/models.rs,
# `From<&CallToolResult> for FunctionCallOutputPayload`: the structured content, when there is
# any, is all its model is given) names itself `codex-mcp-client` (title `Codex`, the name the
# `mcp-client-capabilities` package keys it by).
CLIENT_READING: dict[str, ResultReading] = {
    "claude-code": ResultReading(structured_only=True, result_tokens=15_000),
    "codex-mcp-client": ResultReading(structured_only=True),
    "Codex": ResultReading(structured_only=True),
}
STRUCTURED_ONLY_CLIENTS = frozenset(n for n, r in CLIENT_READING.items() if r.structured_only)
RESULT_TOKEN_LIMITS = {
    n: r.result_tokens for n, r in CLIENT_READING.items() if r.result_tokens is not None
}


def result_chars(max_tokens: int) -> int:
    """What a tool whose answer keeps to `max_tokens` advertises as its largest answer."""
    return min(MAX_RESULT_CHARS, max_tokens * CHARS_PER_BUDGET_TOKEN)


# The tools whose answers can be over what Claude Code shows whole, and their largest. A
# route's answer can hand the agent back its whole conversation with the context: the most.
RESULT_CHARS = {
    wire.SEARCH.verb: result_chars(MAX_SEARCH_TOKENS),
    wire.RESTORE.verb: result_chars(MAX_RESTORE_TOKENS),
    wire.ROUTE.verb: MAX_RESULT_CHARS,
}


def tool_meta(shape: wire.ToolShape[Any, Any]) -> dict[str, Any] | None:
    """The `_meta` a tool is listed with (tools/list): how large its answers can be."""
    chars = RESULT_CHARS.get(shape.verb)
    return {RESULT_CHARS_META: chars} if chars is not None else None
