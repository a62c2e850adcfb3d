"""The boundaries between the four distributions, and each package's public surface.

A distribution imports only the distributions it declares as dependencies (so ocp_client, which
depends on ocp-wire, never imports ocp_server), and only their public modules: a private module
(`_name`) is free to change inside its own distribution. `pip install ocp-client` brings neither
the server nor its grammars. Every `__all__` lists names the module defines, sorted.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "ocp_router": ROOT / "ocp_router" / "src" / "ocp_router",
    "ocp_wire": ROOT / "ocp_wire" / "src" / "ocp_wire",
    "ocp_server": ROOT / "ocp_server" / "src" / "ocp_server",
    "ocp_client": ROOT / "ocp_client" / "src" / "ocp_client",
}


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            # `from ocp_router import _tokens` imports a private module too.
            names.extend(f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_"))
    return names


def _private_imports_of_other_distributions() -> list[tuple[str, str]]:
    found = []
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for module in _imported_modules(tree):
                top, *rest = module.split(".")
                if top in PACKAGES and top != package and any(p.startswith("_") for p in rest):
                    where = path.relative_to(folder.parent).as_posix()
                    found.append((where, module))
    return found


def test_no_distribution_imports_another_distributions_private_modules() -> None:
    violations = list(_private_imports_of_other_distributions())
    assert violations == []


def _declared_dependencies(package: str) -> set[str]:
    """The packages of ours that `package`'s distribution depends on (extras left out)."""
    project = tomllib.loads((PACKAGES[package].parents[1] / "pyproject.toml").read_text())
    names = {
        Requirement(line).name.replace("-", "_") for line in project["project"]["dependencies"]
    }
    return names & set(PACKAGES)


def _undeclared_imports() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for package, folder in PACKAGES.items():
        allowed = _declared_dependencies(package) | {package}
        for path in sorted(folder.rglob("*.py")):
            for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
                top = module.split(".")[0]
                if top in PACKAGES and top not in allowed:
                    found.append((path.relative_to(folder.parent).as_posix(), module))
    return found


def test_a_distribution_imports_only_the_distributions_it_depends_on() -> None:
    # ocp_client uses the router's redaction on the server's stderr (OCPServerError)
    assert _declared_dependencies("ocp_client") == {"ocp_router", "ocp_wire"}
    assert _declared_dependencies("ocp_wire") == {"ocp_router"}
    assert _declared_dependencies("ocp_router") == set()
    assert _undeclared_imports() == []


def test_the_import_check_sees_an_import_of_the_server_from_the_client() -> None:
    tree = ast.parse("from ocp_server import wire\nimport ocp_server.cli\n")
    assert _imported_modules(tree) == ["ocp_server", "ocp_server.cli"]


def _locked_closure(name: str) -> set[str]:
    """Every package `name` installs (without extras), by uv.lock."""
    lock = {p["name"]: p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(dep["name"] for dep in lock[current].get("dependencies", []))
    return seen


def test_the_client_installs_without_the_server_and_its_grammars() -> None:
    client = _locked_closure("ocp-client")
    assert {"ocp-wire", "mcp", "pydantic"} <= client
    assert "ocp-server" not in client
    heavy = sorted(p for p in client if p.startswith("tree-sitter") or p in {"numpy", "aiosqlite"})
    assert heavy == []
    # The same walk finds them under the server, so an empty answer above means something.
    server = _locked_closure("ocp-server")
    assert {"ocp-wire", "tree-sitter-python", "numpy"} <= server


def test_the_client_takes_its_tool_names_from_the_wire_models() -> None:
    import ocp_wire
    from ocp_client import client

    assert set(client._OUTPUTS) == {t.name for t in ocp_wire.TOOL_SHAPES} | {
        t.verb for t in ocp_wire.TOOL_SHAPES
    }


def _modules_with_all() -> list[str]:
    modules = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        modules.append(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            spec = importlib.util.find_spec(info.name)
            assert spec is not None, info.name
            source = Path(spec.origin or "")
            if source.suffix == ".py" and "__all__" in source.read_text(encoding="utf-8"):
                modules.append(info.name)
    return modules


@pytest.mark.parametrize("name", _modules_with_all())
def test_every_all_is_sorted_and_names_what_the_module_defines(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what it does not define"


def test_the_token_estimator_is_public() -> None:
    from ocp_router import estimate_tokens
    from ocp_router.tokens import estimate_tokens as from_module

    assert estimate_tokens is from_module
    assert estimate_tokens("def verify_token(token: str) -> bool:") > 5


def test_the_routers_lazy_names_are_its_public_names() -> None:
    import ocp_router
    import ocp_router.redact  # noqa: F401 - a module named like a function it exports

    assert set(ocp_router._HOMES) == set(ocp_router.__all__) - {"__version__", "redact"}
    assert ocp_router.redact is ocp_router.redact.__globals__["redact"]
    for name, home in ocp_router._HOMES.items():
        assert getattr(importlib.import_module(home), name) is getattr(ocp_router, name)


def test_reading_the_servers_settings_loads_no_router_index_or_numpy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ocp_server.settings, ocp_server.server, ocp_server.cli; "
        "print(sorted(m for m in ('numpy', 'httpx', 'ocp_router.router', 'ocp_server.app', "
        "'ocp_server.index.workspace', 'tree_sitter') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_doctor_loads_no_mcp_sdk() -> None:
    # The SDK took half of doctor's start (0.43 s of 0.88 s of imports) for four tool names;
    # under load that was what made a doctor run take tens of seconds.
    import subprocess
    import sys

    code = "import sys, ocp_server.doctor; print(sorted(m for m in sys.modules if m == 'mcp'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_module_over_600_lines_says_why_at_its_top() -> None:
    sources = [
        *ROOT.glob("ocp_*/src/**/*.py"),
        *ROOT.glob("bench/*.py"),
        *ROOT.glob("scripts/*.py"),
    ]
    unexplained = []
    for path in sources:
        text = path.read_text("utf-8")
        if text.count("\n") <= 600:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if "over 600 lines" not in docstring.lower():
            unexplained.append(str(path.relative_to(ROOT)))
    assert unexplained == []


def test_every_test_module_keeps_to_600_lines() -> None:
    # A test module over 600 lines holds several behaviours: split it into modules named after
    # each (shared helpers go in plain modules). tests/data and tests/fakes are data and fakes.
    long = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        if where.startswith(("tests/data/", "tests/fakes/")):
            continue
        if path.read_text("utf-8").count("\n") > 600:
            long.append(where)
    assert long == []


def _test_modules_imported(path: Path, tree: ast.AST) -> list[str]:
    """The test modules (`test_*.py`) that the file at `path`, below ROOT, imports."""
    package = path.relative_to(ROOT).parent.parts
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, *(node.module or "").split("."))).strip(".")
            # `from tests.proxy import test_proxy_sdks` imports the module itself.
            found.extend([module, *(f"{module}.{alias.name}" for alias in node.names)])
    return sorted({m for m in found if m.rsplit(".", 1)[-1].startswith("test_")})


def test_no_test_module_imports_another() -> None:
    # What tests share lives in plain helper modules (tests/proxy/dialects.py): a test module
    # imported for its helpers drags its tests' set-up along and hides where helpers live.
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        imported = _test_modules_imported(path, ast.parse(path.read_text("utf-8")))
        if imported:
            found[path.relative_to(ROOT).as_posix()] = imported
    assert found == {}


def test_the_test_import_check_sees_each_form_of_import() -> None:
    path = ROOT / "tests" / "proxy" / "test_one.py"
    source = (
        "from tests.proxy.test_proxy_sdks import HARD\n"
        "from tests.proxy import test_proxy_faults, dialects\n"
        "from .test_proxy_wire import SSE\n"
        "from . import test_proxy_units\n"
        "import tests.server.test_cli_first_run\n"
        "from tests.proxy.dialects import SIMPLE\n"
    )
    assert _test_modules_imported(path, ast.parse(source)) == [
        "tests.proxy.test_proxy_faults",
        "tests.proxy.test_proxy_sdks",
        "tests.proxy.test_proxy_units",
        "tests.proxy.test_proxy_wire",
        "tests.server.test_cli_first_run",
    ]
