"""A command-line flag's value after a space is the shell's next word whole: one starting with
`=` or `:` (`--password =hxRsb0LTI+m`, `--password :UTc/N1=iY+-`) was read as an assignment's
operator and a value after it (`=` left showing) or as a colon in a sentence (nothing hidden).
Now that character is the value's first, and is hidden with the rest; `--password=X` and
`--password = X` are read as before, and a placeholder or reference stays."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("mysqladmin --user root --password =hxRsb0LTI+m status\n", "=hxRsb0LTI+m"),
        ("mysqladmin --user root --password :UTc/N1=iY+- status\n", ":UTc/N1=iY+-"),
        ("mysqladmin --user root --password=hxRsb0LTI+m status\n", "hxRsb0LTI+m"),
        ("mysqladmin --user root --password = hxRsb0LTI+m status\n", "hxRsb0LTI+m"),
    ],
)
def test_a_flags_value_starting_with_a_symbol_is_hidden_whole(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "x --password =$PASS\n",
        "cli --password :PASSWORD\n",
        "cli --password :<your-password>\n",
        "run --password :\n",
        "docker run -p :8080 img\n",
        "kubectl --token :latest\n",
    ],
)
def test_a_flag_before_a_reference_or_no_value_is_left(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
