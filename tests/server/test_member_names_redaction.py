"""A container hit lists its members by name: a member whose chunk the index flagged
NAMES_CLEAN under this process's rules (`redact_name` leaves its symbol as it is) is listed
without being redacted again; any other member's name is redacted, a token glued inside it
hidden. Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_router.redact_names import redact_name
from ocp_server import views
from ocp_server.app import AppState
from ocp_server.index.clean_text import NAMES_CLEAN, TEXT_CLEAN
from ocp_server.workspaces import Workspace
from tests.server.app_fixture import opened

GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GLUED = f"push{GITHUB}_mirror"  # a method whose name glues a token inside it


def _method(name: str) -> str:
    body = "\n".join(f"        step_{i} = remote.fetch({i})" for i in range(8))
    return f"    def {name}(self, remote):\n{body}\n        return remote\n"


def with_a_class(workspace: Path) -> None:
    (workspace / "src" / "mirrors.py").write_text(
        "class RemoteMirrorSet:\n"
        "    '''The mirrors of a remote.'''\n\n"
        + "\n".join(_method(n) for n in ("refresh_mirrors", "prune_mirrors", GLUED))
    )


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names a search redacts as names (`views._name_redacted`), in order, with no name
    known from an earlier test."""
    seen: list[str] = []

    def counted(name: str) -> str:
        seen.append(name)
        return redact_name(name).text

    views._members_listed.cache_clear()
    monkeypatch.setattr(views, "_name_redacted", counted)
    return seen


async def _members(state: AppState, ws: Workspace) -> list[str]:
    result = await state.search(ws, wire.SearchArgs(query="RemoteMirrorSet mirrors class"))
    hit = next(r for r in result.results if r.symbol == "RemoteMirrorSet")
    assert GITHUB not in result.model_dump_json()
    return hit.members


async def test_members_flagged_clean_are_listed_without_being_redacted_again(
    app: AppState, workspace: Path, asked: list[str]
) -> None:
    with_a_class(workspace)
    members = await _members(app, await opened(app, workspace))
    names = [m.rsplit(" ", 1)[0] for m in members]
    assert names == ["refresh_mirrors", "prune_mirrors", "push[REDACTED:github_token]_mirror"]
    assert "refresh_mirrors" not in asked and "prune_mirrors" not in asked
    assert GLUED in asked  # not flagged clean: redacted


async def test_members_flagged_under_other_rules_are_redacted_again(
    app: AppState, workspace: Path, asked: list[str]
) -> None:
    with_a_class(workspace)
    ws = await opened(app, workspace)
    db = ws.index.db
    # As if other rules had found every name clean: a search must not believe them.
    await db.execute("UPDATE chunks SET clean = ?", (TEXT_CLEAN | NAMES_CLEAN,))
    await db.execute("UPDATE meta SET value = 'other rules' WHERE key = 'redaction_rules'")
    await db.commit()
    members = await _members(app, ws)
    assert [m.rsplit(" ", 1)[0] for m in members][2] == "push[REDACTED:github_token]_mirror"
    assert {"refresh_mirrors", "prune_mirrors", GLUED} <= set(asked)
