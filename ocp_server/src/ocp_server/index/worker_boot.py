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
"""

import os
import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
_nowhere = os.open(os.devnull, os.O_WRONLY)
os.dup2(_nowhere, 1)
os.dup2(_nowhere, 2)
os.close(_nowhere)

import ocp_server.index.indexer  # noqa: E402, F401
