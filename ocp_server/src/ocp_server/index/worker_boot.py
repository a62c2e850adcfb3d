"""Loaded by the forkserver that indexing workers fork from, never by the server itself.

The forkserver captures its signal handlers after loading this, and gives each worker those
handlers: with Ctrl-C ignored here, a worker ignores it from its first instruction. A
terminal's Ctrl-C reaches every process of its group, and one still starting (before its
initializer) would otherwise die printing a KeyboardInterrupt traceback; stopping the build
is its parent's job. The indexer is loaded once here, not in every worker (numpy, the
grammars: about half a second each).
"""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)

import ocp_server.index.indexer  # noqa: E402, F401
