"""Counts are said with the noun they count: "1 file", "2 files" ("1 files indexed" and "the
file has 1 lines" were said to users, "1 lines, not read" in a route's reasons)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_router import TaskClassifier
from ocp_router.words import counted, per_second
from ocp_server.cli import main
from ocp_server.render import search_text
from tests.workspace_fixture import git


def test_counted_and_per_second_say_one_thing_and_many() -> None:
    assert [counted(n, "file") for n in (0, 1, 2, 1200)] == [
        "0 files",
        "1 file",
        "2 files",
        "1,200 files",
    ]
    assert counted(1, "memory", "memories") == "1 memory"
    assert counted(3, "memory", "memories") == "3 memories"
    rates = [per_second(r, "file") for r in (0.04, 0.3, 1.0, 1.04, 2.5, 9.96, 850.4)]
    assert rates == [
        "0 files/s",
        "0.3 files/s",
        "1 file/s",
        "1 file/s",
        "2.5 files/s",
        "10 files/s",
        "850 files/s",
    ]


def test_a_workspace_of_one_file_is_said_as_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("def handler(request):\n    return respond(request)\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OCP_OLLAMA_URL", "http://127.0.0.1:9")
    assert main(["index", "--workspace", str(ws)]) == 0
    capsys.readouterr()
    assert main(["status", "--workspace", str(ws)]) == 0
    assert "indexed    1 file, 1 chunk\n" in capsys.readouterr().out
    assert main(["doctor", "--workspace", str(ws)]) in (0, 1)
    assert "1 file, 1 chunk in " in capsys.readouterr().out


def test_a_search_answer_counts_one_result_of_one_file_indexed() -> None:
    answer = {"index": {"files": 1}, "files": None, "query": "handler", "note": None}
    said = search_text({**answer, "results": [], "redacted": 0})
    assert said == "0 results for 'handler' (1 file indexed)"
    said = search_text({**answer, "files": [], "results": [], "redacted": 0})
    assert said == "0 files for 'handler' (1 file indexed)"


def test_a_route_reason_counts_one_pasted_line_as_one_line() -> None:
    result = TaskClassifier().classify("why does this fail?\n    raise KeyError(name)")
    details = [s.detail for s in result.signals if s.name == "pasted log/code"]
    assert details == ["1 line, not read"]
