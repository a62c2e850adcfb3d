"""Citations: memories tied to the code they cite, and checked against it.

A citation names code as `path:start-end` (also `path:line` and `path#L6-L8`), as
`path:symbol`, or as a bare symbol (`verify_token`, `SessionStore.rotate_session`, and
`outer.inner` for a function nested in one: `nested`; with its file, also by its short name,
`path:inner`, when the file holds one such). Saving
resolves it against the workspace index and the file on disk, and keeps the lines' content
hash, their text (redacted, as memory keeps every text: at_rest.py) and the definition they
belong to. Checking finds the lines again:

- valid: the same lines at the same place;
- moved: the same lines elsewhere in the file, or in another indexed file that defines the
  same symbol, or, when the file is gone, in one it was renamed to (where git says it went,
  else where the index saw it go, a plain `mv`: `renames`; else the same name elsewhere, or
  the same folder and extension; else, for a plain `mv` git was not told of, the files of its
  extension indexed last): the citation follows them;
- stale: not found; `change` says what happened (a short diff against what is there now).

Lines compare dedented with trailing blanks dropped: re-indenting a function (moving it into a
class) is a move, not a change. They compare by the hash of the lines as they were; the kept
text, which hides secrets, serves to find them elsewhere and to say what changed. Only files
the index holds are read, and none through a link swapped in since to a file it never reads
(`src/settings.py -> ../secrets.json`, before the index catches up), so a secret or ignored
file can never be cited or shown, and every text handed out is redacted. Files are read up
to OCP_MAX_FILE_BYTES, as the index reads them: the citations of a file grown past that are
stale until it shrinks.

The package: `parsing` reads a citation, `view` (CodeView) reads the workspace's code as the
index allows, `resolving` resolves a citation against it, `checking` checks a saved one
(`changes` says what happened to one gone stale), `blocks` finds cited lines again within a file
(`extracted`: in a function split off from the cited one), `definitions` names a file's
definitions (`nested` those in function bodies, which the index does not name), `namesakes`
tells a copy under the cited name from the cited code, `lines` compares and hashes lines,
`suggestions` proposes citations for a text.
"""

from __future__ import annotations

from ocp_server.citations.lines import content_hash, diff_summary, normalized
from ocp_server.citations.parsing import parse_citation
from ocp_server.citations.values import Check, Definition, Located, Stored, Suggestion
from ocp_server.citations.view import CodeView
from ocp_server.errors import CitationError

__all__ = [
    "Check",
    "CitationError",
    "CodeView",
    "Definition",
    "Located",
    "Stored",
    "Suggestion",
    "content_hash",
    "diff_summary",
    "normalized",
    "parse_citation",
]
