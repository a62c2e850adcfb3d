#!/usr/bin/env bash
# The install path users get: the four wheels built from this checkout, installed into a fresh
# virtualenv from one folder alone (`pip install --no-index --find-links`), then checked by
# tests/test_wheels.py (marker `wheels`): `ocp-server --version`, `ocp-server doctor`, and an MCP
# initialize + tools/list + call against the installed entry point. A second virtualenv holds
# `ocp-client` alone, installed the same way: it must come without ocp-server and its grammars,
# and drive the first one's server.
#
# Where the third-party dependencies come from: uv.lock. `uv export` writes its exact pins (with
# hashes) and `pip download --require-hashes` fetches those wheels into the same folder as ours.
# So the no-index install proves that our wheels' metadata resolves among themselves (an
# unpinned or mis-pinned ocp-router cannot be picked up from PyPI: there is no PyPI in that
# step), that every dependency they declare is in the lock, and that the locked set installs;
# `pip check` then checks every requirement. (Installing third-party packages from PyPI first and
# ours with `--no-deps` would prove none of that: --no-deps skips exactly the metadata at stake.)
#
# Timing here (2 cores shared with other jobs, so noisy): 2-3 minutes in all: 35-50 s building
# the wheels and downloading 54 locked ones, 30-40 s installing them, about 20 s the quick
# start's `uv tool install`, about 20 s the pip-only install (21 s of a 106 s run, load 5-7),
# 35-55 s the tests.
#
# It also follows the README's quick start (`uv tool install --compile-bytecode ./ocp_server`,
# `ocp-server init`), and its way without uv (`pip install ./ocp_wire ./ocp_router
# ./ocp_server` in a fresh virtualenv, `ocp-server init`).
#
# Extra arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wheelhouse="$work/wheelhouse"
mkdir -p "$wheelhouse"

uv build --all-packages --wheel --out-dir "$wheelhouse" -q
ls "$wheelhouse"

uv export --frozen --no-dev --no-emit-workspace --all-packages --output-file "$work/locked.txt" -q
python3 -m venv "$work/venv"
pip=("$work/venv/bin/pip" --disable-pip-version-check --quiet)
"${pip[@]}" download --require-hashes --only-binary=:all: -r "$work/locked.txt" -d "$wheelhouse"
echo "wheels.sh: wheelhouse of $(ls "$wheelhouse" | wc -l) wheels ready after $((SECONDS - started))s"

version=$(python3 -c 'import tomllib; print(tomllib.load(open("ocp_server/pyproject.toml", "rb"))["project"]["version"])')
# --isolated and PIP_CONFIG_FILE=/dev/null: no pip.conf or PIP_* variable may add a place to
# look (a find-links or a constraint file configured on the machine): that folder alone.
PIP_CONFIG_FILE=/dev/null "${pip[@]}" install --isolated --no-index --find-links "$wheelhouse" \
    "ocp-server==$version" "ocp-client==$version"
"$work/venv/bin/pip" check
"$work/venv/bin/ocp-server" --version
echo "wheels.sh: installed without an index after $((SECONDS - started))s"

python3 -m venv "$work/client-venv"
PIP_CONFIG_FILE=/dev/null "$work/client-venv/bin/pip" --disable-pip-version-check --quiet \
    install --isolated --no-index --find-links "$wheelhouse" "ocp-client==$version"
"$work/client-venv/bin/pip" check
echo "wheels.sh: ocp-client alone installed after $((SECONDS - started))s"

# The README's quick start, as written: `uv tool install --compile-bytecode ./ocp_server`, then
# `ocp-server init`
# in a fresh git project writes the installed entry point and checks that it starts.
tools="$work/uv-tools"
UV_TOOL_DIR="$tools/tools" UV_TOOL_BIN_DIR="$tools/bin" uv tool install --quiet --compile-bytecode ./ocp_server
project="$work/project"
mkdir -p "$project" && git -C "$project" init -q
(cd "$project" && "$tools/bin/ocp-server" init --client claude-code)
python3 - "$project/.mcp.json" "$tools/tools/ocp-server/bin/ocp-server" <<'PY'
import json, sys
entry = json.load(open(sys.argv[1]))["mcpServers"]["ocp"]
assert entry["command"] == sys.argv[2] and entry["args"] == [], entry
assert "env" not in entry, "no API key without --paid"
PY
echo "wheels.sh: the quick start's install and init work after $((SECONDS - started))s"

# The README's way without uv: pip, given the three folders ocp-server is made of (its
# ocp-router and ocp-wire of this version are on no index), into a fresh virtualenv; then
# `ocp-server init --client cursor` writes that venv's ocp-server and checks that it starts.
# Built from the folders by pip (hatchling, the build backend, fetched into the wheelhouse),
# their dependencies from the wheelhouse alone: the folders' metadata must resolve together.
pip_started=$SECONDS
"${pip[@]}" download --only-binary=:all: -d "$wheelhouse" "hatchling>=1.25"
python3 -m venv "$work/pip-venv"
PIP_CONFIG_FILE=/dev/null "$work/pip-venv/bin/pip" --disable-pip-version-check --quiet install \
    --isolated --no-index --find-links "$wheelhouse" ./ocp_wire ./ocp_router ./ocp_server
"$work/pip-venv/bin/pip" check
pip_project="$work/pip-project"
mkdir -p "$pip_project" && git -C "$pip_project" init -q
(cd "$pip_project" && "$work/pip-venv/bin/ocp-server" init --client cursor)
python3 - "$pip_project/.cursor/mcp.json" "$work/pip-venv/bin/ocp-server" <<'PY'
import json, sys
entry = json.load(open(sys.argv[1]))["mcpServers"]["ocp"]
assert entry["command"] == sys.argv[2] and entry["args"] == [], entry
PY
echo "wheels.sh: the README's pip install and init work after $((SECONDS - started))s" \
    "($((SECONDS - pip_started))s for them)"

tests_started=$SECONDS
WHEELS_VENV_BIN="$work/venv/bin" WHEELS_CLIENT_VENV_BIN="$work/client-venv/bin" uv run pytest -m wheels -q -n 0 -p no:cacheprovider "$@"
echo "wheels.sh: pytest -m wheels took $((SECONDS - tests_started))s; total $((SECONDS - started))s"
