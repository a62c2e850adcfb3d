"""The cyclic garbage collector, kept off the work that builds many objects and no garbage.

The collector runs every few hundred new containers and walks the young ones, and more and
more of the old as they pile up. Two kinds of work build many containers and leave no
cycles to find: parsing a large JSON body (`collector_paused`), and importing the server's
modules (`importing`), whose classes, functions and pydantic validators live as long as the
process."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collecting", "collector_paused", "importing"]

_pause_lock = threading.Lock()
_pauses = 0
_thresholds = gc.get_threshold()  # the application's, while paused
#: Seconds what a pause let build stays frozen after it (`_freeze_a_while`).
UNFREEZE_AFTER = 10.0
_unfreeze: threading.Timer | None = None  # our freeze's end, while one holds
_built = False  # a pause of the current span was collector_paused's (not `importing`'s)
_imports_frozen = False  # `importing` froze what it made, for good


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while JSON is parsed into many objects.

    A 30 MB body of 60,000 messages parsed in 0.2 s with it off took 0.5-1 s with it on, all
    in one call that holds the GIL (the event loop waits on it, in whichever thread the parse
    runs). What the parser builds holds no cycles, so the collector finds nothing there.
    Process-wide, so counted. Paused by a first threshold of 0 (no collection starts), not
    by gc.disable(): an application's gc.disable() or gc.enable() meanwhile is its own, and
    kept; its thresholds come back at the end unless it set its own meanwhile. What it let
    build is then frozen a while (`_freeze_a_while`)."""
    with _paused(freeze_after=True):
        yield


@contextmanager
def _paused(*, freeze_after: bool) -> Iterator[None]:
    global _pauses, _thresholds, _built
    with _pause_lock:
        if _pauses == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(0, *_thresholds[1:])
        _pauses += 1
        _built = _built or freeze_after
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0:
                if gc.get_threshold()[0] == 0:
                    gc.set_threshold(*_thresholds)
                if _built:
                    _freeze_a_while()
                _built = False


def _freeze_a_while() -> None:
    """What the pause let build, out of the collector's sight for UNFREEZE_AFTER seconds: the
    first collection after it walked every object of the body still held (0.13-0.24 s of
    60,000 messages, holding the GIL), as young objects, and found nothing. Frozen
    (`gc.freeze`: everything tracked, in one step), the body is let go by reference counts
    meanwhile; then `gc.unfreeze` hands what is left to the oldest generation, which the
    collector walks only in a whole collection. Not when something else froze objects
    (`importing`, an application): unfreezing, all or nothing, would undo that. Whether an
    application froze any is asked last: `gc.get_freeze_count` walks every frozen object
    (20 ms over two million), and `importing`'s freeze alone made each body's pause walk the
    server's 180,000 modules' objects."""
    global _unfreeze
    if _unfreeze is None and (_imports_frozen or gc.get_freeze_count() > 0):
        return
    if _unfreeze is not None:
        _unfreeze.cancel()
    gc.freeze()
    _unfreeze = timer = threading.Timer(UNFREEZE_AFTER, lambda: _thaw(timer))
    timer.daemon = True
    timer.start()


def _thaw(timer: threading.Timer) -> None:
    global _unfreeze
    with _pause_lock:
        if _unfreeze is timer:  # not cancelled by a later pause, nor kept by `importing`
            _unfreeze = None
            gc.unfreeze()


def _keep_frozen() -> None:
    """`importing`'s freeze is for good: a pending unfreeze would undo it."""
    global _unfreeze, _imports_frozen
    with _pause_lock:
        _imports_frozen = True
        if _unfreeze is not None:
            _unfreeze.cancel()
            _unfreeze = None


def collecting() -> bool:
    """Whether a collection may start: the collector on, and not paused."""
    return gc.isenabled() and gc.get_threshold()[0] > 0


@contextmanager
def importing() -> Iterator[None]:
    """Modules imported with the collector paused, and what they made moved out of its sight
    (`gc.freeze`) when the block imported any: a server's start ran about 290 collections
    (two of them whole) over its 180,000 objects, 250-330 ms of CPU at load 6-10, and they
    found about 1,200 to free; frozen, a later whole collection no longer walks them either.
    Objects of the block that become garbage in a cycle later stay (there are few: imports keep
    what they make)."""
    before = len(sys.modules)
    with _paused(freeze_after=False):
        yield
    if len(sys.modules) != before:
        _keep_frozen()
        gc.freeze()
