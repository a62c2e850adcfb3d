"""Shared machinery for the fake model servers: a real HTTP/1.1 server on 127.0.0.1.

Each fake is a ``ThreadingHTTPServer`` running in a daemon thread, so it answers sync and
asyncio clients alike. Subclasses implement :meth:`FakeServer.handle` and return either a
:class:`Response` (sent with a ``Content-Length``) or a :class:`StreamResponse` (sent with
``Transfer-Encoding: chunked``, one chunk per line/event, flushed as it is produced).

Behaviour knobs shared by every fake:

* ``delay``: seconds to wait before answering any request (slow mode).
* ``stream_delay``: seconds to wait between two chunks of a stream.
* ``piece_chars``: a stream's text (an answer's, its thinking's) in pieces of this many
  characters, which cut words and tags anywhere, as a tokenizer's pieces may (``<thi`` then
  ``nk>``); None: a word a piece.
* ``in_flight``, ``most_in_flight``: requests being answered now, and at most so far.
* ``hangups``: while it waits (``delay``, ``stream_delay``) the fake watches the client's
  socket; a client that closes it is recorded here (``Hangup``: path and monotonic time) and
  the fake stops answering, as a real server notices a disconnect. ``hung_up`` is set then.
  A write that fails because the client has gone is a hangup too (a loaded machine's fake
  may begin its answer after the client has left).
* ``fail_next(status, body=None, times=1, headers=None, path=None)``: canned HTTP errors; with
  ``body=None`` the vendor's own error shape is used.
* ``malformed_next(times=1, path=None)``: a ``200`` whose body is broken (truncated JSON).
* ``drop_next(times=1, path=None)``: close the connection without answering.
* ``fail_mid_stream(message=None, after=1, times=1)``: the next stream sends ``after`` chunks
  and then the vendor's in-stream error (Ollama's ``{"error": ...}`` line, Anthropic's
  ``event: error``, OpenAI's ``data: {"error": ...}``) and ends.
* ``drop_mid_stream(after=1, times=1)``: the next stream sends ``after`` chunks, then the
  connection is closed without finishing the body.
* ``raw_stream_next(chunks, content_type, times=1, path=None, status=200, headers=None,
  framing="chunked")``: a stream of exactly these chunks, for answers no well-behaved vendor
  would send (an endless line, odd shapes, an endless error body, a body compressed though the
  client asked not). ``framing`` is how the body's end is told: ``chunked``, ``length`` (a
  ``Content-Length`` of all the chunks) or ``close`` (neither: the body ends when the
  connection closes, as HTTP/1.1 allows), so that ``drop_mid_stream`` cuts each kind short.
* ``hold_next(chunks, content_type, path=None, status=200, headers=None)``: the headers and
  these chunks of a stream, then nothing (an upstream that stalls) until the client closes
  the connection, recorded in ``hangups`` as above (also when it closes before the chunks
  were all written: a client that stopped reading).

Faults are queued in order; a request consumes the first queued fault whose ``path`` filter
(a path prefix, ``None`` = any path) matches it.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "FakeServer",
    "Hangup",
    "Recorded",
    "Request",
    "Response",
    "StreamResponse",
    "closed_port",
    "json_response",
    "unaccepting_port",
]


#: The sockets behind closed_port's ports, bound for the rest of the test process.
_HELD: list[socket.socket] = []


def closed_port() -> int:
    """A TCP port on 127.0.0.1 with nothing listening: bound, never listening, and kept bound
    for the rest of the process. A port bound and closed again was free for the next bind: a
    fake another xdist worker started then could take it and answer (a local model "refused"
    answering 200)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    port: int = sock.getsockname()[1]
    return port


@contextmanager
def unaccepting_port() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that listens but never accepts, its queue full: Linux drops a
    SYN to a full accept queue, so a connect there times out (a host that drops packets),
    where a closed port refuses at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port: int = server.getsockname()[1]
        fillers: list[socket.socket] = []
        try:
            for _ in range(8):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                fillers.append(sock)
                sock.settimeout(0.2)
                try:
                    sock.connect(("127.0.0.1", port))
                except TimeoutError:
                    break  # the queue is full: the next connect hangs the same way
            else:
                raise RuntimeError("the accept queue never filled")
            yield port
        finally:
            for sock in fillers:
                sock.close()


class Recorded(NamedTuple):
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON, else the raw text, else None when there was no body


# How long `hold_next` stalls at most: far past any test's bound on noticing a hangup.
_HOLD_SECONDS = 120.0


class Hangup(NamedTuple):
    """A client that closed its connection while the fake was still answering."""

    path: str
    at: float  # time.monotonic()


@dataclass
class Request:
    """What a subclass handler receives."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    json: Any = None
    json_error: str | None = None  # set when a non-empty body was not valid JSON

    @property
    def has_body(self) -> bool:
        return bool(self.raw.strip())


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResponse:
    """A streamed response. ``chunks`` is consumed lazily; each item is written and flushed.
    ``framing``: ``chunked``, ``length`` (``chunks`` must be a sequence) or ``close``."""

    chunks: Iterable[bytes]
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    framing: str = "chunked"


def json_response(
    status: int, obj: Any, headers: dict[str, str] | None = None, content_type: str | None = None
) -> Response:
    return Response(
        status=status,
        body=json.dumps(obj).encode(),
        content_type=content_type or "application/json",
        headers=dict(headers or {}),
    )


@dataclass
class _Fault:
    kind: str  # "fail" | "malformed" | "drop" | "raw" | "hold"
    times: int
    path: str | None = None
    status: int = 500
    body: Any = None
    headers: dict[str, str] | None = None
    chunks: tuple[bytes, ...] = ()
    content_type: str = ""
    framing: str = "chunked"


@dataclass
class _StreamFault:
    kind: str  # "error" | "drop"
    after: int
    times: int
    message: str | None = None


class _Drop(Exception):
    """Close the connection now, without a (complete) answer."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # FakeServer.stop() joins handler threads itself, bounded
    fake: FakeServer

    def process_request(self, request: Any, client_address: Any) -> None:
        t = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        self.fake._track_thread(t)
        t.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return  # the client went away; a real server would just log it
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    server: _Server

    # silence the default stderr access log
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def setup(self) -> None:
        super().setup()
        self.server.fake._track_conn(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track_conn(self.connection, add=False)

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    # -- body reading ------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until the empty line
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline(65537)  # CRLF after the chunk
            return bytes(out)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # -- main entry --------------------------------------------------------------------------

    def _serve(self) -> None:
        fake = self.server.fake
        try:
            raw = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(method=self.command, path=split.path, query=query, headers=headers, raw=raw)
        if raw.strip():
            try:
                req.json = json.loads(raw)
            except ValueError as exc:
                req.json_error = str(exc)
        if req.json is not None:
            recorded_body: Any = req.json
        elif raw.strip():
            recorded_body = raw.decode("utf-8", errors="replace")
        else:
            recorded_body = None
        fake._record(Recorded(req.method, req.path, query, headers, recorded_body))
        fake._arrived(+1)
        try:
            self._answer(req)
        finally:
            fake._arrived(-1)

    def _answer(self, req: Request) -> None:
        fake = self.server.fake
        try:
            if fake.delay > 0 and self._wait(fake.delay, req.path):
                raise _Drop  # shutting down, or the client left while we were "thinking"
            fault = fake._take_fault(req.path)
            if fault is not None and fault.kind == "drop":
                raise _Drop
            if fault is not None and fault.kind == "fail":
                resp: Response | StreamResponse = fake._canned_failure(fault)
            elif fault is not None and fault.kind == "malformed":
                resp = fake.malformed_response(req)
            elif fault is not None and fault.kind == "raw":
                resp = StreamResponse(
                    fault.chunks,
                    fault.content_type,
                    fault.status,
                    dict(fault.headers or {}),
                    fault.framing,
                )
            elif fault is not None and fault.kind == "hold":
                self._hold(fault, req.path)
                return
            else:
                try:
                    resp = fake.handle(req)
                except Exception as exc:  # a bug in the fake: answer 500 and remember it
                    fake._errors.append(exc)
                    traceback.print_exc()
                    resp = fake.error_response(500, f"fake server error: {exc!r}")
            if isinstance(resp, StreamResponse):
                self._write_stream(resp, req.path)
            else:
                self._write(resp)
        except _Drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except ConnectionError:  # a write failed: the client had gone (a hangup like any other)
            fake._hung_up(Hangup(req.path, time.monotonic()))
            self.close_connection = True
        except TimeoutError:
            self.close_connection = True

    def _wait(self, seconds: float, path: str) -> bool:
        """Wait `seconds`, watching the client's socket: True when the fake is stopping or the
        client closed the connection (recorded as a `Hangup`)."""
        fake = self.server.fake
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if fake._stopping.is_set():
                return True
            try:
                readable, _, _ = select.select([self.connection], [], [], min(left, 0.02))
                # Readable with nothing to read is the client's FIN; bytes are a pipelined
                # request, which this fake does not expect mid-answer.
                gone = bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
            except (OSError, ValueError):
                gone = True  # reset by the peer, or the socket is already closed
            if gone:
                fake._hung_up(Hangup(path, time.monotonic()))
                return True
            if readable:
                fake._stopping.wait(min(left, 0.02))
        return fake._stopping.is_set()

    def _write(self, resp: Response) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)
        self.wfile.flush()

    def _write_stream(self, resp: StreamResponse, path: str) -> None:
        fake = self.server.fake
        sfault = fake._take_stream_fault()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        write = self._write_chunk
        if resp.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            write = self._write_raw
            if resp.framing == "length":
                assert isinstance(resp.chunks, tuple | list)
                self.send_header("Content-Length", str(sum(len(c) for c in resp.chunks)))
            else:
                self.close_connection = True
                self.send_header("Connection", "close")
        self.send_header("Cache-Control", "no-cache")
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()
        sent = 0
        iterator: Iterator[bytes] = iter(resp.chunks)
        for chunk in iterator:
            if sfault is not None and sent >= sfault.after:
                if sfault.kind == "drop":
                    raise _Drop
                write(fake.stream_error_chunk(sfault.message))
                break
            if sent > 0 and fake.stream_delay > 0 and self._wait(fake.stream_delay, path):
                raise _Drop
            write(chunk)
            sent += 1
        else:
            if sfault is not None:  # the stream was shorter than `after`: fault at the end
                if sfault.kind == "drop":
                    raise _Drop
                write(fake.stream_error_chunk(sfault.message))
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
        if resp.framing == "chunked":
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _hold(self, fault: _Fault, path: str) -> None:
        """Send the headers and the fault's chunks, then nothing until the client closes the
        connection (a `Hangup`) or the fake stops."""
        self.close_connection = True
        self.send_response(fault.status)
        self.send_header("Content-Type", fault.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in (fault.headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        for chunk in fault.chunks:  # a client gone meanwhile fails a write: _answer says so
            self._write_chunk(chunk)
        self.wfile.flush()
        self._wait(_HOLD_SECONDS, path)

    def _write_raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        if not data:
            return  # an empty chunk would end the chunked body
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class FakeServer:
    """Base class: lifecycle, request log, and the shared fault/latency knobs."""

    def __init__(self, *, delay: float = 0.0, stream_delay: float = 0.0) -> None:
        self.delay = delay
        self.stream_delay = stream_delay
        self.piece_chars: int | None = None
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._faults: list[_Fault] = []
        self._stream_faults: list[_StreamFault] = []
        self._errors: list[BaseException] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._hangups: list[Hangup] = []
        self.hung_up = threading.Event()
        self.in_flight = 0  # requests being answered now
        self.most_in_flight = 0  # ... at most, since the start

    def _arrived(self, step: int) -> None:
        with self._lock:
            self.in_flight += step
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeServer:
        """Listen on 127.0.0.1:`port` (0: any free port)."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._conns)
            threads = list(self._threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in threads:
            t.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Any:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake server is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- request log -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot (copy) of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.path == path and (method is None or r.method == method.upper())
        ]

    @property
    def last_request(self) -> Recorded:
        with self._lock:
            if not self._requests:
                raise LookupError("no request received yet")
            return self._requests[-1]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised by the fake's own handler code (a test should expect none)."""
        return list(self._errors)

    @property
    def hangups(self) -> list[Hangup]:
        """Clients that closed their connection while the fake was still answering."""
        with self._lock:
            return list(self._hangups)

    def _hung_up(self, hangup: Hangup) -> None:
        with self._lock:
            self._hangups.append(hangup)
        self.hung_up.set()

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self._requests.append(rec)

    def _track_conn(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def _track_thread(self, t: threading.Thread) -> None:
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)

    # -- faults ----------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        body: Any = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        *,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with HTTP ``status``.

        ``body=None`` uses the vendor's error shape; a ``dict``/``list`` is sent as JSON; ``str``
        or ``bytes`` are sent as they are.
        """
        with self._lock:
            self._faults.append(
                _Fault("fail", times, path=path, status=status, body=body, headers=headers)
            )

    def malformed_next(self, times: int = 1, *, path: str | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault("malformed", times, path=path))

    def drop_next(self, times: int = 1, *, path: str | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault("drop", times, path=path))

    def raw_stream_next(
        self,
        chunks: Iterable[bytes],
        content_type: str,
        times: int = 1,
        *,
        path: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        framing: str = "chunked",
    ) -> None:
        """Answer the next ``times`` matching requests with a stream of exactly ``chunks``
        (with HTTP ``status``: an error body without end, say; ``headers``; and ``framing``:
        ``chunked``, ``length`` or ``close``)."""
        fault = _Fault(
            "raw",
            times,
            path=path,
            status=status,
            headers=headers,
            chunks=tuple(chunks),
            content_type=content_type,
            framing=framing,
        )
        with self._lock:
            self._faults.append(fault)

    def hold_next(
        self,
        chunks: Iterable[bytes],
        content_type: str,
        *,
        path: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next matching request with the headers and these chunks, then stall
        until the client closes the connection (recorded in ``hangups``)."""
        fault = _Fault(
            "hold",
            1,
            path=path,
            status=status,
            headers=headers,
            chunks=tuple(chunks),
            content_type=content_type,
        )
        with self._lock:
            self._faults.append(fault)

    def fail_mid_stream(self, message: str | None = None, after: int = 1, times: int = 1) -> None:
        with self._lock:
            self._stream_faults.append(_StreamFault("error", after, times, message))

    def drop_mid_stream(self, after: int = 1, times: int = 1) -> None:
        with self._lock:
            self._stream_faults.append(_StreamFault("drop", after, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._stream_faults.clear()

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path is None or path.startswith(fault.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _take_stream_fault(self) -> _StreamFault | None:
        with self._lock:
            if not self._stream_faults:
                return None
            fault = self._stream_faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self._stream_faults.pop(0)
            return fault

    def _canned_failure(self, fault: _Fault) -> Response:
        if fault.body is None:
            resp = self.error_response(fault.status, None)
        elif isinstance(fault.body, bytes):
            resp = Response(fault.status, fault.body, "text/plain; charset=utf-8")
        elif isinstance(fault.body, str):
            resp = Response(fault.status, fault.body.encode(), "text/plain; charset=utf-8")
        else:
            resp = json_response(fault.status, fault.body)
        if fault.headers:
            resp.headers.update(fault.headers)
        return resp

    # -- vendor hooks (override) -----------------------------------------------------------------

    def handle(self, req: Request) -> Response | StreamResponse:
        raise NotImplementedError

    def error_response(self, status: int, message: str | None) -> Response:
        """The vendor's error body for ``status``; ``message=None`` means a default text."""
        phrase = _phrase(status)
        return json_response(status, {"error": message or phrase})

    def malformed_response(self, req: Request) -> Response:
        return Response(200, b'{"id": "broken", "content": [{"type": "te', "application/json")

    def stream_error_chunk(self, message: str | None) -> bytes:
        return (json.dumps({"error": message or "stream failed"}) + "\n").encode()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"
