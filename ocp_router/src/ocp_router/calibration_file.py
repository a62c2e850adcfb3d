"""A workspace's routing calibration on disk: what each local model learned from outcomes.

A threshold learned while the user ran a weak local model (llama3.2:1b) says little about a
strong one (qwen2.5-coder:32b): the outcomes judged the weak model's answers. So the file keeps
one `Calibration` per local model and endpoint (`model_key`), the one the route was decided
against (its trace's `local_model`), and a model OCP has not seen starts from the defaults.
Switching back finds the old model's lessons where they were. At most `MAX_MODELS` are kept:
the one taught least recently is dropped.

A file of format 1 (before models were recorded) says nothing of which model its outcomes
judged: they are kept under `NO_MODEL`, routing uses them for any model that has learned nothing
of its own, and the first model that learns takes them over (the common case: the user has not
switched since). An outcome saved without a model (an old trace) goes there too.

Keys are normalized (calibration_keys.py: `llama3.2` is `llama3.2:latest`, a URL's trailing
slash dropped); a key stored, or carried by a trace, before that is read as the normalized
one, and two that meet are merged.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ocp_router.calibration import (
    BIN,
    CAP,
    PRIOR_SD,
    SLOPE,
    Calibration,
    Outcome,
    wanted_paid,
)
from ocp_router.calibration_keys import canonical_key
from ocp_router.tiers import DEFAULT_ROUTE_THRESHOLD

FORMAT = "ocp-routing-calibration/2"
FORMAT_1 = "ocp-routing-calibration/1"  # one calibration for every model, read as NO_MODEL's
FILE_NAME = "routing-calibration.json"
NO_MODEL = "(model not recorded)"
# Each model's part is bounded by its halving (about 50 KB at a busy task type's peak), so the
# file by this many of them.
MAX_MODELS = 4


@dataclass(slots=True)
class Calibrations:
    """The calibrations of one workspace's file, by local model (`model_key`), the one taught
    most recently last."""

    base_threshold: float = DEFAULT_ROUTE_THRESHOLD
    models: dict[str, Calibration] = field(default_factory=dict)

    def of(self, model: str) -> Calibration | None:
        """The calibration routing uses for `model`: its own, else what was learned without a
        model (a file of format 1), else None (the defaults)."""
        own = self.models.get(canonical_key(model))
        return own if own is not None else self.models.get(NO_MODEL)

    def record(
        self,
        model: str,
        task_type: str,
        score: float,
        routed_paid: bool,
        outcome: Outcome,
        *,
        trace_id: str | None = None,
    ) -> bool:
        """Learn one outcome of a route decided against local model `model`
        (`Calibration.record`): the point the route taught before is taken back first,
        whichever model it taught. True when the state changed."""
        if wanted_paid(outcome, routed_paid) is None:
            return self.take_back(trace_id) if trace_id else False
        if trace_id:
            self.take_back(trace_id)
        model = canonical_key(model)
        cal = self.models.pop(model, None)
        if cal is None:  # new: take over what was learned without a model, else the defaults
            cal = self.models.pop(NO_MODEL, None)
            cal = cal if cal is not None else self.new_model()
        self.models[model] = cal  # last: taught most recently
        cal.record(task_type, score, routed_paid, outcome, trace_id=trace_id)
        for stale in list(self.models)[:-MAX_MODELS]:
            del self.models[stale]
        return True

    def new_model(self) -> Calibration:
        """Where a model OCP has not seen starts: the defaults (starting from the other models'
        points, shrunk, was measured worse: docs/routing-rounds.md)."""
        return Calibration(self.base_threshold)

    def take_back(self, trace_id: str) -> bool:
        """Take back the point route `trace_id` taught, whichever model it taught."""
        return any(cal.take_back(trace_id) for cal in self.models.values())

    # ---- the file -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "about": "Per local model and task type: the local/paid threshold shift learned "
            "from outcomes (negative: more paid). Delete this file, or run `ocp-server "
            "routing reset`, to go back to the defaults.",
            "base_threshold": self.base_threshold,
            "prior": {"sd": PRIOR_SD, "cap": CAP, "slope": SLOPE, "bin": BIN},
            "models": {key: cal.to_json() for key, cal in self.models.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Calibrations:
        fmt = raw.get("format")
        base = float(raw.get("base_threshold", DEFAULT_ROUTE_THRESHOLD))
        if fmt == FORMAT_1:  # its outcomes carry no model
            return cls(base, {NO_MODEL: Calibration.from_json(raw, base)})
        if fmt != FORMAT:
            raise ValueError(f"format: expected {FORMAT!r}, got {fmt!r}")
        models: dict[str, Calibration] = {}
        for key, part in dict(raw.get("models") or {}).items():
            cal = Calibration.from_json(dict(part), base)
            # a key written before keys were normalized: two spellings of one model merge
            same = models.pop(key := canonical_key(str(key)), None)
            models[key] = same.merged(cal) if same is not None else cal
        return cls(base, models)

    @classmethod
    def load(cls, path: Path, base_threshold: float = DEFAULT_ROUTE_THRESHOLD) -> Calibrations:
        """The calibrations stored at `path`; none when there is no file. A file that cannot
        be read raises ValueError naming it (it is never silently replaced)."""
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            return cls(base_threshold)
        try:
            return cls.from_json(json.loads(text))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise ValueError(
                f"{path}: not a routing calibration ({exc}); fix it or run "
                "`ocp-server routing reset`"
            ) from exc

    def save(self, path: Path) -> None:
        """Write atomically (a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _json_text(self.to_json()) + "\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".calibration-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def explain(self, current: str | None = None) -> str:
        """What a person reads in `ocp-server routing explain`; `current`: the local model
        routing uses now, marked."""
        if not any(cal.types for cal in self.models.values()):
            return (
                f"No outcomes learned yet: every task type uses the default threshold "
                f"{self.base_threshold:.2f}."
            )
        lines = [
            f"Default threshold {self.base_threshold:.2f}; shifts learned from outcomes per "
            f"local model (prior sd {PRIOR_SD}, cap ±{CAP}):"
        ]
        current = canonical_key(current) if current is not None else None
        for key, cal in reversed(self.models.items()):
            cal.base_threshold = self.base_threshold
            now = " (in use)" if key == current else ""
            lines.append(f"{key}{now}, last changed {cal.updated or 'never'}:")
            lines += cal.explain()
        if current is not None and current not in self.models:
            using = "the outcomes saved without a model" if NO_MODEL in self.models else "none"
            lines.append(f"{current} (in use): nothing learned yet; it uses {using}")
        return "\n".join(lines)


def _json_text(value: Any, depth: int = 0) -> str:
    """`value` as JSON indented by one space a level, as `json.dumps(indent=1)`, but each
    list on one line: a route's point is one line of the file, not five."""
    if isinstance(value, dict) and value:
        pad = " " * (depth + 1)
        items = [f"{pad}{json.dumps(k)}: {_json_text(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    return json.dumps(value)


def calibration_path(state_dir: Path) -> Path:
    """Where a workspace's calibration lives: next to its database."""
    return state_dir / FILE_NAME


# How long a writer waits for another window's read-modify-write (a fit takes milliseconds).
LOCK_TIMEOUT_S = 10.0


def calibration_lock(path: Path, timeout: float = LOCK_TIMEOUT_S) -> FileLock:
    """The lock every writer of the calibration at `path` holds for its whole
    read-modify-write (an OS file lock on `<file>.lock`, so it holds across processes: every
    window of the IDE runs its own server on the same workspace)."""
    return FileLock(path.with_name(path.name + ".lock"), timeout=timeout)


@dataclass(frozen=True, slots=True)
class Learned:
    """What one outcome did to a task type's threshold for a local model."""

    task_type: str
    before: float
    after: float
    outcomes: int
    model: str = NO_MODEL

    def __str__(self) -> str:
        return (
            f"{self.task_type} threshold {self.before:.2f} -> {self.after:.2f} "
            f"({self.outcomes} outcomes) for {self.model}"
        )


class CalibrationFile:
    """A workspace's calibration on disk. Re-read whenever the file changes, so
    `ocp-server routing reset` takes effect on the next route without a restart. A writer
    holds `calibration_lock` while it re-reads, updates and saves the file, so outcomes saved at
    the same instant by several windows (processes) all count.
    """

    def __init__(self, path: Path, base_threshold: float = DEFAULT_ROUTE_THRESHOLD) -> None:
        self.path = path
        self.base_threshold = base_threshold
        self._key: tuple[int, int] | None = None
        self._cals: Calibrations | None = None
        self.error: str | None = None  # why the file could not be read, if it could not

    def all(self) -> Calibrations | None:
        """Every model's calibration in force; None when there is none (no file, or an
        unreadable one: routing then uses the defaults and `error` says why)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._key, self._cals, self.error = None, None, None
            return None
        key = (st.st_mtime_ns, st.st_size)
        if key != self._key:
            self._key = key
            try:
                self._cals = Calibrations.load(self.path, self.base_threshold)
                self.error = None
            except ValueError as exc:
                self._cals, self.error = None, str(exc)
        return self._cals

    def current(self, model: str = NO_MODEL) -> Calibration | None:
        """The calibration routing uses for local model `model` (`model_key`); None: the
        defaults."""
        cals = self.all()
        return cals.of(model) if cals is not None else None

    def learn(
        self,
        task_type: str,
        score: float,
        routed_paid: bool,
        outcome: Outcome,
        *,
        trace_id: str | None = None,
        model: str = NO_MODEL,
    ) -> Learned | None:
        """Record one outcome saved on route `trace_id`, decided against local model `model`
        (in place of the point that route taught before, as `Calibrations.record`) and save;
        None when it says nothing about the tier, when the file on disk is unreadable (it is
        left for a person to look at), or when another writer held the lock past
        `LOCK_TIMEOUT_S` (`error` says so)."""
        if wanted_paid(outcome, routed_paid) is None:
            return None
        model = canonical_key(model)

        def record(cals: Calibrations) -> bool:
            return cals.record(model, task_type, score, routed_paid, outcome, trace_id=trace_id)

        changed = self._changed(record, create=True, model=model, task_type=task_type)
        if changed is None:
            return None
        before, cal = changed
        after = cal.base_threshold + cal.shift(task_type)
        return Learned(task_type, before, after, cal.outcomes(task_type), model)

    def take_back(self, trace_id: str) -> bool:
        """Take back the point route `trace_id` taught (its latest outcome says nothing about
        the tier) and save; True when there was one."""
        return self._changed(lambda cals: cals.take_back(trace_id), create=False) is not None

    def _changed(
        self,
        change: Callable[[Calibrations], bool],
        *,
        create: bool,
        model: str = NO_MODEL,
        task_type: str = "",
    ) -> tuple[float, Calibration] | None:
        """Apply `change` to the file's calibrations under its lock and save them when they
        changed: `model`'s threshold for `task_type` before, and its calibration after, or
        None (nothing changed, no file and `create` False, an unreadable file, or the lock
        held too long)."""
        try:
            with calibration_lock(self.path):
                # Re-read under the lock whatever the cached key says: another window may
                # have saved within the same mtime tick and size.
                self._key = None
                cals = self.all()
                if cals is None:
                    if self.error is not None or not create:
                        return None
                    cals = Calibrations(self.base_threshold)
                was = cals.of(model)
                before = was.base_threshold + was.shift(task_type) if was else cals.base_threshold
                if not change(cals):
                    return None
                cals.save(self.path)
                st = self.path.stat()
        except Timeout:
            self.error = f"{self.path}: another writer held its lock over {LOCK_TIMEOUT_S:g} s"
            return None
        self._key, self._cals = (st.st_mtime_ns, st.st_size), cals
        after = cals.models.get(model)
        return before, after if after is not None else Calibration(cals.base_threshold)
