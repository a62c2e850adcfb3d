"""The listing's fast judgement of a path's names (a set, `endswith`, `startswith`, a pair of
names, per name) agrees with the one regex over the whole path that pathspec makes of
SECRET_PATTERNS, and the split of a plain path with PurePosixPath's parts, on every tricky path:
each rule's names, their case variants, near misses, folders so named, dotfiles, unicode whose
case folding differs from lower(), and paths not in git's form."""

from __future__ import annotations

import itertools
from pathlib import PurePosixPath

from ocp_server.index import files
from ocp_server.index.secret_files import _SECRET_RE, SECRET_PATTERNS, _named, _secret_in_path

# Stand-ins for a `*`: nothing, a letter, a dot, a word that is itself a rule's, unicode.
_FILLS = ("", "x", ".json", "credentials", "ſ")


def _names() -> set[str]:
    names: set[str] = set()
    for pattern in SECRET_PATTERNS:
        core = pattern.removeprefix("**/")
        for fill in _FILLS:
            name = core.replace("*", fill)
            for variant in (name, name.upper(), name.swapcase()):
                names.update({variant, variant[:-1], variant[1:], "x" + variant, variant + ".bak"})
            names.update({name + "\n", name.replace(".", "_")})
    # case folding that lower() does not do, or does differently: Kelvin K, long s, dotted I
    names.update(
        {".\u212a\u0435y", "ſecrets.json", "SECRETS.\u0130NI", "İd_rsa", "\u212aubeconfig"}
    )
    names.update({"main.py", "README.md", ".gitignore", "a", ".", "..", "", ".hidden", "keys"})
    return names


def _paths() -> list[str]:
    names = sorted(_names())
    folders = ("", "a/b/", ".aws/", "deploy/.kube/", "gh/", "Ünï/")
    found: set[str] = set()
    for folder, name in itertools.product(folders, names):
        path = folder + name
        found.update({path, path + "/main.py", "/" + path, path.replace("/", "//")})
    for name in names:  # paths not in git's form
        found.update({name + "/", "./" + name, "a/./" + name, name + "/.", "/a/" + name})
    return sorted(found)


def _old_secret_name(rel: str) -> bool:
    return _SECRET_RE.match(rel) is not None or _secret_in_path(rel)


def _old_builtin_exclusion(rel: str) -> str | None:
    """files._builtin_exclusion as it was, parsing every path with PurePosixPath."""
    parts = PurePosixPath(rel).parts
    if (outer := next((p for p in parts[:-1] if p in files.VENDORED_DIRS), None)) is not None:
        return files.EDITOR_REASON if outer in files.EDITOR_DIRS else files.VENDORED_REASON
    name = parts[-1].lower() if parts else ""
    if _old_secret_name(rel):
        return "secret"
    if name in files.LOCKFILES:
        return "lockfile"
    if name.endswith(files._MINIFIED_SUFFIXES):
        return "minified"
    if name.endswith(files._GENERATED_SUFFIXES):
        return "generated"
    return None


def test_secret_names_are_judged_by_each_name_as_the_whole_path_regex_judges_them() -> None:
    paths = _paths()
    assert len(paths) > 20_000
    differ = [p for p in paths if _named(p) != (_SECRET_RE.match(p) is not None)]
    assert differ == []
    secret = sum(map(_named, paths))
    assert 0.2 * len(paths) < secret < 0.9 * len(paths)  # both verdicts well tried


def test_plain_paths_are_split_as_pure_posix_path_parses_them() -> None:
    paths = _paths()
    assert sum(map(files._plain, paths)) > len(paths) // 4
    for path in paths:
        if files._plain(path):
            assert tuple(path.split("/")) == PurePosixPath(path).parts, path
    differ = [
        p for p in paths if files._builtin_exclusion.__wrapped__(p) != _old_builtin_exclusion(p)
    ]
    assert differ == []


def test_vendored_lockfile_and_generated_paths_keep_their_reasons() -> None:
    extra = [
        "node_modules/x/.env",
        "src/.vscode/settings.json",
        "a/uv.lock",
        "Cargo.lock",
        "web/app.min.js",
        "api/x_pb2.py",
        "venv/lib/a.py",
        "./node_modules/a.py",
        "a//.idea/x",
        "/vendor/a.go",
    ]
    for path in extra:
        assert files._builtin_exclusion.__wrapped__(path) == _old_builtin_exclusion(path), path
    assert files._builtin_exclusion.__wrapped__("a/uv.lock") == "lockfile"


def test_a_secret_file_under_a_folder_whose_name_holds_a_newline_is_a_secret() -> None:
    # git tracks such names; the whole-path pattern's `.` stopped at the newline
    assert files.path_exclusion("a\nb/.env") == "secret"
    assert files.path_exclusion("notes\nold/keys/id_rsa") == "secret"
    assert files.path_exclusion("a\nb/readme.md") is None
