"""chat_messages turns a payload's history back into a conversation a chat API accepts: roles
merged and alternating, opening with the user, the system first only when inline."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ocp_router import GenerateRequest, Turn, parse_payload
from ocp_router.backends.base import chat_messages
from tests.router.agent_conversations import OPENAI_CONVERSATION


def test_chat_messages_merges_consecutive_turns_of_the_same_role() -> None:
    request = GenerateRequest(
        "and the third?",
        history=(Turn("user", "first"), Turn("user", "second"), Turn("assistant", "ok")),
    )
    assert chat_messages(request, system_inline=False) == [
        {"role": "user", "content": "first\n\nsecond"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "and the third?"},
    ]


def test_chat_messages_merges_the_prompt_into_a_trailing_user_turn() -> None:
    request = GenerateRequest("the question", history=(Turn("user", "[0 tool calls, 1 result]"),))
    assert chat_messages(request, system_inline=False) == [
        {"role": "user", "content": "[0 tool calls, 1 result]\n\nthe question"}
    ]


def test_chat_messages_never_starts_with_an_assistant_turn() -> None:
    request = GenerateRequest(
        "q2",
        history=(
            Turn("assistant", "Hello! How can I help?"),
            Turn("assistant", "[1 tool calls, 0 tool results]"),
            Turn("user", "q1"),
            Turn("assistant", "a1"),
        ),
    )
    assert chat_messages(request, system_inline=False) == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]


def test_chat_messages_skips_empty_turns() -> None:
    request = GenerateRequest("q", history=(Turn("user", "a"), Turn("assistant", "")))
    assert chat_messages(request, system_inline=False) == [{"role": "user", "content": "a\n\nq"}]


def test_chat_messages_puts_the_system_first_only_when_inline() -> None:
    request = GenerateRequest(
        "q2", system="Be terse.", history=(Turn("user", "q1"), Turn("assistant", "a1"))
    )
    inline = chat_messages(request, system_inline=True)
    assert inline[0] == {"role": "system", "content": "Be terse."}
    assert [m["role"] for m in inline] == ["system", "user", "assistant", "user"]
    separate = chat_messages(request, system_inline=False)
    assert [m["role"] for m in separate] == ["user", "assistant", "user"]
    assert all("Be terse." not in m["content"] for m in separate)


def test_chat_messages_of_an_empty_request_is_one_user_turn() -> None:
    assert chat_messages(GenerateRequest(""), system_inline=True) == [
        {"role": "user", "content": ""}
    ]


_TURNS = st.lists(
    st.builds(Turn, st.sampled_from(["user", "assistant"]), st.text(max_size=8)), max_size=8
)


@given(history=_TURNS, prompt=st.text(min_size=1, max_size=8))
def test_chat_messages_alternate_roles_and_open_with_the_user(
    history: list[Turn], prompt: str
) -> None:
    messages = chat_messages(
        GenerateRequest(prompt, system="sys", history=tuple(history)), system_inline=True
    )
    assert messages[0] == {"role": "system", "content": "sys"}
    roles = [m["role"] for m in messages[1:]]
    assert roles[0] == "user" and roles[-1] == "user"
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
    assert messages[-1]["content"].endswith(prompt)


def test_a_parsed_agent_conversation_becomes_a_valid_chat() -> None:
    p = parse_payload(OPENAI_CONVERSATION)
    request = GenerateRequest(p.user_turn, system=p.system, history=p.history())
    messages = chat_messages(request, system_inline=True)
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert messages[-1]["content"] == "and the one in this screenshot?"
