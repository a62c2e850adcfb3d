"""The texts of a forwarded body that are not in a `text` field: a document's plain-text source
(a file the agent attached whole), its title and context, a search result's source, title and
content, a citation's quoted text. The paid model reads them all as it reads a message's text.
Before, the boundary redacted only strings under `text`, `content`, `input`, `arguments`,
`system` and `thinking`: a token in a text document (at the top of a turn or inside a tool
result) reached the provider as it was. What stays as sent: ids, names, types, media types,
signatures and binary sources (an image's or a PDF's base64, a redacted thinking block's data).

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

import json
from typing import Any

from ocp_server.proxy.boundary import redact_body


def _token(i: int) -> str:
    return "ghp_" + f"{i:02d}" + "Zq7wErTy8UiOp3AsDf9GhJkL2ZxCvBnM4q"


def _text_document(data: str) -> dict[str, Any]:
    return {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": data},
    }


def test_the_texts_of_documents_search_results_and_citations_are_redacted() -> None:
    t = [_token(i) for i in range(11)]
    pdf = "JVBERi0xLjQK" + "ghp_" + "A1b2C3d4E5f6" * 3  # base64 noise that reads like a token
    body: dict[str, Any] = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": t[0]},
                        "title": f"deploy notes {t[1]}",
                        "context": f"from the wiki, {t[2]}",
                    },
                    {
                        "type": "document",
                        "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
                    },
                    {
                        "type": "search_result",
                        "source": f"https://wiki.internal/{t[3]}",
                        "title": f"tokens {t[4]}",
                        "content": [{"type": "text", "text": f"found {t[5]}"}],
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "the notes", "signature": "c2lnbmF0dXJl"},
                    {
                        "type": "text",
                        "text": "the notes say so",
                        "citations": [
                            {
                                "type": "char_location",
                                "cited_text": f"use {t[6]}",
                                "document_index": 0,
                                "document_title": f"deploy notes {t[7]}",
                                "start_char_index": 0,
                                "end_char_index": 4,
                            }
                        ],
                    },
                    {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [
                            {
                                "type": "document",
                                "source": {
                                    "type": "text",
                                    "media_type": "text/plain",
                                    "data": t[8],
                                },
                            }
                        ],
                    },
                    {"type": "redacted_thinking", "data": pdf},
                ],
            },
        ]
    }
    counts = redact_body(body)
    sent = json.dumps(body)
    assert [i for i in range(9) if t[i] in sent] == []
    assert sum(counts.values()) >= 9
    user, assistant, results = (m["content"] for m in body["messages"])
    assert user[1]["source"]["data"] == pdf and results[1]["data"] == pdf
    assert assistant[0]["signature"] == "c2lnbmF0dXJl"
    assert (assistant[2]["id"], assistant[2]["name"]) == ("toolu_1", "read_file")
    assert results[0]["tool_use_id"] == "toolu_1"
    assert user[0]["source"]["media_type"] == "text/plain" and user[2]["type"] == "search_result"


def test_the_prose_of_an_answer_schema_is_redacted_as_a_tools_is() -> None:
    t = [_token(i) for i in range(3)]
    schema = {
        "type": "object",
        "description": f"the deploy plan; never print {t[0]}",
        "properties": {"step": {"type": "string", "enum": ["build", "ship"]}},
    }
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": "plan the deploy"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "plan", "description": f"uses {t[1]}", "schema": schema},
        },
        "output_config": {"format": {"type": "json_schema", "schema": {"title": f"p {t[2]}"}}},
    }
    redact_body(body)
    sent = json.dumps(body)
    assert [i for i in range(3) if t[i] in sent] == []
    assert body["response_format"]["json_schema"]["name"] == "plan"
    assert body["response_format"]["json_schema"]["schema"]["properties"]["step"]["enum"] == [
        "build",
        "ship",
    ]
