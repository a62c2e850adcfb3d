"""`redact` takes a str: None or bytes failed deep inside a detector with a TypeError about
len() or a regex's pattern type, naming neither the argument nor what it should be."""

from __future__ import annotations

import pytest

from ocp_router import redact


@pytest.mark.parametrize(
    ("value", "got"), [(None, "NoneType"), (b"password=hunter2secret99", "bytes"), (3, "int")]
)
def test_a_text_that_is_not_a_str_is_refused_naming_the_argument(value: object, got: str) -> None:
    with pytest.raises(TypeError, match=rf"redact\(\) argument 'text' must be str, not {got}"):
        redact(value)  # type: ignore[arg-type]


def test_bytes_are_told_to_be_decoded_first() -> None:
    with pytest.raises(TypeError, match="decode"):
        redact(b"password=hunter2secret99")  # type: ignore[arg-type]
