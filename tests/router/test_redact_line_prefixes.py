"""A text the rules leave unchanged can have a first few lines they change: a short random
value after a password's name is a password when the text uses it nowhere else
(`_redact_values.short_random`), and so is a jumble of letters and digits a setter is given
(`_redact_paired._numbered_jumble`); the lines that used it again may be the ones cut off. So
no verdict on a text's whole tells one on its line prefixes, and a search result cut to a
token budget is redacted again (`ocp_server.index.search._trimmed`; docs/search-rounds.md).

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

SHORT = "Zkq" + "3pw"
JUMBLE = "hIUPOD" + "asgi040J8"

CUT = [
    (f"password = {SHORT}\nlogin({SHORT})", f"password = {SHORT}"),
    (f"{{ password: {SHORT} }}\nconsole.log({SHORT})", f"{{ password: {SHORT} }}"),
    (f"setPassword({SHORT})\nreturn {SHORT}", f"setPassword({SHORT})"),
    (f"conn.setPassword({JUMBLE});\nlog({JUMBLE});", f"conn.setPassword({JUMBLE});"),
]


@pytest.mark.parametrize(("whole", "first_line"), CUT)
def test_the_first_line_of_a_text_left_alone_can_hold_a_password(
    whole: str, first_line: str
) -> None:
    assert whole.startswith(first_line + "\n")
    assert redact(whole).text == whole  # used again below: a variable's name
    cut = redact(first_line)
    assert [r.kind for r in cut.redactions] == ["password_assignment"]
    assert SHORT not in cut.text and JUMBLE not in cut.text
