"""The index's default limits, defined once: the settings read them too, before the server
answers `initialize`, so this module imports nothing (the index's other modules load numpy,
pathspec and the redactor)."""

from typing import Final

DEFAULT_MAX_FILE_BYTES: Final = 1_000_000  # OCP_MAX_FILE_BYTES: larger files are not indexed
DEFAULT_HISTORY_COMMITS: Final = 5000  # OCP_HISTORY_COMMITS: recent commits read for ranking
