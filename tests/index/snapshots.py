"""The lexical snapshot tests' set-up: forty generated modules in a git work tree, the queries
asked of it, and a snapshot's fields to compare array for array."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np

from ocp_server.index import lexical
from ocp_server.index.workspace import WorkspaceIndex
from tests.workspace_fixture import git, settled

WORDS = (
    "token session invoice render parse cache queue retry socket buffer stream header cookie "
    "router schema migrate signal worker ledger payment refund archive export import"
).split()


QUERIES = ("rotate session token", "parse header cookie", "refund payment ledger", "queue retry")


def generated_module(rng: random.Random, n: int) -> str:
    out = [f'"""Module {n}: {" ".join(rng.sample(WORDS, 4))}."""', ""]
    for f in range(rng.randint(2, 7)):
        a, b = rng.sample(WORDS, 2)
        out += [f"def {a}_{b}_{n}_{f}(items):", f'    """{" ".join(rng.sample(WORDS, 5))}"""']
        out += [f"    {rng.choice(WORDS)} = items  # {' '.join(rng.sample(WORDS, 3))}"] * 2
        out += ["    return items", ""]
    return "\n".join(out)


def forty_module_repo(tmp_path: Path) -> Path:
    """Forty modules in a git work tree with some history, under `tmp_path`."""
    rng = random.Random(7)
    ws = tmp_path / "repo"
    for n in range(40):
        path = ws / f"pkg{n % 4}" / f"mod_{n}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generated_module(rng, n))
    (ws / "README.md").write_text("# Demo\n\nSessions, tokens and refunds.\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "payment ledger and refunds")
    settled(ws)
    return ws


async def snapshot_answers(index: WorkspaceIndex) -> list[object]:
    out: list[object] = []
    for query in QUERIES:
        response = await index.search(query, k=10, refresh=False)
        out.append([r._replace(text="") for r in response.results])
    return out


def edit(path: Path, marker: str) -> None:
    path.write_text(path.read_text() + f"\n\ndef {marker}():\n    return 1\n")


def snapshot_fields(snapshot: lexical.Snapshot) -> dict[str, object]:
    out: dict[str, object] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, np.ndarray):
            out[prefix] = (value.dtype.str, value.shape, value.tobytes())
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                if f.compare:  # not what searches keep for the next (derived, answers…)
                    walk(f"{prefix}.{f.name}", getattr(value, f.name))
        elif isinstance(value, dict):
            for k in sorted(value):
                walk(f"{prefix}[{k}]", value[k])
        else:
            out[prefix] = value

    walk("", snapshot)
    return out
