"""Citations resolved on save: every form (`path:start-end`, `path#L6-L8`, `path:symbol`, a
bare or dotted symbol, a function nested in one) to lines, a hash and the definition they
belong to; those that cannot be resolved refused, naming the field, with nothing saved."""

from __future__ import annotations

import os

import pytest

from ocp_router.redact_names import redact_name
from ocp_server.memory import DecisionIn, NoteIn
from tests.server.citations import NESTED_CITED, NESTED_MOVED, NESTED_PY, OVERLOADED_PY, Repo


async def test_every_citation_form_resolves_to_lines_a_hash_and_the_symbol(repo: Repo) -> None:
    sid = await repo.memory.start_session(str(repo.root))
    result = await repo.memory.save(
        sid,
        decisions=[
            DecisionIn(
                "Auth",
                "tokens and sessions live in src/auth.py",
                citations=(
                    "verify_token",
                    "src/auth.py:17-21",
                    "SessionStore.rotate_session",  # the same lines: stored once
                    "web/billing.ts:totalCents",
                    f"{repo.root}/src/auth.py#L19-L20",
                ),
            )
        ],
        notes=[NoteIn("the class keeps sessions in memory", ("src/auth.py:SessionStore",))],
    )
    assert [(c.field, c.citation, c.symbol) for c in result.citations] == [
        ("decisions[0]", "src/auth.py:6-8", "verify_token"),
        ("decisions[0]", "src/auth.py:17-21", "SessionStore.rotate_session"),
        ("decisions[0]", "web/billing.ts:6-9", "totalCents"),
        ("decisions[0]", "src/auth.py:19-20", "SessionStore.rotate_session"),
        ("notes[0]", "src/auth.py:11-21", "SessionStore"),
    ]
    rows = await repo.memory.db.execute_fetchall(
        "SELECT path, start_line, end_line, whole, length(content_hash), content "
        "FROM memory_citations ORDER BY id"
    )
    first = tuple(next(iter(rows)))
    assert first[:5] == ("src/auth.py", 6, 8, 1, 32)
    assert first[5].startswith("def verify_token(token: str, secret: str) -> bool:")
    brief = await repo.memory.restore()
    assert brief.decisions[0].verified == "valid"
    assert brief.notes[0].verified == "valid"
    assert "[valid: src/auth.py:6-8; valid: src/auth.py:17-21" in brief.text


@pytest.mark.parametrize(
    ("citation", "message"),
    [
        ("nope_not_defined", "no definition named 'nope_not_defined' in the index"),
        ("src/auth.py:40-42", "the file has 21 lines"),
        ("src/auth.py:9-3", "1 <= start <= end"),
        (".env:1", "not in the workspace index"),  # a secret file is never read
        ("node_modules/lib/index.js:1", "not in the workspace index"),
        ("../outside.py:1", "inside the workspace"),
        ("/etc/passwd:1", "outside the workspace"),
        ("what is this?", "is not a citation"),
        ("src/auth.py\x00:1-2", "holds a NUL character"),  # no path can: it was a crash
        ("/tmp\x00/x.py:1", "holds a NUL character"),
    ],
)
async def test_a_citation_that_cannot_be_resolved_names_the_field_and_saves_nothing(
    repo: Repo, citation: str, message: str
) -> None:
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match=r"^`decisions\[1\]\.citations\[0\]`: ") as err:
        await repo.memory.save(
            sid,
            decisions=[DecisionIn("Fine", "fine"), DecisionIn("Bad", "bad", citations=(citation,))],
        )
    assert message in str(err.value)
    count = await repo.memory.db.execute_fetchall("SELECT count(*) FROM decisions")
    assert next(iter(count))[0] == 0


async def test_an_absolute_citation_into_a_symlink_loop_names_the_field(repo: Repo) -> None:
    os.symlink("loop_b", repo.root / "loop_a")
    os.symlink("loop_a", repo.root / "loop_b")
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match=r"^`decisions\[0\]\.citations\[0\]`: "):
        await repo.memory.save(
            sid, decisions=[DecisionIn("Loop", "x", citations=(f"{repo.root}/loop_a/x.py:1",))]
        )


async def test_an_ambiguous_symbol_lists_the_places_to_choose_from(repo: Repo) -> None:
    repo.write("src/other.py", "def verify_token(token):\n    return bool(token)\n")
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match="ambiguous") as err:
        await repo.memory.save(sid, notes=[NoteIn("x", ("verify_token",))])
    assert "src/auth.py:verify_token" in str(err.value)
    assert "src/other.py:verify_token" in str(err.value)
    saved = await repo.memory.save(sid, notes=[NoteIn("x", ("src/other.py:verify_token",))])
    assert saved.citations[0].citation == "src/other.py:1-2"


async def test_an_overloaded_function_cited_by_name_is_its_implementation(repo: Repo) -> None:
    repo.write("src/parsing.py", OVERLOADED_PY)
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    for cited in ("parse", "src/parsing.py:parse"):
        saved = await repo.memory.save(sid, notes=[NoteIn(f"parse via {cited}", (cited,))])
        assert (saved.citations[0].citation, saved.citations[0].symbol) == (
            "src/parsing.py:12-14",
            "parse",
        )
    # Two implementations are still two: the overloads decide nothing.
    repo.write("src/other.py", "def parse(raw):\n    return raw\n")
    await repo.reindex()
    with pytest.raises(ValueError, match="ambiguous"):
        await repo.memory.save(sid, notes=[NoteIn("parse again", ("parse",))])


async def test_functions_nested_in_functions_are_cited_by_their_dotted_name(repo: Repo) -> None:
    # The index does not chunk function bodies: "no definition named 'with_retries.backoff'".
    repo.write("src/retry.py", NESTED_PY)
    repo.write("src/pacing.py", "def backoff(n):\n    return n\n")  # the same name, top level
    await repo.reindex()
    result = await repo.note(
        "backoff doubles, capped at 30 s",
        "with_retries.backoff",
        "src/retry.py:with_retries.Budget.spend",
        "Client.send.encode",
    )
    assert [(c.citation, c.symbol) for c in result.citations] == NESTED_CITED
    # Lines inserted above: the nested definitions are followed by their names.
    assert [(c.status, c.citation) for c in await repo.nested_followed()] == NESTED_MOVED
    # Its body edited: stale, saying what changed in it.
    repo.edit("src/retry.py", "min(2**n, 30)", "min(3**n, 60)")
    (stale,) = (await repo.memory.restore()).stale
    assert stale.citations[0].change == (
        "`with_retries.backoff` changed: -`return min(2**n, 30)` +`return min(3**n, 60)`"
    )


async def test_a_nested_name_that_is_not_defined_is_refused(repo: Repo) -> None:
    repo.write("src/retry.py", NESTED_PY)
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match="no definition named 'with_retries.missing'"):
        await repo.memory.save(sid, notes=[NoteIn("x", ("with_retries.missing",))])


async def test_an_ambiguous_name_holding_a_token_is_not_cut_inside_it(repo: Repo) -> None:
    # the list of places is cut to 600 characters: cut inside the token, its head matched no
    # pattern and stayed in the error the agent's model reads (the raw citation's copy did not)
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    for pad in range(1, 80):  # a folder name that puts the 600th character inside a token
        paths = [f"src/{'d' * pad}/m{i}.py" for i in range(12)]
        place = f"{paths[0]}:{token} ({paths[0]}:1-2), "
        at = 600 % len(place) - len(paths[0]) - 1  # where in the token the cut falls
        if 6 < at < len(token) - 6:
            break
    for path in paths:
        repo.write(path, f"def {token}():\n    return 1\n")
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match="ambiguous") as err:
        await repo.memory.save(sid, notes=[NoteIn("x", (token,))])
    shown = redact_name(str(err.value)).text  # as every tool's answer is redacted
    assert "[REDACTED:github_token]" in shown
    assert "ghp_" not in shown
