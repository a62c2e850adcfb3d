#!/usr/bin/env bash
# ocp-server driven by independent, real MCP clients: the MCP Inspector CLI and Claude Code
# (tests/server/test_real_clients.py, marker `clients`), Claude Code also after `ocp-server init
# --client claude-code` (`claude mcp list` connected, a tool called through the written uvx
# command, built offline from uv's cache). Both are npm packages pinned in
# tests/clients/package.json; `npm ci` installs exactly what tests/clients/package-lock.json
# records. Everything talks to 127.0.0.1 only (fake model servers); no API key is used.
#
# Needs Node.js >= 20 with npm, and uv. On Node 20 npm prints EBADENGINE warnings for the
# inspector's dependencies (they declare >= 22); the inspector CLI works regardless.
# npm does not run the packages' install scripts (not needed: the test runs Claude Code's
# native binary from the optional platform package @anthropic-ai/claude-code-linux-x64).
#
# Timing here (2 cores, registry.npmjs.org): npm ci takes 12-20 s whether the npm cache is cold
# (empty) or warm: the time goes into unpacking Claude Code's ~245 MB native binary, not the
# download. The tests take 60-90 s (each inspector call starts a fresh ocp-server; Claude Code
# about 5 s; the init test about 45 s, most of it uvx building the checkout). Total 1.5-2 min.
#
# Extra arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS

command -v node >/dev/null 2>&1 || { echo "clients.sh: node is not on PATH (need Node.js >= 20)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "clients.sh: npm is not on PATH" >&2; exit 1; }
echo "clients.sh: node $(node --version), npm $(npm --version)"

(
    cd tests/clients
    npm ci --no-audit --no-fund --loglevel=error
)
echo "clients.sh: npm ci took $((SECONDS - started))s"

tests_started=$SECONDS
uv run pytest -m clients -q -n 0 -p no:cacheprovider "$@"
echo "clients.sh: pytest -m clients took $((SECONDS - tests_started))s; total $((SECONDS - started))s"
