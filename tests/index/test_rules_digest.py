"""The digest the clean flags are stored under names the redaction rules this process runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import ocp_router


def _digest(root: Path, *, edit_after_import: bool, part: str = "redact") -> str:
    """RULES_DIGEST in a fresh process whose ocp_router is the copy under `root`; with
    `edit_after_import`, `part` (redact.py or one of its _redact_*.py) changes on disk after the
    rules were imported (a checkout, an upgrade) and before the index modules are (they load
    after `initialize`)."""
    code = (
        "import sys, pathlib\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "import ocp_router.redact\n"
        "r = sys.modules['ocp_router.redact']\n"
        f"assert r.__file__.startswith({str(root)!r}), r.__file__\n"
        f"source = pathlib.Path(r.__file__).with_name({part + '.py'!r})\n"
        f"if {edit_after_import!r}:\n"
        "    source.write_text(source.read_text() + '\\n# other rules\\n')\n"
        "from ocp_server.index.clean_text import RULES_DIGEST\n"
        "print(RULES_DIGEST)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def test_the_rules_digest_names_the_rules_loaded_not_the_file_as_it_is_later(
    tmp_path: Path,
) -> None:
    # A server imports the rules at start and the index modules later: flags it finds with the
    # rules it runs must not be filed under the digest of a redact.py changed meanwhile (a
    # process running those other rules would trust them).
    shutil.copytree(Path(ocp_router.__file__).parent, tmp_path / "ocp_router")
    loaded = _digest(tmp_path, edit_after_import=False)
    edited_meanwhile = _digest(tmp_path, edit_after_import=True)  # ran the rules as `loaded`
    edited = _digest(tmp_path, edit_after_import=False)  # runs the edited rules
    assert edited != loaded
    assert edited_meanwhile == loaded


def _digests_after_editing_each(root: Path, parts: list[str]) -> list[str]:
    """RULES_DIGEST as a fresh process imports the rules under `root`, then again after each of
    `parts` in turn changes on disk, re-importing the rules (and the index module) after each
    edit: one process, not two per part (49 processes ran past the 120-second test limit on a
    loaded machine, each recompiling the copied package and importing the index)."""
    code = (
        "import importlib, pathlib, sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "import ocp_router.redact\n"
        "from ocp_server.index import clean_text\n"
        "r = sys.modules['ocp_router.redact']\n"
        f"assert r.__file__.startswith({str(root)!r}), r.__file__\n"
        "print(clean_text.RULES_DIGEST)\n"
        f"for part in {parts!r}:\n"
        "    source = pathlib.Path(r.__file__).with_name(part + '.py')\n"
        "    source.write_text(source.read_text() + '\\n# other rules\\n')\n"
        "    r = importlib.reload(r)\n"
        "    importlib.reload(sys.modules['ocp_router.redact_names'])\n"  # the names' rules too
        "    print(importlib.reload(clean_text).RULES_DIGEST)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.split()


def test_the_rules_digest_changes_with_every_part_of_the_rules(tmp_path: Path) -> None:
    # redact.py runs detectors kept in _redact_*.py: an edit to any of them is other rules
    shutil.copytree(Path(ocp_router.__file__).parent, tmp_path / "ocp_router")
    parts = sorted(p.stem for p in (tmp_path / "ocp_router").glob("_redact_*.py"))
    assert len(parts) >= 5
    digests = _digests_after_editing_each(tmp_path, parts)
    assert len(digests) == len(parts) + 1
    for part, before, after in zip(parts, digests, digests[1:], strict=False):
        assert after != before, part
    # and a fresh process reading the files as the last edit left them agrees
    assert _digest(tmp_path, edit_after_import=False) == digests[-1]


def test_the_rules_digest_changes_with_the_rules_names_are_redacted_by(tmp_path: Path) -> None:
    # The index flags the symbols and scopes `redact_name` leaves unchanged: other rules for
    # names (redact_names.py) must not trust them.
    shutil.copytree(Path(ocp_router.__file__).parent, tmp_path / "ocp_router")
    before = _digest(tmp_path, edit_after_import=False)
    names = tmp_path / "ocp_router" / "redact_names.py"
    names.write_text(names.read_text() + "\n# other rules for names\n")
    assert _digest(tmp_path, edit_after_import=False) != before
