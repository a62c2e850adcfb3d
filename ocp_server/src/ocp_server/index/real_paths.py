"""Where a workspace path really leads once the symlinked folders on its way are followed.

git lists tracked paths from its index, whatever the work tree holds now: a tracked folder
replaced by a symlink (`docs -> ~/shared/docs`) still lists `docs/notes.md`, and opening that
path reads through the link, out of the workspace. The listing looks at a path's last part
itself (an lstat); `RealFolders` follows the folders above it, one lstat per folder, kept for
the rest of the listing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["RealFolders", "inside", "real_relative"]


def inside(path: str, workspace: str) -> bool:
    """Whether `path` (absolute, resolved) is the workspace (resolved) or below it."""
    return path == workspace or path.startswith(workspace.rstrip(os.sep) + os.sep)


def real_relative(root: str, rel: str) -> str | None:
    """Where `rel` leads with every symlink on its way followed (its own, its folders'),
    relative to `root` (absolute, resolved); None when that is outside it."""
    real = os.path.realpath(os.path.join(root, rel))
    if not inside(real, root):
        return None
    return os.path.relpath(real, root).replace(os.sep, "/")


class RealFolders:
    """Workspace paths with their folders' symlinks followed, for one listing."""

    def __init__(self, workspace: Path) -> None:
        self.root = str(workspace)  # resolved
        self._known: dict[str, str | None] = {"": ""}

    def real(self, rel: str) -> str | None:
        """`rel` (posix, relative) with the symlinks of the folders above it followed, still
        relative to the workspace; None when one of them leads out of it."""
        folder, _, name = rel.rpartition("/")
        real_folder = self._folder(folder)
        if real_folder is None:
            return None
        return f"{real_folder}/{name}" if real_folder else name

    def _folder(self, folder: str) -> str | None:
        if folder in self._known:
            return self._known[folder]
        parent, _, name = folder.rpartition("/")
        real_parent = self._folder(parent)
        found: str | None = None
        if real_parent is not None:
            # joined as text: this runs once per folder of the workspace on every update
            path = f"{self.root}/{real_parent}/{name}" if real_parent else f"{self.root}/{name}"
            try:
                linked = stat.S_ISLNK(os.lstat(path).st_mode)
            except OSError:  # gone: the stat of the files below it says so
                linked = False
            if not linked:
                found = f"{real_parent}/{name}" if real_parent else name
            else:
                target = os.path.realpath(path)
                if inside(target, self.root):
                    relative = Path(os.path.relpath(target, self.root)).as_posix()
                    found = "" if relative == "." else relative
        self._known[folder] = found
        return found
