"""The index's default limits, defined once, and the error of an update past its bound: the
settings read the limits too, before the server answers `initialize`, so this module imports
nothing (the index's other modules load numpy, pathspec and the redactor)."""

from typing import Final

DEFAULT_MAX_FILE_BYTES: Final = 1_000_000  # OCP_MAX_FILE_BYTES: larger files are not indexed
DEFAULT_HISTORY_COMMITS: Final = 5000  # OCP_HISTORY_COMMITS: recent commits read for ranking
#: The most changed files a save's update reads (update_now): a save citing a function just
#: written finds it, one made after a checkout of thousands of files is not held up by them.
#: Not a setting: it bounds how long a save may take, and past it nothing is lost (the
#: watcher's next update reads those files), so no value serves a user better than another.
SAVE_UPDATE_FILES: Final = 200


class TooManyChanges(Exception):
    """An update bounded to `max_files` found more changed files to read: it stopped before
    writing anything (the next unbounded update, the watcher's, reads them)."""

    def __init__(self, changed: int, max_files: int) -> None:
        super().__init__(f"{changed} changed files to read, more than {max_files}")
        self.changed = changed
