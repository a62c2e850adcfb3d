"""Source files Windows tools write as UTF-16 (PowerShell scripts, .rc files, some C# and .reg
files) start with a byte-order mark: they are indexed as the text it names (they were skipped
as binary, their NUL bytes read as such), cited by the lines of that text, and every secret
check sees that text, so a secret in one is as hidden as in a UTF-8 file.

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.index import secret_files
from ocp_server.index.indexer import FILE_RULES_KEY
from ocp_server.index.meta import write_meta
from ocp_server.memory import NoteIn
from tests.server.app_fixture import opened
from tests.server.citations import opened_repo

SCRIPT = """# Warehouse helpers.
$ErrorActionPreference = "Stop"

function Get-WarehouseRows {
    param([string]$Table)
    Invoke-Sqlcmd -Query "SELECT * FROM $Table"
}
"""
# Each BOM Python writes: "utf-16" and "utf-32" in the machine's order, the others named.
ENCODINGS = ["utf-16", "utf-16-be", "utf-32", "utf-32-be"]
BOMS = {"utf-16-be": b"\xfe\xff", "utf-32-be": b"\x00\x00\xfe\xff"}
VALUE = "s3cr3t" + "Value9Q"
AWS_KEY = "AKIA" + "Q3EGRWN5XJ7TLMPB"


def write_with_bom(path: Path, text: str, encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(BOMS.get(encoding, b"") + text.encode(encoding))


def dumped(result: wire.SearchResult) -> str:
    return json.dumps(result.model_dump(mode="json"))


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_a_script_with_a_byte_order_mark_is_found_at_the_lines_of_its_text(
    app: AppState, workspace: Path, encoding: str
) -> None:
    write_with_bom(workspace / "tools" / "warehouse.ps1", SCRIPT, encoding)
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query="Get-WarehouseRows Invoke-Sqlcmd"))
    top = result.results[0]
    assert (top.path, top.start_line, top.end_line) == ("tools/warehouse.ps1", 1, 7)
    assert top.text.startswith("# Warehouse helpers.\n") and "\x00" not in top.text


async def test_a_citation_of_a_utf16_file_counts_the_lines_of_its_text(workspace: Path) -> None:
    write_with_bom(workspace / "tools" / "warehouse.ps1", SCRIPT, "utf-16")
    async with opened_repo(workspace) as repo:
        sid = await repo.memory.start_session(str(repo.root))
        saved = await repo.memory.save(
            sid, notes=[NoteIn("rows by table", ("tools/warehouse.ps1:4-7",))]
        )
        rows = await repo.memory.db.execute_fetchall(
            "SELECT start_line, end_line, content FROM memory_citations"
        )
    assert saved.citations[0].citation == "tools/warehouse.ps1:4-7"
    ((start, end, content),) = rows
    assert (start, end) == (4, 7) and content.startswith("function Get-WarehouseRows {")


async def test_a_key_planted_in_a_utf16_script_is_hidden_from_search(
    app: AppState, workspace: Path
) -> None:
    planted = SCRIPT + f'\n$AwsKey = "{AWS_KEY}"\n'
    write_with_bom(workspace / "tools" / "deploy.ps1", planted, "utf-16")
    ws = await opened(app, workspace)
    for query in (AWS_KEY, "AwsKey", "Get-WarehouseRows"):
        result = await app.search(ws, wire.SearchArgs(query=query))
        assert AWS_KEY not in dumped(result)


async def test_a_value_a_utf16_file_names_as_secret_is_hidden_where_it_repeats(
    app: AppState, workspace: Path
) -> None:
    steps = "".join(f'    Write-Host "step {n}"\n' for n in range(40))
    text = (
        f'$DB_PASSWORD = "{VALUE}"\n\n'
        + SCRIPT
        + f'\nfunction Open-Warehouse {{\n    Connect-Db -User sa -Pass "{VALUE}"\n{steps}}}\n'
    )
    write_with_bom(workspace / "tools" / "db.ps1", text, "utf-16")
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query="Open-Warehouse Connect-Db", k=1))
    assert result.results and result.results[0].path == "tools/db.ps1"
    assert "Connect-Db" in result.results[0].text and VALUE not in dumped(result)


async def test_a_private_key_file_in_utf16_is_skipped_as_a_secret_file(
    app: AppState, workspace: Path
) -> None:
    body = "".join(f"{n:02d}" * 32 + "\n" for n in range(8))
    pem = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + body + "-----END RSA PRIVATE KEY-----\n"
    write_with_bom(workspace / "deploy" / "signing.txt", pem, "utf-16")
    ws = await opened(app, workspace)
    rows = await ws.index.db.execute_fetchall(
        "SELECT skip_reason FROM files WHERE path = 'deploy/signing.txt'"
    )
    assert [tuple(r) for r in rows] in ([("secret_content",)], [])
    result = await app.search(ws, wire.SearchArgs(query="RSA PRIVATE KEY signing"))
    assert all(r.path != "deploy/signing.txt" for r in result.results)


async def test_a_binary_file_that_starts_like_utf16_stays_skipped(
    app: AppState, workspace: Path
) -> None:
    # A byte-order mark, then bytes no UTF-16 text holds: a lone low surrogate, then NULs.
    (workspace / "logo.ico").write_bytes(b"\xff\xfe" + b"\x00\xdc" + os.urandom(64) + b"\0" * 64)
    (workspace / "table.bin").write_bytes(b"\xff\xfe" + b"\0" * 512)
    ws = await opened(app, workspace)
    rows = await ws.index.db.execute_fetchall(
        "SELECT path, skip_reason FROM files WHERE path IN ('logo.ico', 'table.bin') ORDER BY path"
    )
    assert [tuple(r) for r in rows] in (
        [("logo.ico", "binary"), ("table.bin", "binary")],
        [],
    )
    result = await app.search(ws, wire.SearchArgs(query="logo table"))
    assert all(r.path not in ("logo.ico", "table.bin") for r in result.results)


async def test_a_utf16_file_an_older_server_skipped_as_binary_is_read_again(
    workspace: Path,
) -> None:
    write_with_bom(workspace / "tools" / "warehouse.ps1", SCRIPT, "utf-16")
    async with opened_repo(workspace) as repo:
        # as a server before byte-order marks left it: skipped, under its rules' digest (of
        # secret_files.py alone), the file's size and mtime as they are now
        await repo.index.db.execute(
            "UPDATE files SET skip_reason = 'binary', content_hash = '' "
            "WHERE path = 'tools/warehouse.ps1'"
        )
        await repo.index.db.execute(
            "DELETE FROM chunks WHERE file_id = "
            "(SELECT id FROM files WHERE path = 'tools/warehouse.ps1')"
        )
        older = hashlib.blake2b(Path(secret_files.__file__).read_bytes(), digest_size=12)
        await write_meta(repo.index.db, FILE_RULES_KEY, older.hexdigest())
        await repo.index.db.commit()
        await repo.index.update()
        found = await repo.index.search("Get-WarehouseRows", refresh=False)
    assert "tools/warehouse.ps1" in {r.path for r in found.results}
