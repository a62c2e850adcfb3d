"""The walk for a hard-linked file's other names (secret_twins.SecretTwins.unseen) is kept for
the next listings while the file's link count and inode change time stay and the names it
found are still there: a `cp -al` copy of a tree (every file linked outside) was walked at
every listing. A new link, a renamed name, or a folder renamed on a name's way is seen."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ocp_server.index.files import list_workspace
from tests.workspace_fixture import git


def _copied_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "outside"
    (tree / "src").mkdir(parents=True)
    for n in range(5):
        (tree / "src" / f"m{n}.py").write_text(f"VALUE = {n}\n")
    ws = tmp_path / "ws"
    for folder in ("src", "private", "scratch/deep"):
        (ws / folder).mkdir(parents=True)
    (ws / ".gitignore").write_text("private/\nscratch/\n")
    for f in (tree / "src").iterdir():
        os.link(f, ws / "src" / f.name)  # cp -al
    git(ws, "init", "-q")
    return ws


def _count_reads(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[Path]:
    """Each read of `folder`, git-ignored: only a walk for other names goes there."""
    reads: list[Path] = []
    scandir = os.scandir

    def counted(path: Any) -> Any:
        if Path(path) == folder:
            reads.append(folder)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counted)
    return reads


def test_a_tree_linked_from_outside_is_walked_once_for_its_listings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _copied_tree(tmp_path)
    reads = _count_reads(monkeypatch, ws / "scratch" / "deep")
    for _ in range(3):
        listing = list_workspace(ws)
        assert {c.path for c in listing.candidates if c.linked_outside} == {
            f"src/m{n}.py" for n in range(5)
        }
    assert len(reads) == 1


def test_a_new_link_to_a_secret_name_is_found_after_a_kept_walk(tmp_path: Path) -> None:
    ws = _copied_tree(tmp_path)
    list_workspace(ws)
    os.link(ws / "src" / "m1.py", ws / "private" / ".env")  # its link count changes
    found = {c.path for c in list_workspace(ws).candidates}
    assert "src/m1.py" not in found and "src/m2.py" in found


def test_a_folder_renamed_on_a_kept_names_way_is_walked_again(tmp_path: Path) -> None:
    """Renaming a folder changes neither the files' link counts nor their ctimes: the name the
    walk found is gone, and the new one (a secret's: `.kube/config`) is found."""
    ws = tmp_path / "ws"
    (ws / "docs").mkdir(parents=True)
    (ws / ".gitignore").write_text("kube/\n.kube/\n")
    (ws / "kube").mkdir()
    (ws / "kube" / "config").write_text("clusters: []\n")
    os.link(ws / "kube" / "config", ws / "docs" / "cluster.txt")
    outside = tmp_path / "outside.txt"
    os.link(ws / "kube" / "config", outside)  # three names: the listing sees two
    git(ws, "init", "-q")
    assert "docs/cluster.txt" in {c.path for c in list_workspace(ws).candidates}
    os.rename(ws / "kube", ws / ".kube")  # .kube/config is a secret's name
    assert "docs/cluster.txt" not in {c.path for c in list_workspace(ws).candidates}
