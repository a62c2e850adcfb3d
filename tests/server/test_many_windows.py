"""Many IDE windows on one project: four ocp-server processes share one database while files
churn. No call fails, no save is lost, and a definition written to disk is found by every
window without being asked to (one window indexes, the others read what it wrote). How soon is
a speed, measured in bench/, not here: the wait is bounded only so a window that never sees it
fails the test."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import string
from pathlib import Path

from ocp_client import OCPClient
from tests.fakes import FakeOllama
from tests.fuzzing import text_of
from tests.server.stdio_env import server_env

WINDOWS = 4
SAVES_PER_WINDOW = 12
PROBES = 3
SEEN_WITHIN = 60.0  # a bound on a broken watcher, not a speed: seconds on an idle machine
MIN_CHURN = 40  # changes made at least, however fast the windows finish their saves


async def _churn(src: Path, stop: asyncio.Event) -> int:
    """Write, rewrite and delete files until told to stop, and at least MIN_CHURN times (on a
    fast machine the windows' saves were over after 20); how many changes were made."""
    rng = random.Random(7)
    changes = 0
    while not stop.is_set() or changes < MIN_CHURN:
        n = rng.randrange(40)
        path = src / f"churn_{n}.py"
        if path.exists() and rng.random() < 0.3:
            path.unlink()
        else:
            path.write_text(f"def churned_{n}_{changes}(x):\n    return x * {changes}\n")
        changes += 1
        await asyncio.sleep(0.03)
    return changes


async def _visible_everywhere(clients: list[OCPClient], name: str) -> None:
    """Returns once each window's search finds the definition `name`; fails naming the windows
    that have not after SEEN_WITHIN seconds."""
    seen = [False] * len(clients)

    async def one(n: int, client: OCPClient) -> None:
        while not any(hit.symbol == name for hit in (await client.search(name, k=3)).results):
            await asyncio.sleep(0.05)
        seen[n] = True

    try:
        async with asyncio.timeout(SEEN_WITHIN):
            await asyncio.gather(*(one(n, c) for n, c in enumerate(clients)))
    except TimeoutError:
        blind = [n for n, found in enumerate(seen) if not found]
        raise AssertionError(f"windows {blind} never found {name}") from None


async def test_four_windows_share_one_database_under_file_churn(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    db_path = workspace.parent / "shared.db"
    env = server_env(workspace, fake_ollama, db_path=db_path)
    src = workspace / "src"
    clients: list[OCPClient] = []
    all_open = asyncio.Event()
    probed = asyncio.Event()
    stop = asyncio.Event()
    saving = asyncio.Semaphore(0)  # released once by each window when its saves are done

    async def window(n: int) -> list[str]:
        # Each window opens and closes its client in its own task, as the SDK requires.
        async with OCPClient(env=env) as client:
            clients.append(client)
            if len(clients) == WINDOWS:
                all_open.set()
            await all_open.wait()
            errors = []
            for i in range(SAVES_PER_WINDOW):
                saved = await client.call(
                    "ocp_result_save",
                    {"notes": [f"window {n} note {i}"], "state": {f"w{n}.k{i}": str(i)}},
                )
                searched = await client.call("ocp_context_search", {"query": "churned"})
                routed = await client.call("ocp_model_route", {"request": f"explain note {i}"})
                errors += [text_of(r) for r in (saved, searched, routed) if r.is_error]
            saving.release()
            await probed.wait()
            return errors

    windows = [asyncio.create_task(window(n)) for n in range(WINDOWS)]
    async with asyncio.timeout(120):
        await all_open.wait()
    await asyncio.gather(*(c.search("verify_token") for c in clients))
    churn = asyncio.create_task(_churn(src, stop))
    try:
        for _ in range(PROBES):
            name = "probe_" + "".join(random.choices(string.ascii_lowercase, k=10))
            (src / f"{name}.py").write_text(f"def {name}():\n    return 1\n")
            await _visible_everywhere(clients, name)
        for _ in range(WINDOWS):  # the churn goes on until every window has saved
            await saving.acquire()
        statuses = [(await c.search("verify_token")).index for c in clients]
    finally:
        stop.set()
        probed.set()
        await churn
        results = await asyncio.gather(*windows)
    errors = [e for window_errors in results for e in window_errors]
    assert errors == [], errors[:3]
    with sqlite3.connect(db_path) as db:
        notes = db.execute("SELECT count(*) FROM notes WHERE text LIKE 'window % note %'")
        state = db.execute("SELECT count(DISTINCT key) FROM state WHERE key LIKE 'w%.k%'")
        assert notes.fetchone()[0] == WINDOWS * SAVES_PER_WINDOW
        assert state.fetchone()[0] == WINDOWS * SAVES_PER_WINDOW
    assert sum(s.indexer for s in statuses) == 1  # one window indexes, three read
    assert all(s.watcher in ("watching", "standby") for s in statuses)
