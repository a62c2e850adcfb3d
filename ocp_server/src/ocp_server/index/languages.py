"""Language detection for workspace files, by file name and extension only.

`detect_language` never reads the file: the indexer calls it for every path it walks, so it must
be a couple of dictionary look-ups. The languages with a tree-sitter grammar (`SYNTAX_LANGUAGES`:
one module each under `chunking/`, which also names their extensions and file names) are chunked
by definition; markdown by heading; every other kind returned here is plain text that the
chunker cuts into line windows. `None` means "not a kind we know"; the indexer may still index
such a file as text if it looks textual.
"""

from __future__ import annotations

import posixpath

from ocp_server.argument_errors import field_problem
from ocp_server.errors import InputError
from ocp_server.index.chunking.registry import EXTENSIONS as GRAMMAR_EXTENSIONS
from ocp_server.index.chunking.registry import FILENAMES as GRAMMAR_FILENAMES
from ocp_server.index.chunking.registry import SPECS

__all__ = [
    "KNOWN_LANGUAGES",
    "SYNTAX_LANGUAGES",
    "TEXT_LANGUAGES",
    "detect_language",
    "language_named",
]

#: Languages chunked with a tree-sitter grammar (one module each in `chunking/`, which also
#: names their extensions and file names).
SYNTAX_LANGUAGES: frozenset[str] = frozenset(SPECS)

_EXTENSIONS: dict[str, str] = {
    **GRAMMAR_EXTENSIONS,
    # Markdown: chunked by heading.
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".mkd": "markdown",
    ".mdx": "markdown",
    # Plain-text kinds: chunked into line windows.
    ".txt": "text",
    ".text": "text",
    ".rst": "rst",
    ".adoc": "text",
    ".po": "text",
    ".pot": "text",
    ".json": "json",
    ".jsonc": "json",
    ".json5": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".geojson": "json",
    ".ipynb": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".conf": "ini",
    ".properties": "ini",
    ".env": "ini",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".fish": "shell",
    ".ksh": "shell",
    ".ps1": "powershell",
    ".bat": "batch",
    ".cmd": "batch",
    ".sql": "sql",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jinja": "html",
    ".jinja2": "html",
    ".j2": "html",
    ".vue": "html",
    ".svelte": "html",
    ".xml": "xml",
    ".xsd": "xml",
    ".xsl": "xml",
    ".svg": "xml",
    ".plist": "xml",
    ".csproj": "xml",
    ".css": "css",
    ".scss": "css",
    ".sass": "css",
    ".less": "css",
    ".graphql": "graphql",
    ".gql": "graphql",
    ".proto": "protobuf",
    ".tf": "hcl",
    ".hcl": "hcl",
    ".gradle": "groovy",
    ".groovy": "groovy",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".lua": "lua",
    ".pl": "perl",
    ".pm": "perl",
    ".r": "r",
    ".dart": "dart",
    ".ex": "elixir",
    ".exs": "elixir",
    ".erl": "erlang",
    ".hs": "haskell",
    ".ml": "ocaml",
    ".clj": "clojure",
    ".zig": "zig",
    ".nim": "nim",
    ".vim": "vim",
    ".el": "lisp",
    ".csv": "csv",
    ".tsv": "csv",
    ".pyx": "cython",
    ".pxd": "cython",
    ".cmake": "cmake",
    ".mk": "makefile",
    ".diff": "diff",
    ".patch": "diff",
}

_FILENAMES: dict[str, str] = {
    **GRAMMAR_FILENAMES,
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "makefile": "makefile",
    "gnumakefile": "makefile",
    "cmakelists.txt": "cmake",
    "jenkinsfile": "groovy",
    "readme": "text",
    "license": "text",
    "licence": "text",
    "copying": "text",
    "authors": "text",
    "notice": "text",
    "changelog": "text",
    "manifest.in": "text",
    "requirements.txt": "text",
    ".gitignore": "text",
    ".gitattributes": "text",
    ".dockerignore": "text",
    ".editorconfig": "ini",
    ".bashrc": "shell",
    ".zshrc": "shell",
    ".profile": "shell",
    ".env": "ini",
    "pipfile": "toml",
    "go.mod": "text",
    "go.sum": "text",
    "cargo.lock": "toml",
}

#: Every kind `detect_language` can return that is chunked as plain line windows.
TEXT_LANGUAGES: frozenset[str] = frozenset(
    (set(_EXTENSIONS.values()) | set(_FILENAMES.values())) - SYNTAX_LANGUAGES - {"markdown"}
)

#: Every kind `detect_language` can return: what a search's `language` may name.
KNOWN_LANGUAGES: frozenset[str] = SYNTAX_LANGUAGES | TEXT_LANGUAGES | {"markdown"}


def language_named(value: str) -> str:
    """The language a search's `language` names: a language (`python`) or one of its file
    extensions (`py`, `.py`), in any case. One that names none is an error listing the known
    ones: an empty answer would read as "no such code"."""
    wanted = value.strip().lower()
    found = wanted if wanted in KNOWN_LANGUAGES else _EXTENSIONS.get("." + wanted.lstrip("."))
    if found is None:
        raise InputError(
            field_problem(
                "language",
                "expected a language OCP indexes or a file extension such as py",
                value,
                hint=f"the languages: {', '.join(sorted(KNOWN_LANGUAGES))}",
            )
        )
    return found


def detect_language(path: str) -> str | None:
    """The language (or text kind) of `path` from its file name, or None when unknown.

    Works on POSIX or Windows separators; matching is case-insensitive (`README.MD`,
    `Makefile`). Multi-dot names use the last extension (`app.test.tsx` is "tsx").
    """
    name = posixpath.basename(path.replace("\\", "/")).lower()
    kind = _FILENAMES.get(name)
    if kind is not None:
        return kind
    dot = name.rfind(".")
    if dot <= 0:  # no extension, or an unknown dot-file such as ".npmrc"
        return None
    kind = _EXTENSIONS.get(name[dot:])
    if kind is None:
        if name.startswith("dockerfile.") or name.endswith(".dockerfile"):
            return "dockerfile"
        if name.startswith("makefile."):
            return "makefile"
    return kind
