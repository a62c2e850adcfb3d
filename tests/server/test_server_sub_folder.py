"""The MCP server whose workspace is a sub-folder of a project that has its own index (a
monorepo's package opened alone in an editor): the project's index answers, its tools kept
to the folder as if their `workspace` named it, said once on stderr; no second index is
built. Over stdio, with the MCP SDK's client (OCPClient); the client's roots in process."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import ListRootsResult, Root

import ocp_wire as wire
from ocp_client import OCPClient
from ocp_server.open_workspaces import OpenWorkspaces
from ocp_server.server import build_server
from ocp_server.settings import ServerSettings
from tests.fakes import FakeOllama
from tests.server.cli_run import run_in_sub_folder
from tests.server.inproc import text_of

# One decision citing src/, one citing web/, one citing nothing (about the project).
THREE_DECISIONS = [
    wire.DecisionArg(
        title="token comparison",
        decision="verify_token compares in constant time",
        citations=["src/auth.py:6-8"],
    ),
    wire.DecisionArg(
        title="invoice totals",
        decision="invoices keep their totals in cents",
        citations=["web/billing.ts:1-3"],
    ),
    wire.DecisionArg(title="release policy", decision="every release is tagged by CI"),
]


@pytest.fixture
def indexed(workspace: Path) -> Path:
    """The fixture's project, indexed at its top by the CLI (src/auth.py and web/billing.ts
    both mention verifying tokens)."""
    done = run_in_sub_folder(workspace, "index")
    assert done.returncode == 0, done.stderr
    return workspace


def own_index(ollama: FakeOllama, **env: str) -> dict[str, str]:
    """No OCP_DB_PATH: each workspace keeps its database in its own `.ocp` folder."""
    return {"OCP_OLLAMA_URL": ollama.url, **env}


def said(stderr: str, sub: Path, project: Path) -> int:
    return stderr.count(f"{sub.resolve()} is inside {project.resolve()}: its index answers")


async def test_a_server_opened_in_a_sub_folder_searches_the_projects_index_kept_to_it(
    indexed: Path, fake_ollama: FakeOllama, capfd: pytest.CaptureFixture[str]
) -> None:
    # Was: src/ opened as a workspace of its own, indexed again into src/.ocp (paths
    # relative to it: auth.py), and nothing said.
    src = indexed / "src"
    async with OCPClient(env=own_index(fake_ollama, OCP_WORKSPACE=str(src))) as client:
        first = await client.search("verify token")
        again = await client.search("verify token")
    for result in (first, again):
        assert {hit.path for hit in result.results} == {"src/auth.py"}  # not web/billing.ts
    assert not (src / ".ocp").exists()
    stderr = capfd.readouterr().err
    assert said(stderr, src, indexed) == 1 and "scoped to src/" in stderr
    assert "ocp-server index --force" in stderr  # how to get a separate index


async def test_the_working_directory_in_a_sub_folder_is_served_the_same_way(
    indexed: Path, fake_ollama: FakeOllama, capfd: pytest.CaptureFixture[str]
) -> None:
    web = indexed / "web"
    async with OCPClient(env=own_index(fake_ollama), cwd=web) as client:
        result = await client.search("verify token", path_glob="*.ts")
        nothing = await client.search("verify token", path_glob="*.py")
    assert {hit.path for hit in result.results} == {"web/billing.ts"}  # a glob relative to web/
    assert nothing.results == []
    assert not (web / ".ocp").exists()
    assert said(capfd.readouterr().err, web, indexed) == 1


async def test_memory_saved_from_a_sub_folder_is_the_projects(
    indexed: Path, fake_ollama: FakeOllama
) -> None:
    # One memory per project: a decision taken in the package is restored at the top, its
    # citation (relative to the folder, as for a tool's `workspace`) the project's path.
    src = indexed / "src"
    decision = wire.DecisionArg(
        title="token comparison",
        decision="verify_token compares in constant time",
        citations=["auth.py:6-8"],
    )
    async with OCPClient(env=own_index(fake_ollama, OCP_WORKSPACE=str(src))) as client:
        await client.save(decisions=[decision])
    async with OCPClient(env=own_index(fake_ollama, OCP_WORKSPACE=str(indexed))) as client:
        restored = await client.restore()
    (kept,) = restored.decisions
    assert [c.citation for c in kept.citations] == ["src/auth.py:6-8"]


async def test_a_restore_in_a_sub_folder_keeps_to_decisions_citing_it_and_uncited_ones(
    indexed: Path, fake_ollama: FakeOllama
) -> None:
    # Was: a server opened on web/ restored src/'s decisions too (every package's memory in
    # each package's brief). Now: the decisions citing code in the folder, and those citing
    # none (about the project); the project's top still restores all three.
    decisions = THREE_DECISIONS
    top = own_index(fake_ollama, OCP_WORKSPACE=str(indexed))
    async with OCPClient(env=top) as client:
        await client.save(decisions=decisions)
    web = own_index(fake_ollama, OCP_WORKSPACE=str(indexed / "web"))
    async with OCPClient(env=web) as client:
        in_web = await client.restore()
    async with OCPClient(env=top) as client:
        everywhere = await client.restore()
    assert {d.title for d in in_web.decisions} == {"invoice totals", "release policy"}
    assert "token comparison" not in in_web.brief
    assert len(everywhere.decisions) == 3


async def test_a_sub_folder_indexed_with_force_keeps_its_own_index(
    indexed: Path, fake_ollama: FakeOllama, capfd: pytest.CaptureFixture[str]
) -> None:
    src = indexed / "src"
    assert run_in_sub_folder(src, "index", "--force").returncode == 0
    async with OCPClient(env=own_index(fake_ollama, OCP_WORKSPACE=str(src))) as client:
        result = await client.search("verify token")
    assert {hit.path for hit in result.results} == {"auth.py"}  # its own paths
    assert "is inside" not in capfd.readouterr().err


async def test_a_single_database_named_by_ocp_db_path_is_used_as_before(
    indexed: Path, fake_ollama: FakeOllama, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    src = indexed / "src"
    env = own_index(fake_ollama, OCP_WORKSPACE=str(src), OCP_DB_PATH=str(tmp_path / "one.db"))
    async with OCPClient(env=env) as client:
        result = await client.search("verify token")
    assert {hit.path for hit in result.results} <= {"auth.py"}
    assert "is inside" not in capfd.readouterr().err


async def test_a_client_root_in_a_sub_folder_is_still_served_after_the_roots_change(
    indexed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The project's workspace is not among the roots (its sub-folder is): the roots' change
    # must not retire it as a folder the client closed. (In process: the client's roots.)
    monkeypatch.setenv("OCP_OLLAMA_URL", "http://127.0.0.1:9")
    src = indexed / "src"

    async def list_roots(context: object) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=src.as_uri())])

    kept: list[list[Path]] = []
    real_keep_only = OpenWorkspaces.keep_only

    async def keep_only(self: OpenWorkspaces, folders: list[Path]) -> list[Path]:
        gone = await real_keep_only(self, folders)
        kept.append(folders)
        return gone

    monkeypatch.setattr(OpenWorkspaces, "keep_only", keep_only)
    server = build_server(ServerSettings(first_index_wait=60.0), cwd=tmp_path)
    async with Client(
        server, list_roots_callback=list_roots, read_timeout_seconds=60, mode="legacy"
    ) as client:
        before = await client.call_tool("ocp_context_search", {"query": "verify token"})
        with warnings.catch_warnings():  # roots are deprecated in MCP's next version
            warnings.simplefilter("ignore")
            await client.send_roots_list_changed()
        async with asyncio.timeout(30):  # until the server asked for them and applied them
            while not kept:
                await asyncio.sleep(0.01)
        after = await client.call_tool("ocp_context_search", {"query": "verify token"})
    for result in (before, after):
        assert not result.is_error, text_of(result)
        assert "src/auth.py" in text_of(result) and "web/billing.ts" not in text_of(result)
    assert not (src / ".ocp").exists()


async def test_a_restore_in_a_sub_folder_says_what_it_kept_to_and_what_is_the_projects(
    indexed: Path, fake_ollama: FakeOllama
) -> None:
    # A restore in web/ left src/'s decisions out but served the project's notes, state and
    # open items (a note about src/ among them) without a word: the brief read as web/'s
    # memory. And with only src/'s decisions saved it said "Nothing saved by earlier
    # sessions yet." Now the brief says which decisions it kept, and that the rest is the
    # project's; an empty one says nothing was saved for the folder.
    src_decision = wire.DecisionArg(
        title="token comparison",
        decision="verify_token compares in constant time",
        citations=["src/auth.py:6-8"],
    )
    top = own_index(fake_ollama, OCP_WORKSPACE=str(indexed))
    web = own_index(fake_ollama, OCP_WORKSPACE=str(indexed / "web"))
    async with OCPClient(env=top) as client:
        await client.save(decisions=[src_decision])
    async with OCPClient(env=web) as client:
        alone = await client.restore()
    assert not alone.decisions
    assert alone.brief.startswith("Nothing saved for web/ by earlier sessions yet"), alone.brief
    assert "decisions citing only code outside web/ are left out" in alone.brief, alone.brief
    async with OCPClient(env=top) as client:
        await client.save(
            notes=[wire.NoteArg(text="auth tokens rotate daily", citations=["src/auth.py:6-8"])],
            state={"branch": "auth-rework"},
            open_items=["finish the billing export"],
        )
    async with OCPClient(env=web) as client:
        in_web = await client.restore()
    kept = " ".join(in_web.brief.split())
    assert (
        "Restored for web/: the decisions citing code in it or none (decisions citing only "
        "code outside web/ are left out); open items, state, earlier sessions, notes and "
        "routes are the whole project's." in kept
    ), in_web.brief
    assert "auth tokens rotate daily" in in_web.brief  # the project's note, said to be
    assert in_web.kept_to == "web"  # for a client whose model reads only the structured part
    async with OCPClient(env=top) as client:
        everywhere = await client.restore()
    assert "Restored for" not in everywhere.brief and everywhere.kept_to is None, everywhere


async def test_a_route_from_a_sub_folder_keeps_its_prompts_brief_to_it_as_a_restore_does(
    indexed: Path, fake_ollama: FakeOllama
) -> None:
    # A route from web/ kept its code context to web/ but its prompt's session brief held
    # src/'s decisions too (restore kept them out): now it is the brief a restore in web/ gives.
    decisions = THREE_DECISIONS
    top = own_index(fake_ollama, OCP_WORKSPACE=str(indexed))
    async with OCPClient(env=top) as client:
        await client.save(decisions=decisions)
        everywhere = await client.route("how are tokens and invoice totals kept?", force="paid")
    assert "verify_token compares in constant time" in (everywhere.prompt or "")  # all of it
    web = own_index(fake_ollama, OCP_WORKSPACE=str(indexed / "web"))
    async with OCPClient(env=web) as client:
        routed = await client.route("how are tokens and invoice totals kept?", force="paid")
    assert routed.answered_by == "agent", routed
    prompt = routed.prompt or ""
    assert "invoices keep their totals in cents" in prompt, prompt
    assert "every release is tagged by CI" in prompt, prompt
    assert "verify_token compares in constant time" not in prompt, prompt
    assert "Restored for web/" in prompt, prompt  # and says what it kept to
