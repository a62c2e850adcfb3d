"""README's settings tables and the code agree: every OCP_* variable the code names is in a
table, every table's variable is read somewhere, and a default README writes as one value is
the code's."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ocp_router.config import RouterSettings
from ocp_server.proxy.settings import ProxySettings
from ocp_server.setting_names import SETTING_NAMES, misspelt_settings
from ocp_server.settings import ServerSettings, tool_names_setting
from ocp_wire.tools import TOOL_NAME_STYLES

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("ocp_router/src", "ocp_server/src", "ocp_wire/src", "ocp_client/src")
NAME = re.compile(r"\bOCP_[A-Z0-9_]*[A-Z0-9]\b")


def _readme_rows() -> dict[str, str]:
    """Each variable in a settings table (`| `OCP_X` | default | meaning |`) -> its default."""
    rows: dict[str, str] = {}
    for line in (ROOT / "README.md").read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        defaults = [d.strip() for d in cells[1].split(" / ")]
        for i, name in enumerate(names):
            rows[name] = defaults[i] if len(defaults) == len(names) else cells[1]
    return rows


# The list of every setting's name (to tell a misspelt one) names them all: not a reader
_EVERY_NAME = ROOT / "ocp_server/src/ocp_server/setting_names.py"


def _named_in_code() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        for path in (ROOT / source).rglob("*.py"):
            if path != _EVERY_NAME:
                found |= set(NAME.findall(path.read_text("utf-8")))
    return found


def test_every_variable_the_code_names_is_in_a_readme_table_and_back() -> None:
    rows = {name for name in _readme_rows() if name.startswith("OCP_")}
    code = _named_in_code()
    assert sorted(code - rows) == [], "read by the code, missing from README's tables"
    assert sorted(rows - code) == [], "in README's tables, read by no code"


def test_a_default_the_readme_writes_as_one_value_is_the_codes() -> None:
    rows = _readme_rows()
    checked = 0
    for model in (RouterSettings, ProxySettings):
        for field in model.model_fields.values():
            cell = rows.get(field.alias or "", "")
            if not re.fullmatch(r"`[^`]+`", cell) or field.default is None:
                continue
            default = field.default
            value = getattr(default, "value", default)  # an enum's own spelling
            shown = cell.strip("`")
            if isinstance(value, bool):
                assert shown == ("1" if value else "0"), field.alias
            elif isinstance(value, int | float):
                assert float(shown) == value, field.alias
            else:
                assert shown == value, field.alias
            checked += 1
    assert checked >= 30


def test_a_server_setting_the_readme_writes_one_default_for_is_the_codes() -> None:
    # The server's own settings (a dataclass read by ServerSettings.from_env), each named
    # OCP_<FIELD>: the check above reads only the pydantic settings of router and proxy.
    rows = _readme_rows()
    settings = ServerSettings.from_env({})
    checked = 0
    for field in dataclasses.fields(ServerSettings):
        name = f"OCP_{field.name.upper()}"
        cell = rows.get(name, "")
        if not re.fullmatch(r"`[^`]+`", cell):
            continue
        value, shown = getattr(settings, field.name), cell.strip("`")
        if value is None:  # worked out where used (`<workspace>/.ocp/ocp.db`)
            continue
        if isinstance(value, int | float):
            assert float(shown) == value, name
        else:
            assert shown == value, name
        checked += 1
    assert checked >= 9


def test_the_server_settings_read_from_no_variable_are_the_fields_defaults() -> None:
    # One default per setting: the field's, which from_env gives a variable left unset.
    assert ServerSettings.from_env({}) == ServerSettings()


def test_the_tool_names_setting_takes_each_style_and_defaults_to_the_first() -> None:
    assert ServerSettings().tool_names == tool_names_setting({}) == TOOL_NAME_STYLES[0]
    for style in TOOL_NAME_STYLES:
        assert tool_names_setting({"OCP_TOOL_NAMES": style.upper()}) == style


# The names `doctor` knows as settings (setting_names.py) are the OCP_* names the code reads:
# one missing there would be reported as a misspelling of another.
def test_the_setting_names_are_the_names_the_code_reads() -> None:
    assert sorted(SETTING_NAMES) == sorted(_named_in_code())


def test_a_misspelt_setting_is_taken_for_the_one_it_looks_like() -> None:
    env = {
        "OCP_LOCAL_MODLE": "qwen3",  # swapped letters
        "OCP_OLAMA_URL": "http://x",  # a letter missing
        "OCP_local_model": "qwen3",  # another case: names are case-sensitive
        "OCP_LOCAL_MODEL": "llama3.2",  # a real one
        "OCP_VERSION": "4.14",  # OpenShift's, like no setting of OCP's
        "PATH": "/usr/bin",
    }
    assert misspelt_settings(env) == {
        "OCP_LOCAL_MODLE": "OCP_LOCAL_MODEL",
        "OCP_OLAMA_URL": "OCP_OLLAMA_URL",
        "OCP_local_model": "OCP_LOCAL_MODEL",
    }
