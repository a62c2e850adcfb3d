"""A password manager's value (symbols inside) on a .env, log or config line, or as a YAML plain
scalar, was hidden only up to its first `)`, `;`, `]` or `}`, or not at all: a value ending in
`,` or `)` was read as a keyword argument in code (cut at its first such character:
`DB_PASSWORD=%CIQ76@G7#)pL)EhS)` left `)pL)EhS)`), and a YAML value holding `=` as a typed
assignment (`password: Y=8oeCugV4` read as `password: Y = 8oeCugV4`). Now such a value is
hidden whole, and so is any value a `,` and the next field follow (`db: password=amber-falcon,
user=app` was read as code, where words are a variable); the `,` stays, and so does the code
around a keyword argument (`f(token=aB3$x9Q!zz)`). A `,` ending an object's member line after a
value symbol-heavy without it was hidden with it (a Markdown label's may be the password's own
last character); among an object's members it is their separator, and stays. On a line whose
fields are apart by spaces alone (logfmt's `user=app password=…`) a `,` or `;` ending such a
value was cut off as a separator too; it is the value's last character, and hidden with it."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # the rest of a .env line is its value, whatever it ends with
        ("DB_HOST=db\nDB_PASSWORD=A]hd=d?O]|SDD]KU1OCdt,\nDEBUG=false\n", "A]hd=d?O]|SDD]KU1OCdt,"),
        ("DB_PASSWORD=wT)0;2C,R)\n", "wT)0;2C,R)"),
        ("ENV DB_PASSWORD=%CIQ76@G7#)pL)EhS)\n", "%CIQ76@G7#)pL)EhS)"),
        ("    environment:\n      - POSTGRES_PASSWORD=bEn0Bg~E};f_q!I%,\n", "bEn0Bg~E};f_q!I%,"),
        ("spring.datasource.password=wT)0;2C,R)\n", "wT)0;2C,R)"),
        ("config: password=bEn0Bg~E};f_q!I%,\n", "bEn0Bg~E};f_q!I%,"),
        (
            "2024-05-01 12:00:03 INFO ok user=app password=%CIQ76@G7#)pL)EhS)\n",
            "%CIQ76@G7#)pL)EhS)",
        ),
        # a comma before the next field separates: it stays
        ("2026-01-02 12:00:03 db: password=Xy9$kq!2Lm, user=bob\n", "Xy9$kq!2Lm"),
        ("login ok user=app, password=A]hd=d?O]|SDD]KU1OCdt, retry=3\n", "A]hd=d?O]|SDD]KU1OCdt"),
        ("user=app; password=(*:w6:*8lW4xu;zC_; retry=3\n", "(*:w6:*8lW4xu;zC_"),
        # but where the fields before are apart by a space alone (logfmt), a `,` or `;` ending
        # the value is its own
        ("login ok user=app password=A]hd=d?O]|SDD]KU1OCdt, retry=3\n", "A]hd=d?O]|SDD]KU1OCdt,"),
        ("level=info user=app password=bEn0Bg~E};f_q!I%, retry=3\n", "bEn0Bg~E};f_q!I%,"),
        ("level=info user=app password=(*:w6:*8lW4xu;zC_; retry=3\n", "(*:w6:*8lW4xu;zC_;"),
        ("level=info user=app password=3_9LBR&ze=lx9EBd4-@3; retry=3\n", "3_9LBR&ze=lx9EBd4-@3;"),
        # any value before a comma the next field follows; a ')' closes nothing there
        ("2026-01-02 12:00:03 db: password=amber-falcon-quartz, user=app\n", "amber-falcon-quartz"),
        ("2026-01-02 12:00:03 db: password=Meadow9270&, user=app\n", "Meadow9270&"),
        ("level=info user=app password=wT)0;2C,R) retry=3\n", "wT)0;2C,R)"),
        # a YAML plain scalar holding '=' is no typed assignment
        ("database:\n  password: Y=8oeCugV4\n", "Y=8oeCugV4"),
        ("auth:\n  rootPassword: tQ=gL~g5Iy0JG}lM/iM~c\n", "tQ=gL~g5Iy0JG}lM/iM~c"),
        ("ansible_become_pass: pGq=Txue4Kn=Qrk<l~9%;?_R\n", "pGq=Txue4Kn=Qrk<l~9%;?_R"),
        ("Password: A]hd=d?O]|SDD]KU1OCdt,\n", "A]hd=d?O]|SDD]KU1OCdt,"),
        # symbol-heavy without its last `,`: the `,` may be the password's (a corpus sample's is)
        ("  password: Kx9!m@Q2vLp8,\n", "Kx9!m@Q2vLp8,"),
        ("User: admin\nPassword: /kAd4o!lS7=!Y$>AMqTq{#4,\nHost: db\n", "/kAd4o!lS7=!Y$>AMqTq{#4,"),
        # but among an object's members (`{` or a member before, the next key or `}` after) it
        # separates them, and stays
        (
            "db = {\n  user: app,\n  password: A]hd=d?O]|SDD]KU1OCdt,\n  host: db,\n}\n",
            "A]hd=d?O]|SDD]KU1OCdt",
        ),
        ('db: {\n  password: A]hd=d?O]|SDD]KU1OCdt,\n  "host": "db"\n}\n', "A]hd=d?O]|SDD]KU1OCdt"),
        ("db = {\n  password: Kx9!m@Q2vLp8,\n}\n", "Kx9!m@Q2vLp8"),
        # code keeps its punctuation
        ("f(token=aB3$x9Q!zz)\n", "aB3$x9Q!zz"),
        ("conn = connect(host,\npassword=Xy9$kq!2Lm)\n", "Xy9$kq!2Lm"),
        ("f(password=Xy9$kq!2Lm, user=u)\n", "Xy9$kq!2Lm"),
    ],
)
def test_a_symbol_heavy_value_is_hidden_whole(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "x = dict(a=1,\n    password=hunter22)\n",
        "def f(password: str=None):\n    pass\n",
        "class C:\n    password: str=DEFAULT_PASSWORD\n",
        "password: Optional[str]=None\n",
        "f(\n    url,\n    password=pw_var,\n)\n",
        "return cls(\n    password=parts['password'],\n)\n",
        "token: TokenType=TokenType.BEARER\n",
        "conn = connect(host,\npassword=db_pass, user=db_user)\n",
        "log.info(password=masked_pw, user=u)\n",
    ],
)
def test_code_around_such_values_is_left(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
