"""A password holding the separator of the fields around it: `;` in an ADO.NET, ODBC or JDBC
connection string written without the quotes the format asks for, `,` or `;` ending a log
line's value before `, user=`. Before, the value was cut at its first `;` and the rest of it
(`v2Lp` of `Xk9#mQ;v2Lp`) reached the model; where the pieces say it (a piece after `;` that is
no `Name=value` field, `;;`, `,,`), the whole password is hidden now.

Values are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

HEAD, TAIL = "Xk9#mQ", "v2Lp"
PASSWORD = f"{HEAD};{TAIL}"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f'var cs = "Server=db;User Id=app;Password={PASSWORD};Database=shop";\n', PASSWORD),
        (f'"ConnectionStrings": {{"Db": "Host=db;Username=app;Password={PASSWORD}"}}\n', PASSWORD),
        (f"Driver={{ODBC Driver 18}};Server=db;Uid=sa;Pwd={PASSWORD};Encrypt=yes\n", PASSWORD),
        (
            f"jdbc:sqlserver://db:1433;databaseName=shop;user=sa;password={PASSWORD};encrypt=true\n",
            PASSWORD,
        ),
        # two `;` inside, and one ending it (`;;`: an empty field is no field)
        (f'"Data Source=db;User ID=sa;Password={PASSWORD};x7!;Pooling=false"\n', f"{PASSWORD};x7!"),
        (f'"Data Source=db;User ID=sa;Password={HEAD};;Pooling=false"\n', f"{HEAD};"),
        # a log line's value before the `,` that parts fields
        (f"2026-01-02 12:00:03 db: password={HEAD}{TAIL};, user=app\n", f"{HEAD}{TAIL};"),
        (f"2026-01-02 12:00:03 db: password={HEAD}{TAIL},, user=app\n", f"{HEAD}{TAIL},"),
    ],
)
def test_the_whole_password_is_hidden_with_its_separators(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text
    assert TAIL not in result.text


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # the fields after it stay, a space-holding one too
        ('"Server=db;Password=Xk9#mQv2Lp;Integrated Security=false"\n', ";Integrated Security="),
        ('"Server=db;Password=Xk9#mQv2Lp;Trusted_Connection=False;"\n', ";Trusted_Connection="),
        ('"Server=db;Password=Xk9#mQv2Lp;"\n', 'Password=[REDACTED:connection_string_password];"'),
        ("level=info password=Xk9#mQv2Lp; user=app\n", "; user=app"),
        ("2026-01-02 12:00:03 db: password=Xk9#mQv2Lp, user=app\n", "], user=app"),
    ],
)
def test_the_fields_after_the_password_stay_visible(text: str, kept: str) -> None:
    result = redact(text)
    assert len(result.redactions) == 1 and kept in result.text, result.text
