"""SQL's `IDENTIFIED BY '<password>'` is a password only in a statement about a user or a
role: cffi's docstring "Load and return a dynamic library identified by 'name'." hid `name`
(the phrase is ordinary English). Written in SQL's capitals, or after USER, ROLE, LOGIN or
GRANT in the same statement, in code, a docstring or a comment, it is still hidden."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    "text",
    [
        '    """Load and return a dynamic library identified by \'name\'."""\n',
        '# each resource is identified by "uri" in the cache\n',
        "Entries are identified by 'key123' in the index.\n",
    ],
)
def test_identified_by_in_prose_is_not_a_password(text: str) -> None:
    assert redact(text).redactions == ()


@pytest.mark.parametrize(
    "text",
    [
        "ALTER USER 'app'@'%' IDENTIFIED BY 'Xk9mQ2vLp8';\n",
        "create user app identified by 'Xk9mQ2vLp8';\n",
        "grant all on app.* to 'app'@'%'\n  identified by 'Xk9mQ2vLp8';\n",
        '    """Run: CREATE USER app IDENTIFIED BY \'Xk9mQ2vLp8\' first."""\n',
        '-- then: alter role app identified by "Xk9mQ2vLp8"\n',
        "# the user is identified by 'Xk9mQ2vLp8' on staging\n",
        "cur.execute(\"CREATE USER x IDENTIFIED BY PASSWORD 'Xk9mQ2vLp8'\")\n",
    ],
)
def test_identified_by_in_a_statement_is_a_password(text: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == ["Xk9mQ2vLp8"], result.text
