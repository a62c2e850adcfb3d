"""A cited file swapped for a link to a file the index never reads (a secret by its name):
its lines are neither read nor shown, before the index has caught up or after."""

from __future__ import annotations

from tests.server.citations import Repo

SECRET_JSON = '{\n    "connect": "SECRETJSON456",\n    "read": "HIDDEN789",\n}\n'


async def test_a_cited_file_swapped_for_a_link_to_a_secret_file_is_never_shown(
    repo: Repo,
) -> None:
    # Was: the stale summary diffed the cited lines with secrets.json's, values and all,
    # until the index caught up (it skips a link whose target is secret).
    await repo.cite_timeouts()
    repo.write("secrets.json", SECRET_JSON)
    (repo.root / "src/settings.py").unlink()
    (repo.root / "src/settings.py").symlink_to(repo.root / "secrets.json")
    for _ in ("before the index caught up", "after"):
        brief = await repo.memory.restore()
        assert brief.decisions == ()
        (stale,) = brief.stale
        shown = f"{brief.text} {stale.citations}"
        assert "SECRETJSON456" not in shown and "HIDDEN789" not in shown
        assert "connect" not in str(stale.citations[0].change)
        await repo.reindex()
