"""Citations whose code left its file: a function moved to another file found through the
index, a file renamed (by git, or seen by the index) followed, changed on the way said where
it is now; a same-named function elsewhere, or a renamed one, is not taken for the cited one;
a deleted file makes its citations stale, and git is asked about gone files in bounded time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ocp_server import git_commands
from ocp_server.citations import renames
from tests.server.citations import SETTINGS_PY, Repo, followed
from tests.workspace_fixture import AUTH_PY, git


def _move_verify_token_to_its_own_file(repo: Repo) -> None:
    """verify_token cut from src/auth.py and pasted, unchanged, into src/tokens.py."""
    start, end = AUTH_PY.index("def verify_token"), AUTH_PY.index("class SessionStore")
    repo.write("src/auth.py", AUTH_PY[:start] + AUTH_PY[end:])
    repo.write("src/tokens.py", "import hmac\n\n\n" + AUTH_PY[start:end])


async def test_a_function_moved_to_another_file_is_found_there_through_the_index(
    repo: Repo,
) -> None:
    await repo.decide("verify_token")
    _move_verify_token_to_its_own_file(repo)
    brief = await repo.reindexed()
    (citation,) = brief.decisions[0].citations
    assert (citation.status, citation.citation, citation.moved_from) == (
        "moved",
        "src/tokens.py:4-6",
        "src/auth.py:6-8",
    )
    # The new place is what is checked from now on.
    repo.edit("src/tokens.py", "compare_digest", "compare_digest_v2")
    assert (await repo.memory.restore()).stale[0].citations[0].citation == "src/tokens.py:4-6"


async def test_a_move_noticed_before_the_index_caught_up_is_found_once_it_has(
    repo: Repo,
) -> None:
    await repo.decide("verify_token")
    _move_verify_token_to_its_own_file(repo)
    early = await repo.memory.restore()
    assert early.stale and "no longer defined" in (early.stale[0].citations[0].change or "")
    late = await repo.reindexed()
    assert late.stale == () and late.decisions[0].citations[0].citation == "src/tokens.py:4-6"


async def test_a_renamed_function_is_stale_and_names_what_replaced_it(repo: Repo) -> None:
    await repo.decide("verify_token")
    brief = await repo.rewritten("src/auth.py", AUTH_PY.replace("verify_token", "check_token"))
    (citation,) = brief.stale[0].citations
    assert citation.change == (
        "`verify_token` is no longer defined in src/auth.py or elsewhere in the index; most "
        "alike now: `check_token` at src/auth.py:6-8: "
        "-`def verify_token(token: str, secret: str) -> bool:` "
        "+`def check_token(token: str, secret: str) -> bool:`"
    )


async def test_a_same_named_function_elsewhere_is_not_taken_for_the_cited_one(
    repo: Repo,
) -> None:
    await repo.decide("src/auth.py:verify_token")
    repo.write("src/other.py", "def verify_token(raw):\n    return raw.startswith('tok_')\n")
    start, end = AUTH_PY.index("def verify_token"), AUTH_PY.index("class SessionStore")
    (stale,) = (await repo.rewritten("src/auth.py", AUTH_PY[:start] + AUTH_PY[end:])).stale
    assert stale.citations[0].change == (
        "`verify_token` is no longer defined in src/auth.py (one in src/other.py is not alike)"
    )
    assert stale.citations[0].citation == "src/auth.py:6-8"  # what was cited, not the other


async def test_a_deleted_file_or_one_no_longer_indexed_makes_its_citations_stale(
    repo: Repo,
) -> None:
    await repo.decide("totalCents", title="Billing")
    await repo.decide("verify_token")
    (repo.root / "web" / "billing.ts").unlink()
    repo.write(".ocpignore", "src/\n")
    brief = await repo.memory.restore()
    changes = sorted(s.citations[0].change or "" for s in brief.stale)
    assert changes == ["src/auth.py is no longer indexed", "web/billing.ts was deleted"]


async def test_a_file_renamed_with_its_cited_function_changed_says_where_it_is_now(
    repo: Repo,
) -> None:
    await repo.decide("verify_token")
    # `git mv src/auth.py src/session.py`, and the function edited in the same commit.
    (repo.root / "src" / "auth.py").unlink()
    repo.write(
        "src/session.py", AUTH_PY.replace("hmac.compare_digest(token, secret)", "token == secret")
    )
    (stale,) = (await repo.reindexed()).stale
    assert stale.citations[0].change == (
        # much the same lines under a new name: the file renamed (index/edited_moves.py)
        "src/auth.py was renamed to src/session.py; `verify_token` is now in "
        "src/session.py:6-8, changed: "
        "-`return hmac.compare_digest(token, secret)` +`return token == secret`"
    )


async def test_lines_outside_any_definition_follow_their_file_renamed_unchanged(
    repo: Repo,
) -> None:
    await repo.cite_timeouts()
    # `git mv src/settings.py src/config/settings.py`, then `git mv` to another name.
    for old, new in (("src/settings.py", "src/config/settings.py"), (None, "src/config/env.py")):
        (repo.root / (old or "src/config/settings.py")).unlink()
        citation = followed(await repo.rewritten(new, SETTINGS_PY))
        assert (citation.status, citation.citation) == ("moved", f"{new}:3-6")


async def test_a_whole_function_grown_in_a_renamed_file_is_stale_not_moved(repo: Repo) -> None:
    await repo.decide("verify_token")
    (repo.root / "src" / "auth.py").unlink()  # git mv, and the function grows a line
    grown = "return hmac.compare_digest(token, secret)\n    log_attempt(token)\n"
    repo.write(
        "src/session.py", AUTH_PY.replace("return hmac.compare_digest(token, secret)\n", grown)
    )
    brief = await repo.reindexed()
    assert brief.decisions == ()
    assert "`verify_token` is now in src/session.py:6-9, changed" in (
        brief.stale[0].citations[0].change or ""
    )


async def test_lines_outside_any_definition_found_once_the_index_has_their_new_file(
    repo: Repo,
) -> None:
    await repo.cite_timeouts()
    (repo.root / "src/settings.py").unlink()
    await repo.reindex()  # the index saw the file go first, then the new one come
    early = await repo.memory.restore()
    assert early.stale[0].citations[0].change == "src/settings.py was deleted"
    late = await repo.rewritten("src/config.py", SETTINGS_PY)
    assert late.stale == () and late.decisions[0].citations[0].citation == "src/config.py:3-6"


async def test_lines_follow_their_file_renamed_into_another_folder_by_git(repo: Repo) -> None:
    # Neither the same name nor the same folder: the file was said to be deleted.
    repo.write("src/settings.py", SETTINGS_PY)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "settings")
    await repo.reindex()
    await repo.decide("src/settings.py:3-6", title="Timeouts", decision="read waits 10 s")
    (repo.root / "lib" / "net").mkdir(parents=True)
    git(repo.root, "mv", "src/settings.py", "lib/net/timeouts.py")  # staged
    staged = await repo.reindexed()
    assert staged.stale == (), staged.stale[0].citations
    assert staged.decisions[0].citations[0].citation == "lib/net/timeouts.py:3-6"
    git(repo.root, "commit", "-qm", "move the settings")  # and renamed again, committed
    (repo.root / "conf").mkdir()
    git(repo.root, "mv", "lib/net/timeouts.py", "conf/limits.py")
    git(repo.root, "commit", "-qm", "move them again")
    committed = await repo.reindexed()
    assert committed.stale == (), committed.stale[0].citations
    assert committed.decisions[0].citations[0].citation == "conf/limits.py:3-6"


RETRY_PY = '''"""Retries."""


def send_with_retries(send, body):
    """Send until it succeeds."""
    attempts = 0
    while True:
        attempts += 1
        try:
            return send(body)
        except OSError:
            if attempts >= 3:
                raise
            delay = min(2**attempts, 30)
            time.sleep(delay)
'''


async def test_lines_changed_in_their_function_before_a_rename_say_where_it_went(
    repo: Repo,
) -> None:
    # Three lines inside a function, edited, then the file renamed into another folder: the
    # change said only "src/retry.py was deleted".
    repo.write("src/retry.py", RETRY_PY)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "retry")
    await repo.reindex()
    await repo.decide("src/retry.py:12-14", title="Retries", decision="three attempts")
    repo.edit("src/retry.py", "if attempts >= 3:", "if attempts >= 5:")
    git(repo.root, "commit", "-qam", "five attempts")
    (repo.root / "net").mkdir()
    git(repo.root, "mv", "src/retry.py", "net/sending.py")
    git(repo.root, "commit", "-qm", "move")
    (stale,) = (await repo.reindexed()).stale
    assert stale.citations[0].change == (
        "src/retry.py was renamed to net/sending.py; `send_with_retries` is now in "
        "net/sending.py:4-15, its "
        "lines changed: -`if attempts >= 3:` +`if attempts >= 5:`"
    )


async def test_a_restore_after_many_cited_files_went_spends_a_bounded_time_in_git(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a refactor many cited files are gone at once, and git walks the history for each
    # (0.2 s a file in pytest's); a restore asked git about every one of them.
    for name in ("a", "b", "c", "d"):
        repo.write(f"src/{name}.py", SETTINGS_PY)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "settings")
    await repo.reindex()
    for name in ("a", "b", "c", "d"):
        await repo.decide(f"src/{name}.py:3-6", title=f"Timeouts {name}", decision="10 s")
    git(repo.root, "rm", "-q", "src/a.py", "src/b.py", "src/c.py", "src/d.py")
    git(repo.root, "commit", "-qm", "gone")
    await repo.reindex()
    run = git_commands.run_git
    asked: list[tuple[str, ...]] = []

    def slow_git(workspace: Path, *args: str, **kwargs: Any) -> Any:
        asked.append(args)
        time.sleep(0.3)  # a long history
        return run(workspace, *args, **kwargs)

    monkeypatch.setattr(renames, "run_git", slow_git)  # as renames.py calls it
    monkeypatch.setattr(renames, "GIT_BUDGET_S", 0.5, raising=False)
    restored = await repo.memory.restore()
    assert len(asked) == 2, asked  # 0.6 s spent: no more
    assert {s.title for s in restored.stale} == {f"Timeouts {n}" for n in "abcd"}
    assert all("was deleted" in (s.citations[0].change or "") for s in restored.stale)
