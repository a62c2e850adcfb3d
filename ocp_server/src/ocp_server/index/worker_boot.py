"""Loaded by the forkserver that indexing workers fork from, never by the server itself.

The forkserver captures its signal handlers after loading this, and gives each worker those
handlers: with Ctrl-C ignored here, a worker ignores it from its first instruction. A
terminal's Ctrl-C reaches every process of its group, and one still starting (before its
initializer) would otherwise die printing a KeyboardInterrupt traceback; stopping the build
is its parent's job. The indexer is loaded once here, not in every worker (numpy, the
grammars: about half a second each).

The forkserver lives as long as the server, and its stdout and stderr were the server's: it
writes nothing there from now on (a client may never read that stderr, and a write to a full
pipe would block every worker's start). Each worker writes to a pipe of its own
(worker_output).

A process started from a script's file imports that script again, as `__mp_main__`, before
it runs (multiprocessing's spawn preparation, which forkserver children go through too): a
library user's script without `if __name__ == "__main__":` then ran whole in every worker,
each building an index of its own, unseen. An indexing worker (file_pool.IndexWorker) runs
only the indexer's functions and needs nothing from `__main__`, so its preparation skips
it; any other process forked from here (the user's own, sharing this forkserver) is prepared
as before.
"""

import os
import signal
from collections.abc import Mapping
from multiprocessing import spawn
from typing import Any

signal.signal(signal.SIGINT, signal.SIG_IGN)
_nowhere = os.open(os.devnull, os.O_WRONLY)
os.dup2(_nowhere, 1)
os.dup2(_nowhere, 2)
os.close(_nowhere)

import ocp_server.index.indexer  # noqa: E402, F401

_MAIN_KEYS = ("init_main_from_path", "init_main_from_name")
_prepare = spawn.prepare


def _prepare_worker(data: Mapping[str, Any]) -> None:
    if str(data.get("name", "")).startswith("IndexWorker-"):
        data = {key: value for key, value in data.items() if key not in _MAIN_KEYS}
    _prepare(data)


spawn.prepare = _prepare_worker  # spawn._main, run in each forked child, looks it up here
