"""What a large request does while it holds the GIL, which a worker thread does not give
back to the event loop: the garbage collector walking hundreds of thousands of new objects
in the middle of one `json.loads` (0.5-1 s of a 30 MB body of short messages; the parser
builds no cycles, so it finds nothing), and one `json.dumps` over the whole body to forward.
bench/bench_proxy_stall.py --process measures the stall another client sees."""

from __future__ import annotations

import gc
import json
import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ocp_server.collector import collecting
from ocp_server.off_loop import OFF_LOOP_CHARS, collector_paused, off_loop_building
from ocp_server.proxy import upstream
from ocp_server.proxy.body import BodyError, parse_body
from ocp_server.proxy.upstream import request_bytes


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generations the collector walked, in order, while the test ran."""
    walked: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            walked.append(info["generation"])

    gc.callbacks.append(note)
    yield walked
    gc.callbacks.remove(note)


def _conversation(turns: int) -> bytes:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": f"turn {i}", "n": 1.5}]}
        for i in range(turns)
    ]
    return json.dumps({"model": "m", "max_tokens": 5, "messages": messages}).encode()


def test_parsing_a_large_body_runs_no_garbage_collection(collections: list[int]) -> None:
    raw = _conversation(20_000)  # 80,000 containers: over a hundred collections, if let run
    gc.collect()  # the young generations emptied, so the few objects made before the pause
    collections.clear()  # set none off (building the body was collected)
    body = parse_body(raw)
    assert len(body["messages"]) == 20_000
    # At most one: another thread of the test process (a server left by an earlier test) may
    # allocate enough before the pause begins to set one off, of any generation.
    assert len(collections) <= 1, collections
    assert collecting()


def test_a_small_body_leaves_the_collector_alone(
    collections: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    paused: list[bool] = []
    monkeypatch.setattr(gc, "set_threshold", lambda *_: paused.append(True))
    parse_body(_conversation(3))
    assert paused == []


def test_pauses_overlap_and_an_application_that_turned_it_off_keeps_it_off() -> None:
    with collector_paused():
        with collector_paused():
            assert not collecting()
        assert not collecting()  # the outer pause still runs
    assert collecting()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def _pause_in_thread(started: threading.Event, end: threading.Event, fail: bool) -> None:
    with collector_paused():
        started.set()
        end.wait(10)
        if fail:
            raise RuntimeError("the redaction failed")


def _overlapping(order: list[str], fail: str = "") -> list[bool]:
    """Two pauses in two threads (as two large requests' redactions), begun A then B and
    ended in `order`; whether the collector ran after each end. `fail`: the one that raises."""
    started = {name: threading.Event() for name in "AB"}
    end = {name: threading.Event() for name in "AB"}
    threads: dict[str, threading.Thread] = {}
    failed: list[str] = []

    def run(name: str) -> None:
        try:
            _pause_in_thread(started[name], end[name], name == fail)
        except RuntimeError:
            failed.append(name)

    for name in "AB":
        threads[name] = threading.Thread(target=run, args=(name,))
        threads[name].start()
        assert started[name].wait(10)
    after: list[bool] = []
    for name in order:
        end[name].set()
        threads[name].join(10)
        after.append(collecting())
    assert failed == ([fail] if fail else [])
    return after


@pytest.mark.parametrize("fail", ["", "A", "B"])
@pytest.mark.parametrize("order", [["A", "B"], ["B", "A"]])
def test_two_overlapping_pauses_in_two_threads_end_with_the_collector_back_on(
    order: list[str], fail: str
) -> None:
    # The collector is process-wide: the first request to end must not turn it back on under
    # the other (ending in the order begun, not nested), nor the second, which found it off,
    # leave it off for good; a redaction that raises ends its pause all the same.
    assert collecting()
    assert _overlapping(order, fail) == [False, True]


@pytest.mark.parametrize("order", [["A", "B"], ["B", "A"]])
def test_two_overlapping_pauses_leave_an_application_s_collector_off(order: list[str]) -> None:
    gc.disable()
    try:
        assert _overlapping(order, fail=order[0]) == [False, False]
    finally:
        gc.enable()


async def test_building_a_large_payload_runs_with_the_collector_paused() -> None:
    assert await off_loop_building(OFF_LOOP_CHARS, collecting) is False
    assert await off_loop_building(OFF_LOOP_CHARS - 1, collecting) is True
    assert collecting()


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "messages": [{"role": "user", "content": 'héllo \u2028 "q" \\ 😀'}]},
        {"model": "m", "messages": [], "tools": [{"name": "t", "input_schema": {}}], "n": 1},
        {"system": [{"type": "text", "text": "s"}], "stop": ["a", "b"], "t": 0.5, "x": None},
        {"nested": [[1, [2]], {"k": [True, False]}], "empty": {}, "f": 1e300},
        {},
        {"messages": []},
        {"messages": [{"role": "user", "content": str(i)} for i in range(600)], "m": [0] * 513},
    ],
)
def test_a_body_written_in_pieces_is_the_same_bytes_as_written_at_once(
    body: dict[str, Any],
) -> None:
    whole = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    assert request_bytes(body) == whole


_ODD = 'a"b\\c\n\x00\x1f é \u2028 😀 \ud7ff\ue000 / </script>'


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "messages": [{"role": "user", "content": _ODD * 7}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": _ODD * 3}]}]},
        {"system": _ODD * 2, "messages": [], "n": 1.5, "s": "short"},
        {"messages": [{"content": str(i)} for i in range(600)] + [{"content": _ODD * 5}]},
        {"messages": [_ODD * 4, "x", [_ODD, {"k": _ODD * 2, "e": {}}, []], 3, None, _ODD]},
        {"deep": {"a": [{"b": [{"c": _ODD * 3}]}], "z": [1] * 600}, "tail": _ODD},
        {_ODD: _ODD * 2, "": ""},
    ],
)
def test_a_body_with_long_strings_written_in_slices_is_the_same_bytes(
    body: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Slices of 7 characters: every kind of character and escape meets a slice's edge.
    monkeypatch.setattr(upstream, "_CHARS_PER_PIECE", 7)
    whole = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    assert request_bytes(body) == whole
    assert request_bytes(body, size=len(whole)) == whole


def test_a_long_message_is_serialised_a_slice_a_call(monkeypatch: pytest.MonkeyPatch) -> None:
    # One json.dumps call over a 30 MB message held the GIL 0.1-0.2 s (the event loop waited
    # on it, though it ran in a worker thread).
    written: list[int] = []
    dumps = upstream._dumps

    def watched(value: Any) -> str:
        text = dumps(value)
        written.append(len(text))
        return text

    monkeypatch.setattr(upstream, "_dumps", watched)
    text = "word " * 700_000  # 3.5 MB
    body = {"model": "m", "messages": [{"role": "user", "content": [{"text": text}]}]}
    whole = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    assert request_bytes(body) == whole
    assert max(written) <= (1 << 20) + 2, written
    assert sum(written) >= len(text)


@pytest.fixture
def parser_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Where each call into json's parser began, of the decoders made while the test runs
    (json.loads makes one a call)."""
    calls: list[int] = []

    class Watched(json.JSONDecoder):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            scan = self.__dict__["scan_once"]  # json's C scanner, set by __init__

            def watched(text: str, at: int) -> Any:
                calls.append(at)
                return scan(text, at)

            self.__dict__["scan_once"] = watched

    monkeypatch.setattr(json, "JSONDecoder", Watched)
    return calls


def test_a_large_conversation_is_parsed_a_message_a_call(parser_calls: list[int]) -> None:
    # One call over 30 MB of 60,000 messages held the GIL for 0.2-1.2 s (the interpreter hands
    # it over only between calls): the event loop waited that long, though the parse ran in a
    # worker thread. Between one message's call and the next it may change hands.
    raw = _conversation(20_000)
    body = parse_body(raw)
    assert body == json.loads(raw)
    assert len(parser_calls) >= 20_000


_PIECES = [
    '{"model": "m", "messages": [MSGS], "max_tokens": 5}',
    ' \n{ "messages" : [ MSGS ] , "messages": [MSGS, {"role": "x"}], "e": [ ], "n": [1, [{}]] }\n',
    '{"stop": ["a"], "messages": [MSGS], "system": {"k": [1.5, -0.0, 1e300, "\\ud83d\\ude00"]}}',
    "[MSGS]",
]
_BROKEN = [
    '{"messages": [MSGS,]}',
    '{"messages": [MSGS] "x": 1}',
    '{"messages": [MSGS], }',
    '{"messages": [MSGS]} x',
    '{"messages": [MSGS], "n": NaN}',
    '{"messages": [MSGS], "n": 1e999}',
    '{"messages": [MSGS MSGS]}',
    "{messages: [MSGS]}",
    '{"messages": [MSGS]',
]


@pytest.mark.parametrize("shape", _PIECES + _BROKEN)
def test_a_large_body_parsed_in_pieces_reads_as_json_loads_reads_it(shape: str) -> None:
    message = json.dumps({"role": "user", "content": [{"type": "text", "text": "x " * 40}]})
    text = shape.replace("MSGS", ", ".join([message] * (OFF_LOOP_CHARS // len(message) + 1)))
    assert len(text) > OFF_LOOP_CHARS
    try:
        expected: Any = json.loads(text, parse_constant=_refused, parse_float=_checked)
    except ValueError as exc:
        with pytest.raises(BodyError) as refused:
            parse_body(text.encode())
        assert str(refused.value) == f"body: not valid JSON ({exc})"
    else:
        assert parse_body(text.encode()) == expected


def _refused(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _checked(number: str) -> float:
    if math.isinf(value := float(number)):
        raise ValueError(f"{number} is too large for a JSON number the proxy can forward")
    return value
