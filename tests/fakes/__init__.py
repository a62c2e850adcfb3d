"""Protocol-faithful fake model servers (real HTTP on 127.0.0.1) for tests.

See ``_http.py`` for the shared knobs (delay, stream_delay, fail_next, malformed_next,
drop_next, fail_mid_stream, drop_mid_stream) and the recorded-request shape.
"""

from ._http import FakeServer, Hangup, Recorded, closed_port, unaccepting_port
from .anthropic import FakeAnthropic
from .ollama import FakeOllama
from .openai import FakeOpenAI

__all__ = [
    "FakeAnthropic",
    "FakeOllama",
    "FakeOpenAI",
    "FakeServer",
    "Hangup",
    "Recorded",
    "closed_port",
    "unaccepting_port",
]
