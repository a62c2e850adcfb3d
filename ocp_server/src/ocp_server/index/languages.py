"""Language detection for workspace files, by file name and extension only.

`detect_language` never reads the file: the indexer calls it for every path it walks, so it must
be a couple of dictionary look-ups. The twelve languages with a tree-sitter grammar
(`SYNTAX_LANGUAGES`) are chunked by definition; markdown by heading; every other kind returned
here is plain text that the chunker cuts into line windows. `None` means "not a kind we know";
the indexer may still index such a file as text if it looks textual.
"""

from __future__ import annotations

import posixpath

__all__ = ["SYNTAX_LANGUAGES", "TEXT_LANGUAGES", "detect_language"]

#: Languages chunked with a tree-sitter grammar.
SYNTAX_LANGUAGES: frozenset[str] = frozenset(
    {
        "python",
        "javascript",
        "typescript",
        "tsx",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "csharp",
        "ruby",
        "php",
    }
)

_EXTENSIONS: dict[str, str] = {
    # Languages with a grammar.
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".inl": "cpp",
    ".tpp": "cpp",
    ".cu": "cpp",
    ".cs": "csharp",
    ".csx": "csharp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".ru": "ruby",
    ".php": "php",
    ".phtml": "php",
    ".php3": "php",
    ".php4": "php",
    ".php5": "php",
    ".php7": "php",
    ".phps": "php",
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
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "makefile": "makefile",
    "gnumakefile": "makefile",
    "cmakelists.txt": "cmake",
    "rakefile": "ruby",
    "gemfile": "ruby",
    "guardfile": "ruby",
    "podfile": "ruby",
    "vagrantfile": "ruby",
    "brewfile": "ruby",
    "fastfile": "ruby",
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
