"""The ranking rules that matter, on small workspaces written for each rule.

Each case failed on the FTS5 ranking this one replaced: prose outranked the code it describes,
a file was only as good as its single best chunk, and "handling retries" never met
`handle_retry`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocp_server.index.features import FEATURES, candidate_features
from ocp_server.index.lexical import ChunkRow
from ocp_server.index.lexicon import identifier_key, terms
from ocp_server.index.query import parse_query
from ocp_server.index.ranking import QUERY_KINDS, load_weights
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.built import built_index
from tests.index.ranked_paths import ranked_paths
from tests.workspace_fixture import git

RETRY_PY = '''"""Outgoing HTTP calls."""


def handle_retry(request, attempt):
    """Wait before the next attempt, longer each time."""
    delay = min(30, 2 ** attempt)
    return request.clone(delay=delay)


def send(request):
    return request.transport.send(request)
'''


CHANGELOG = """# Changes

## 2.4.0

- Retries: handling of retries for outgoing requests is smarter; retries back off
  exponentially, and retries stop after the last attempt. Retries are logged.
- Retries: a retry after a timeout keeps its request id.
"""


async def test_code_comes_before_prose_that_talks_about_it(tmp_path: Path) -> None:
    async with built_index(
        tmp_path / "ws",
        {"src/client/retry.py": RETRY_PY, "CHANGELOG.md": CHANGELOG},
        tmp_path / "ocp.db",
    ) as index:
        assert (await ranked_paths(index, "back off between retries of outgoing requests"))[
            0
        ] == "src/client/retry.py"


async def test_a_question_about_the_docs_may_rank_prose_first(tmp_path: Path) -> None:
    async with built_index(
        tmp_path / "ws",
        {"src/client/retry.py": RETRY_PY, "CHANGELOG.md": CHANGELOG},
        tmp_path / "ocp.db",
    ) as index:
        paths = await ranked_paths(index, "which changelog entry documents the retries change")
        assert paths[0] == "CHANGELOG.md"


async def test_a_changelog_restating_the_request_ranks_below_the_code_it_describes(
    tmp_path: Path,
) -> None:
    # "json" asks for configuration, so prose is not held back as prose; a changelog still is:
    # its entries restate commit messages word for word
    changelog = CHANGELOG + "- Retries: handling of retries when json logging is enabled.\n"
    async with built_index(
        tmp_path / "ws",
        {"src/client/retry.py": RETRY_PY, "History.md": changelog},
        tmp_path / "ocp.db",
    ) as index:
        paths = await ranked_paths(index, "Fix handling of retries when json logging is enabled")
        assert paths[0] == "src/client/retry.py"


def test_stemming_meets_inflected_words() -> None:
    assert set(terms("handling retries")) <= set(terms("handle_retry"))
    assert identifier_key("HandleRetry") == "handle_retry"


async def test_an_inflected_question_finds_the_definition(tmp_path: Path) -> None:
    async with built_index(
        tmp_path / "ws",
        {
            "src/client/retry.py": RETRY_PY,
            "src/client/auth.py": "def sign(request, key):\n    return request.sign(key)\n",
        },
        tmp_path / "ocp.db",
    ) as index:
        top = (await index.search("handling retries", k=3, refresh=False)).results[0]
        assert (top.path, top.symbol) == ("src/client/retry.py", "handle_retry")


def _parser_module(name: str, n: int) -> str:
    parts = [f'"""Parsing of {name} files."""\n']
    for i in range(n):
        parts.append(
            f"\ndef parse_{name}_section_{i}(lines):\n"
            f'    """Parse one section of a {name} file into its keys."""\n'
            f"    return dict(line.split('=', 1) for line in lines)\n"
        )
    return "".join(parts)


SECTION = (
    "def read_section(lines):\n"
    '    """Read one manifest section into keys and values."""\n'
    '    return dict(line.split("=", 1) for line in lines)\n'
)


MORE_SECTION_HELPERS = "".join(
    f"\n\ndef read_{part}(lines):\n"
    f'    """Read the {part} of a manifest section."""\n'
    f"    return [line for line in lines if line]\n"
    for part in ("keys", "values", "defaults", "comments")
)


async def test_evidence_spread_over_a_file_counts(tmp_path: Path) -> None:
    # Both files hold the same best definition; one also has four more about the question.
    # Judged by its single best chunk, the file with one definition tied (and came first).
    async with built_index(
        tmp_path / "ws",
        {"src/a_single.py": SECTION, "src/b_many.py": SECTION + MORE_SECTION_HELPERS},
        tmp_path / "ocp.db",
    ) as index:
        ranked = await ranked_paths(index, "read manifest section keys values")
        assert ranked[0] == "src/b_many.py"


async def test_default_results_show_more_files_before_more_of_one_file(tmp_path: Path) -> None:
    async with built_index(
        tmp_path / "ws",
        {
            "src/manifest.py": _parser_module("manifest", 6),
            "src/config.py": _parser_module("config", 2),
        },
        tmp_path / "ocp.db",
    ) as index:
        results = (await index.search("parse section keys", k=4, refresh=False)).results
        assert [r.path for r in results[:2]].count("src/manifest.py") == 1
        assert len({r.path for r in results[:2]}) == 2
        grouped = (
            await index.search("parse section keys", k=1, refresh=False, group_by_file=True)
        ).results
        assert len({r.path for r in grouped}) == 1 and len(grouped) > 1


def test_the_shipped_weights_fit_the_features() -> None:
    weights = load_weights()
    assert len(weights.kinds) == len(QUERY_KINDS)
    assert all(len(w) == len(FEATURES) for w in (weights.base, *weights.kinds))
    # what the model learned across six repositories: prose is held back, code is not
    w = dict(zip(FEATURES, weights.base, strict=True))
    assert w["prose"] < 0 < w["code"]


async def test_a_question_like_a_past_commit_finds_the_files_it_changed(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    files = {
        "src/upload.py": "def send_part(part, session):\n    return session.put(part)\n",
        "src/download.py": "def fetch_part(url, session):\n    return session.get(url)\n",
        "src/timing.py": "def wait(seconds):\n    return seconds * 2\n",
    }
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "Start")
    (ws / "src/upload.py").write_text(files["src/upload.py"] + "# resend once\n")
    git(ws, "commit", "-qam", "Fix flaky retry timing in the uploader")
    query = "retry is flaky again"

    with_history = await WorkspaceIndex.open(ws, tmp_path / "a.db")
    without = await WorkspaceIndex.open(ws, tmp_path / "b.db", history_commits=0)
    try:
        await with_history.update()
        await without.update()
        assert (await ranked_paths(with_history, query))[0] == "src/upload.py"
        assert await ranked_paths(without, query) == []  # the words alone match no file
        stored = await without.db.execute_fetchall("SELECT count(*) FROM commits")
        assert list(stored) == [(0,)]
    finally:
        await with_history.close()
        await without.close()


async def test_a_snapshot_refuses_rolled_up_tables_with_keys_of_their_own(tmp_path: Path) -> None:
    """A search reads a file table at the places it looked the keys up in the chunk table."""
    import dataclasses

    async with built_index(tmp_path / "ws", {"retry.py": RETRY_PY}, tmp_path / "ocp.db") as index:
        snap = await index.snapshot()
    copied = dataclasses.replace(snap.file_body, keys=snap.file_body.keys.copy())
    with pytest.raises(ValueError, match="share its chunk table's keys"):
        dataclasses.replace(snap, file_body=copied)
    snap.derived[("length_norm", "chunk", 0.75)] = snap.chunk_len
    assert dataclasses.replace(snap).derived == {}  # its own cache, not the original's
    snap.answers.put(1, ChunkRow(1, 2, None, "function", None, "def f(): pass", 3, 1))
    assert len(dataclasses.replace(snap).answers) == 0  # nor the rows its searches kept


async def test_how_often_files_changed_is_counted_again_for_a_new_snapshot(tmp_path: Path) -> None:
    """The history's change counts are kept on a snapshot for its next search: a commit
    indexed after it (a new snapshot) counts again."""

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "upload.py").write_text("def send_part(part):\n    return part\n")
    (ws / "other.py").write_text("def send_other(part):\n    return part\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "Start")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    column = FEATURES.index("history_changes")

    async def changes() -> dict[str, float]:
        snap = await index.snapshot()
        cand, x, *_ = candidate_features(snap, parse_query("send part"))
        again = candidate_features(snap, parse_query("send part"))[1]  # from the kept counts
        assert np.array_equal(x, again)
        return {snap.paths[f]: float(x[i, column]) for i, f in enumerate(cand.tolist())}

    try:
        await index.update()
        before = await changes()
        (ws / "upload.py").write_text("def send_part(part):\n    return part or None\n")
        git(ws, "commit", "-qam", "Send no empty part")
        await index.update()
        after = await changes()
    finally:
        await index.close()
    assert after["upload.py"] > before["upload.py"]
    assert after["other.py"] == before["other.py"]
