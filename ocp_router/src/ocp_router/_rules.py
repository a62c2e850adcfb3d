"""Keyword families: the classifier's explainable first layer.

Each family has a weight (escalating > 0, de-escalating < 0) and the task type it suggests.
The weights of the families named in the product's origin (security, architecture,
migration, deadlock, multi-file, refactor, explain, summarise, search) are the seed's.
Every family fires at most once per request. Patterns match word forms
(secure/security/vulnerability, migrate/migrating, architect/architectural) and a few
non-English forms; all patterns are compiled once into one alternation and run over the
lower-cased prose in a single pass.

Over 600 lines on purpose: the file is mostly the family table itself (patterns and weights
read together when tuning), and splitting the table would hide which family outranks which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ahocorasick_rs import AhoCorasick, Implementation, MatchKind

from ocp_router._features import spaced_letters


class TaskType(StrEnum):
    EXPLAIN = "explain"
    SUMMARISE = "summarise"
    RETRIEVAL = "retrieval"
    REFACTOR = "refactor"
    DEBUG = "debug"
    ARCHITECT = "architect"
    SECURITY = "security"
    MIGRATE = "migrate"
    TEST = "test"
    EDIT = "edit"
    GENERATE = "generate"
    REVIEW = "review"
    PERFORMANCE = "performance"
    OPS = "ops"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    weight: float
    task_type: TaskType
    pattern: str
    label: str


_T = TaskType

FAMILIES: tuple[Family, ...] = (
    # ---- escalating -------------------------------------------------------------------
    Family(
        "security",
        0.55,
        _T.SECURITY,
        r"\bsecur\w*|\bvulnerab\w*|\bexploit\w*|\binjection\b|\bxss\b|\bcsrf\b|\bssrf\b|"
        r"\bcve\b|\bthreat[- ]?model\w*|\bpen-?test\w*|\battack surface|privilege escalation|"
        r"\bsanitiz\w*|\binsecure\b|\bauth\w* bypass|\bhardening\b|\bsafe to (?:store|keep|expose|"
        r"log|trust)|\bis (?:it|this|that) (?:safe|secure)\b|"
        r"seguridad|sicherheit|sécurité|segurança|безопасн\w*|安全|セキュリティ|脆弱",
        "security",
    ),
    Family(
        "architecture",
        0.55,
        _T.ARCHITECT,
        r"\barchitect\w*|\bsystem design|\b(?:design|redesign)(?:ing)? (?:the|a|an|our|my|this)\b|"
        r"arquitectura|architektur|архитектур\w*|架构|アーキテクチャ|设计|設計",
        "architecture / design",
    ),
    Family(
        "migration",
        0.55,
        _T.MIGRATE,
        r"\bmigrat\w*|\bupgrad\w* (?:\w+ ){0,4}(?:from|to) |\bport(?:ing)? (?:\w+ ){0,4}from |"
        r"\b(?:move|switch|moving|switching) (?:\w+ ){0,3}from [\w.-]+(?: [\w.-]+)? to\b|"
        r"\bconvert (?:the )?(?:whole|entire|all)\b|\bzero[- ]downtime|\bwithout downtime|"
        r"\bbackwards?[- ]compatib\w*|升级|"
        r"migraci\w*|migração|migrier\w*|миграц\w*|迁移|移行",
        "migration",
    ),
    Family(
        "concurrency",
        0.40,
        _T.DEBUG,
        r"\bdeadlock\w*|\brace condition|\bdata race|\bracy\b|\blivelock|\bconcurren\w*|"
        r"\bthread[- ]?safe\w*|\bsynchroni[sz]\w*|\bstarvation\b|\bmemory ordering|"
        r"\block contention|\batomicity\b|\block-?free|\bwait-?free|\blockless\b|\bspsc\b|"
        r"\bmpmc\b|\bmpsc\b|\bmemory model\b|"
        r"死锁|并发|デッドロック|競合|interbloqueo|verklemmung|взаимоблокировк\w*",
        "deadlock / race / concurrency",
    ),
    Family(
        "multi_file",
        0.35,
        _T.REFACTOR,
        r"\bacross (?:all |the |every |multiple |several |our |many )*(?:files|modules|packages|"
        r"services|repos|repositories|codebase|project|layers|components|microservices)\b|"
        r"\b(?:multiple|several|many|every|all the|all) (?:source )?(?:files|modules|packages|"
        r"services|microservices|repos|repositories)\b|\bwhole (?:codebase|project|repo\w*|app)\b|"
        r"\bentire (?:codebase|project|repo\w*|app\w*)\b|\bcodebase[- ]wide|\bmonorepo\b|"
        r"\bevery (?:single )?(?:file|module|package|service|endpoint|import)\b|"
        r"\b\d+ (?:\w+ )?(?:endpoints|files|modules|services|handlers|call ?sites|repos)\b|"
        r"整个项目|整个",
        "multi-file scope",
    ),
    Family(
        "refactor",
        0.25,
        _T.REFACTOR,
        r"\brefactor\w*|\brestructur\w*|\bre-?architect\w*|\bdecoupl\w*|"
        r"refactoriz\w*|refaktor\w*|рефактор\w*|重构|リファクタ",
        "refactor",
    ),
    Family(
        "performance",
        0.30,
        _T.PERFORMANCE,
        r"\bperformance\b|\boptimi[sz]\w*|\blatenc\w*|\bthroughput\b|\bbottleneck\w*|"
        r"\bmemory leak\w*|\bleak(?:s|ing)?\b|\bp9\d\b|\bprofil(?:e|ing|er)\b|\bslow\w*|"
        r"\bscal(?:e|es|ing|ability)\b|\bn\+1\b|\bhot path|\bcpu\b|\bspik\w*|\boom\b|"
        r"\bpeg(?:s|ged)\b|\bmemory (?:usage|grows|growth|keeps)|"
        r"\btakes? (?:about |over |almost )?\d+(?:\.\d+)? ?(?:s|ms|sec|secs|seconds|minutes|min)\b|"
        r"rendimiento|leistung|性能|パフォーマンス|производительн\w*",
        "performance / optimisation",
    ),
    Family(
        "production",
        0.20,
        _T.OPS,
        r"\bproduction\b|\bprod\b|\bdeploy\w*|\boutage\w*|\bincident\w*|\brollback\b|"
        r"\brollout\b|\bon-?call\b|\bhotfix\w*|\bpost-?mortem\w*|\blive traffic|"
        r"\bcustomers? (?:are|is|keep) (?:seeing|reporting|getting)",
        "production / deploy",
    ),
    Family(
        "diagnosis",
        0.30,
        _T.DEBUG,
        r"\bintermittent\w*|\bsporadic\w*|\bflak(?:y|iness)|\brandomly\b|"
        r"\bnon-?deterministic\w*|\bheisenbug|\bsometimes\b|\boccasionally\b|"
        r"\bonly (?:happens|fails|breaks|occurs|shows up|reproduces)|"
        r"\bcan(?:'|no)?t reproduce|\bhard to reproduce|\bunder load\b|\broot cause|"
        r"\bregress(?:ion|ed)\w*|\bcorrupt\w*|\bstale\b|\bout of order\b|\blost (?:updates?|"
        r"writes?|messages?|events?)|\bsilently\b|\bhang(?:s|ing)?\b|\bstuck\b|\bdouble[- ]"
        r"(?:charg|process|send|submit|count)\w*|\btwice\b|\bno idea why|\bwrong results?\b|"
        r"\bflap\w*|\bkeeps? (?:restarting|crashing|failing|timing out|dropping|growing|"
        r"flapping|reconnecting)\b|\bthrash\w*|\boscillat\w*|\bevery few (?:minutes|seconds|hours)|"
        r"a veces|manchmal|parfois|иногда|有时|時々|ときどき",
        "hard-to-diagnose behaviour",
    ),
    Family(
        "why",
        0.20,
        _T.DEBUG,
        r"^why\b|^how come\b|^so why\b|\bwhy (?:does|do|is|are|would|did|was|were|can|could|"
        r"doesn|don|isn|aren)\b|\bpor qué|\bwarum\b|\bpourquoi\b|\bпочему\b|为什么|なぜ|どうして",
        "asks why something behaves as it does",
    ),
    Family(
        "decision",
        0.30,
        _T.ARCHITECT,
        r"\btrade-?offs?\b|\bpros and cons\b|\bshould (?:we|i)\b|\bwhich (?:approach|option|"
        r"design|pattern|library|framework|database|db|strategy)\b|\bbest (?:way|approach|"
        r"practice|pattern) (?:to|for) (?:structure|design|model|organi[sz]e|handle|scale|"
        r"implement)|\bhow (?:should|would|do|can) (?:we|i) (?:structure|design|model|"
        r"organi[sz]e|scale|shard|partition|version|approach|split|guarantee|ensure)\b|"
        r"\bstrateg(?:y|ies)\b|\balternatives?\b|\bevaluate\b|\bplan (?:for|to|out|the)\b|"
        r"\bvs\.?\s(?!code\b)|\bversus\b|\bor \S+ for this\b|"
        r"\b(?:cleanest|right|proper|idiomatic|best|safest) way to\b|"
        r"\bplugin (?:system|architecture)",
        "design decision / trade-offs",
    ),
    Family(
        "distributed",
        0.35,
        _T.ARCHITECT,
        r"\bdistributed\b|\bshard\w*|\bpartition\w*|\breplicat\w*|\bread replicas?\b|"
        r"\bconsensus\b|"
        r"\bconsisten(?:cy|t)\b|\bidempoten\w*|\bexactly[- ]once|\bat[- ]least[- ]once|"
        r"\bisolation level|\btwo[- ]phase|\bsaga\b|\bevent sourcing|\bcqrs\b|\bbackpressure|"
        r"\bcircuit breaker|\bmulti[- ]region|\bfailover|\bleader election|\bcache invalidation|"
        r"\bmulti[- ]tenan\w*|\brate[- ]limit\w*",
        "distributed-systems reasoning",
    ),
    Family(
        "feature",
        0.30,
        _T.GENERATE,
        r"\bimplement (?:a |an |the |our )?(?:\w+ ){0,3}(?:system|service|feature|pipeline|"
        r"engine|framework|protocol|scheduler|queue|parser|compiler|interpreter|sync|workflow|"
        r"integration|subsystem)\b|\bbuild (?:a |an |the |our )(?:\w+ ){0,3}(?:system|service|"
        r"feature|pipeline|platform|app|backend|api)\b|\bend[- ]to[- ]end\b|\bfrom scratch\b",
        "substantial new feature",
    ),
    # Short asks with no alarming word that still change a product across the board: a
    # capability scoped per tenant or customer, across languages, regions or currencies, or
    # one of the features that reach every layer (single sign-on, offline use, audit trails).
    Family(
        "product_scope",
        0.30,
        _T.ARCHITECT,
        r"\bper[- ](?:tenant|customer|user|org\w*|account|region|workspace|team|merchant|seller|"
        r"client)\b|\bmulti[- ]?(?:tenan\w*|region\w*|currenc\w*|warehouse\w*|language\w*|"
        r"lingual)\b|\bbring (?:their|your|our) own\b|\boffline[- ](?:mode|first|support)\b|"
        r"\breal[- ]?time (?:collaborat\w*|sync\w*)|\bsso\b|\bsaml\b|\boidc\b|"
        r"\bdata residency\b|\b(?:usage|seat)[- ]based (?:billing|pricing)\b|\baudit trail|"
        r"\bapproval (?:flow|workflow)|\bresumable\b|\bsoft[- ]delet\w*|\bright[- ]to[- ]left\b|"
        r"\binternationali[sz]\w*|\bi18n\b|\b(?:customer|tenant|user|client)[- ]managed\b|\bbyok\b|"
        r"\brole[- ]based access\b|\brbac\b|\brow[- ]level (?:security|permissions?)\b|"
        r"\bfield[- ]level (?:encryption|permissions?)\b|\bend[- ]to[- ]end encrypt\w*|"
        r"\bwhite[- ]label\w*|\bon[- ]prem\w*|\bgdpr\b|\bright to be forgotten\b",
        "product-wide capability",
    ),
    # "Why does the tool do this" about compilers, version control and protocols: answering
    # needs the tool's internals, not a look-up.
    Family(
        "internals",
        0.25,
        _T.EXPLAIN,
        r"\bwhy (?:does|do|is|did|would|doesn't|won't|can't|isn't) (?:\w+ ){0,3}(?:git|compilers?|"
        r"linker|rustc|gcc|clang|javac|jvm|jit|gc|garbage collector|kernel|tcp|udp|tls|ssl|dns|"
        r"quic|scheduler|event loop|gil|borrow checker|type checker|tsc|typescript|mypy|webpack|"
        r"docker|kubernetes|postgres|mysql|sqlite|redis|nginx|browser|v8|interpreter|optimi[sz]er)\b",
        "asks why a tool behaves as it does inside",
    ),
    Family(
        "review",
        0.25,
        _T.REVIEW,
        r"\bcode review\b|\breview (?:this|my|the|our) (?:pr|pull request|diff|change\w*|code|"
        r"implementation|design|approach|logic|patch)\b|\baudit\w*|\bis (?:this|it|our \w+) "
        r"(?:correct|safe|sound|fine)\b|\bcorrectness\b|\bedge cases?\b|\bsound\?|"
        r"\b(?:is|are) (?:\w[\w-]* ){1,5}(?:actually |really |still )?(?:safe|secure|correct|sound|"
        r"thread-?safe)\b",
        "careful review",
    ),
    Family(
        "test_strategy",
        0.30,
        _T.TEST,
        r"\btest(?:ing)? (?:strategy|plan|harness|infrastructure|pyramid)\b|\bproperty[- ]based\b|"
        r"\bfuzz\w*|\bmutation testing\b|\bload test\w*|\bchaos\b",
        "test strategy",
    ),
    # ---- de-escalating ----------------------------------------------------------------
    Family(
        "explain",
        -0.10,
        _T.EXPLAIN,
        r"\bexplain\w*|\bwalk me through|\bhow does (?:this|that|it) work|\bwhat does (?:this|"
        r"that|it|the \w+) (?:do|return|print|mean)\b|\bexplica\w*|erklär\w*|expliqu\w*|"
        r"объясн\w*|解释|説明",
        "explain",
    ),
    Family(
        "summarise",
        -0.10,
        _T.SUMMARISE,
        r"\bsummar\w*|\btl;?dr\b|\brecap\b|\boverview of\b|\bresum\w*|zusammenfass\w*|résum\w*|"
        r"кратко|总结|要約|まとめ",
        "summarise",
    ),
    Family(
        "search",
        -0.10,
        _T.RETRIEVAL,
        r"\bfind\b|\bsearch\w*|\bgrep\b|\blocate\b|\blist (?:all|the|every)\b|\bshow me\b|"
        r"\bwhere(?:'s| is| are| do| does| did)\b|\bwhich files?\b|\busages?\b|"
        r"\breferences? to\b|\blook ?up\b|\bbusca\w*|\bencuentra\w*|\bfinde\b|\bsuche\w*|"
        r"\btrouve\w*|\bcherche\w*|найди|где |查找|找到|どこ|探して",
        "search / find / grep",
    ),
    Family(
        "what_is",
        -0.10,
        _T.EXPLAIN,
        r"^what's\b|^what is\b|^what are\b|^define\b|^definition of\b|^meaning of\b|"
        r"\bwhat does the (?:word|term) |\bwhat(?:'s| is) the difference between|"
        r"\bqué es\b|\bwas ist\b|"
        r"\bqu'est-ce\b|\bчто такое\b|是什么|とは",
        '"what is"',
    ),
    Family(
        "definition",
        -0.30,
        _T.EXPLAIN,
        r"\bwhat (?:does|do) (?:the (?:word|term|flag|option) )?\S+ (?:mean|stand for)\b|"
        r"\bdefinition of\b|\bmeaning of\b|^define\b|\bwhat is meant by\b",
        "definition question",
    ),
    Family(
        "one_line",
        -0.10,
        _T.UNKNOWN,
        r"\bone[- ]liner\b|\bone line\b|\bquick(?:ly)?\b|\bshort answer\b|\bjust (?:tell|give|"
        r"show)\b|\bbriefly\b|\bin one sentence\b|\byes or no\b",
        "one-line answer",
    ),
    Family(
        "trivial_edit",
        -0.20,
        _T.EDIT,
        r"\brename\w*|\btypos?\b|\bspelling\b|\bdocstrings?\b|\badd (?:a |some )?comments?\b|"
        r"\breformat\w*|\bformat(?:ting)? (?:this|the)\b|\bindent\w*|\blint\w*|"
        r"\btype hints?\b|\btype annotations?\b|\bsort (?:the )?imports\b|\bunused imports?\b|"
        r"\bumbenenn\w*|\brenombr\w*|\brenomm\w*|переименуй",
        "small single-place edit",
    ),
    Family(
        "boilerplate",
        -0.15,
        _T.GENERATE,
        r"\bregex\w*|\bregular expression|\bboilerplate\b|\bsnippet\b|\bshell command\b|"
        r"\bbash command\b|\bcommand (?:to|for)\b|\bcli flag|\bflag (?:for|to)\b|"
        r"\bcommit message\b|\bgitignore\b|\bconvert (?:this|the|it)\b|"
        r"\btranslate (?:this|the) (?:snippet|function|code|line)|"
        r"\bunit tests? for (?:this|the|my) (?:function|method|helper)\b|\bcron expression\b|"
        r"\bsql query (?:to|that)\b|\bjq\b",
        "small self-contained snippet",
    ),
)

_BY_NAME = {f.name: f for f in FAMILIES}


def _alternatives(pattern: str) -> list[str]:
    """Split a pattern at its top-level `|`."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


_META = frozenset("\\()[]{}?*+|.^$")
_QUANTIFIERS = frozenset("?*+{")
_LEADING_GROUP = re.compile(r"\(\?:((?:[^()\\|?*+]+\|)*[^()\\|?*+]+)\)(?![?*{])")


def _literal_head(text: str) -> str:
    """The literal characters every match of `text` starts with (up to the first regex
    syntax, or the last character before a quantifier)."""
    head = []
    for i, ch in enumerate(text):
        if ch in _META or (i + 1 < len(text) and text[i + 1] in _QUANTIFIERS):
            break
        head.append(ch)
    return "".join(head)


def _heads(alternative: str) -> list[str]:
    """What a match of this alternative starts with: one literal, or one per branch of a
    leading group (`(?:move|switch) ...`); "" where nothing literal is known."""
    alt = alternative.removeprefix("\\b").removeprefix("^")
    if group := _LEADING_GROUP.match(alt):
        return [_literal_head(branch) for branch in group.group(1).split("|")]
    return [_literal_head(alt)]


def _trigger_keys(alternative: str) -> dict[str, tuple[str, ...]] | None:
    """The literal heads of an alternative by the first three letters of the word each starts
    ("#" for a digit), as the request's words are keyed; None when that cannot be told (the
    family is then searched whole on every request)."""
    if alternative.removeprefix("\\b").removeprefix("^").startswith("\\d"):
        return {"#": ("",)}
    keys: dict[str, tuple[str, ...]] = {}
    alt = alternative.removeprefix("\\b").removeprefix("^")
    for head in _heads(alternative):
        letters = _leading_letters(head)
        if not letters:
            return None
        if len(letters) < 3 and head == letters and alt.startswith(head):
            # a short head that the word may go on past ("rearchitect" for `re-?architect`)
            # is keyed as each of its two spellings (`_optional_spellings`)
            spellings = _optional_spellings(head, alt[len(head) :])
            if spellings is not None:
                for spelled in spellings:
                    key = _leading_letters(spelled)[:3]
                    keys[key] = (*keys.get(key, ()), spelled)
                continue
        keys[letters[:3]] = (*keys.get(letters[:3], ()), head)
    return keys


# After a short head: one optional punctuation character (`-?`, `;?`, `\.?`) and what follows
# it; anything else (`\s?`, `.?`, a class) leaves the head keyed as a whole word.
_OPTIONAL_CHAR = re.compile(r"(\\[^\w\s]|[^\\\[(.\w\s])\?(.*)", re.S)


def _optional_spellings(head: str, rest: str) -> tuple[str, str] | None:
    """A head's literal text with and without the optional character after it, when that
    character is followed by letters the word may go on with (`re-?architect`: "re-architect"
    and "rearchitect"); None otherwise (the head is then a whole word: `vs\\.?\\s`)."""
    optional = _OPTIONAL_CHAR.match(rest)
    if optional is None:
        return None
    char, after = optional.group(1).removeprefix("\\"), _literal_head(optional.group(2))
    if not after[:1].isalpha():
        return None
    return head + char + after, head + after


def _leading_letters(text: str) -> str:
    letters = ""
    for ch in text:
        if not ch.isalpha():
            break
        letters += ch
    return letters


def _word_key(head: str, bounded: bool) -> str | None:
    """The key (first three letters, "#" for a digit) of the word in the text where a literal
    `head` begins at a word start; `bounded`: the pattern requires a word end right after the
    head. None when it cannot be told."""
    if head[:1].isdigit():
        return "#"
    letters = _leading_letters(head)
    if len(letters) >= 3:
        return letters[:3]
    if letters and (len(head) > len(letters) or bounded):
        return letters  # a short word that ends where its letters do
    return None


# Text before a group that puts the group at a word start: a space, a word boundary, or a
# group of words that ends with a space.
_AT_WORD_START = re.compile(r"(?: |\\b| \)(?:\{\d*,?\d*\}|\?|\*)?)$")


def _tail_keys(alternative: str) -> frozenset[str] | None:
    """Keys of the words one of which every match must contain: the branches of the last
    unquantified top-level group of literals (`... (?:git|compilers?|linker)\\b`), when it
    starts at a word. None: no such group."""
    depth, start, last = 0, -1, None
    i = 0
    while i < len(alternative):
        ch = alternative[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                after = alternative[i + 1 : i + 2]
                if after not in _QUANTIFIERS and alternative.startswith("(?:", start):
                    last = (start, i)
        i += 1
    if last is None:
        return None
    start, end = last
    inner = alternative[start + 3 : end]
    if not _AT_WORD_START.search(alternative[:start]) or "(" in inner:
        return None
    bounded = alternative[end + 1 :].startswith("\\b")
    keys = set()
    for branch in _alternatives(inner):
        key = _word_key(_literal_head(branch), bounded and _literal_head(branch) == branch)
        if key is None:
            return None
        keys.add(key)
    return frozenset(keys)


# Alternatives that start with a character from here up (CJK scripts) have no word boundaries.
_CJK_FIRST = "\u2e80"


@dataclass(frozen=True, slots=True)
class _Compiled:
    family: Family
    regex: re.Pattern[str]  # every word alternative: for families searched whole
    keyed: bool  # False: some alternative has no trigger key, search `regex` always
    alternatives: tuple[re.Pattern[str], ...]  # each word alternative on its own
    # per alternative: the word keys one of which it needs besides its head (None: none known)
    tails: tuple[frozenset[str] | None, ...]
    cjk: re.Pattern[str] | None
    # per alternative: the literal text every match starts with, when there is one (None:
    # none, or a group of several), where `_first_match` tries the alternative
    starts: tuple[str | None, ...] = ()
    # per alternative: whether it opens with `^` (matches only at a line's start)
    anchored: tuple[bool, ...] = ()


def _single_start(alternative: str) -> str | None:
    heads = _heads(alternative)
    return heads[0] if len(heads) == 1 and heads[0] else None


def _compile(fam: Family) -> _Compiled:
    """Words are matched per family, and only through the alternatives that can match: one
    whose literal start (`\\bsecur`, `\\brace condition`, `\\bwhy `) is in the text and begins
    a word of the request (found by one Aho-Corasick pass, `word_starts`). A single
    alternation of every family costs 10x more in Python's regex engine, and running a
    family's whole alternation for one trigger word 3x more. CJK alternatives, which have no
    word boundaries, live in their own regex that runs only on non-ASCII text."""
    alts = _alternatives(fam.pattern)
    words = [a for a in alts if a[0] < _CJK_FIRST]
    cjk = [a for a in alts if a[0] >= _CJK_FIRST]
    bounded = [a if a.startswith(("\\b", "^")) else "\\b" + a for a in words]
    keyed = all(_trigger_keys(a) is not None for a in words)
    return _Compiled(
        fam,
        re.compile("|".join(bounded), re.M),
        keyed,
        tuple(re.compile(b, re.M) for b in bounded),
        tuple(_tail_keys(a) for a in words),
        re.compile("|".join(cjk)) if cjk else None,
        tuple(_single_start(a) for a in words),
        tuple(b.startswith("^") for b in bounded),
    )


_COMPILED = tuple(_compile(f) for f in FAMILIES)
# trigger key -> (family index, alternative index, the literal heads under that key): which
# alternatives a word's first three letters can start ("#": a digit).
_BY_KEY: dict[str, list[tuple[int, int, tuple[str, ...]]]] = {}
for _i, _c in enumerate(_COMPILED):
    if _c.keyed:
        _words = [a for a in _alternatives(_c.family.pattern) if a[0] < _CJK_FIRST]
        for _j, _alt in enumerate(_words):
            for _k, _hs in (_trigger_keys(_alt) or {}).items():
                _BY_KEY.setdefault(_k, []).append((_i, _j, _hs))
_ALWAYS = tuple(i for i, c in enumerate(_COMPILED) if not c.keyed)
_HAS_CJK = tuple(i for i, c in enumerate(_COMPILED) if c.cjk is not None)
_DIGIT = re.compile(r"\d")


# Which alternatives a request can match is told by one Aho-Corasick pass (Rust's aho-corasick
# crate, as for pasted errors) over `spaced_letters(prose)`, where every character but a-z is
# a space, so " why" there is a word that starts with "why". It replaced a set of every word's
# key (first three letters) and its intersection with the heads' keys, about 15k instructions
# of a short request's 151k against 9k for the pass (cachegrind), which also finds the pasted-
# error words. Each pattern asks what the key set asked, so the same alternatives are tried: a
# key of three letters is a word that starts with it, a shorter key a word that is it, and a
# head of three letters or more (a head at a word start has its key there) is looked for whole.
# A head that is not all letters is still looked for in the prose itself: the spaced form has
# lost its digits and punctuation.
def _key_pattern(key: str) -> str:
    return " " + key if len(key) >= 3 else " " + key + " "


def _head_pattern(head: str, key: str) -> str:
    return " " + spaced_letters(head)[1:-1] if len(key) >= 3 else _key_pattern(key)


def _tail_patterns(tail: frozenset[str] | None) -> frozenset[str] | None:
    return None if tail is None else frozenset(k if k == "#" else _key_pattern(k) for k in tail)


# A row per literal head (an alternative that opens with a group has several): family and
# alternative index, the head (None: found with the pattern, as it is all letters), the
# patterns of its tail keys (one of which must be found; None: no tail) and, for an
# alternative that opens with `^`, the head again (None: not anchored), as such an alternative
# can match only where its head starts a line.
_Row = tuple[int, int, str | None, frozenset[str] | None, str | None]
_BY_PATTERN: dict[str, list[_Row]] = {}
# Heads outside ASCII (sécurité, почему) are not in the spaced form: a text outside ASCII is
# searched for each (a match starts a word with the head, which the key set asked).
_OUTSIDE_ASCII = ""
for _k, _entries in _BY_KEY.items():
    if _k == "#":
        continue
    for _i, _j, _hs in _entries:
        for _h in _hs:
            _pattern = _head_pattern(_h, _k) if _h.isascii() else _OUTSIDE_ASCII
            _BY_PATTERN.setdefault(_pattern, []).append(
                (
                    _i,
                    _j,
                    None if _h.isascii() and _h.isalpha() else _h,
                    _tail_patterns(_COMPILED[_i].tails[_j]),
                    _h if _COMPILED[_i].anchored[_j] else None,
                )
            )
_HEAD_PATTERNS = frozenset(_BY_PATTERN)
# The alternatives that open with a digit, with their tails' patterns: a digit is looked for
# only when one of an alternative's tail words is found.
_DIGIT_KEYED = tuple(
    (i, j, hs, _tail_patterns(_COMPILED[i].tails[j])) for i, j, hs in _BY_KEY.get("#", ())
)
# all their tails' patterns, so that none is looked at without one (None: one has no tail)
_DIGIT_TAILS = (
    None
    if any(tail is None for *_, tail in _DIGIT_KEYED)
    else frozenset().union(*(tail for *_, tail in _DIGIT_KEYED if tail is not None))
)
# _BULK_TARGET's first words
_BULK_KEYS = frozenset(_key_pattern(k) for k in ("all", "eve", "eac"))
# A tail that names a digit key would need the digit test first (none does today).
_TAILS_NEED_DIGIT = any(t is not None and "#" in t for c in _COMPILED for t in c.tails)
# per family, per word alternative: what `_first_match` needs to try it
_TRIES = tuple(tuple(zip(c.alternatives, c.starts, c.anchored, strict=True)) for c in _COMPILED)


# Bulk-file operations: an edit verb aimed at every file, module, call site…
_BULK_TARGET = re.compile(
    r"\b(?:all|every|each) (?:of )?(?:the |our |its )?(?:files|modules|call ?sites|callers|"
    r"usages|occurrences|endpoints|services|handlers|components|controllers|models|places|"
    r"packages|tests|routes|tables|repos)\b"
)
EDIT_VERB = re.compile(
    r"\b(?:refactor\w*|renam\w*|replac\w*|updat\w*|chang\w*|convert\w*|rewrit\w*|migrat\w*|"
    r"mov\w*|delet\w*|remov\w*|fix\w*|apply|add|edit\w*|switch\w*|port)\b"
)
BULK = Family("bulk_files", 0.20, _T.REFACTOR, "", "bulk-file operation")

# What was pasted is never read for task words, but the kind of error pasted says something:
# a syntax error, a missing module or an unused import is mechanical; a borrow-checker error,
# an assertion that two numbers differ, a segfault or a hung coroutine needs reasoning.
# Literal substrings, not a regex alternation: an alternation tried at every position of an
# 8 KB paste cost 1.7 ms.
_PASTE_HARD_WORDS = (
    "e0499", "e0502", "e0505", "e0506", "e0597", "e0716", "borrowed", "lifetime",
    "segmentation fault", "sigsegv", "deadlock", "data race", "race detected", "goroutine ",
    "uncompleted", "not completing", "concurrentmodification", "idempoten", "outofmemory",
    "out of memory", "falsifying example",
)  # fmt: skip
_PASTE_EASY_WORDS = (
    "syntaxerror", "indentationerror", "modulenotfounderror", "no module named", "importerror",
    "nameerror", "is not defined", "imported and not used", "never used", "cannot find value",
    "cannot find name", "cannot find symbol", "cannot find module", "command not found",
    "enoent", "no such file or directory", "permission denied", "can only concatenate",
    "unexpected indent", "unexpected token", "unexpected eof", "missing parenthes",
    "does not match any", "not recognized as",
)  # fmt: skip
# Two numbers that should have been equal: `assert 199 == 200`, `expected 3.85 got 4`.
_NUMBERS_DIFFER = re.compile(
    r"assert(?:ionerror:)? -?[\d.]+(?:e-?\d+)? == -?[\d.]+|expected -?[\d.]+,? (?:but )?got -?[\d.]"
)
PASTE_HARD = Family(
    "paste_hard", 0.25, _T.DEBUG, "|".join(_PASTE_HARD_WORDS), "pasted error that needs reasoning"
)
PASTE_EASY = Family(
    "paste_easy", -0.25, _T.DEBUG, "|".join(_PASTE_EASY_WORDS), "pasted error of a mechanical kind"
)
# Only the start and end of a paste are read: errors lead or close a log.
_PASTE_READ = 1500
_EXTRA = {f.name: f for f in (BULK, PASTE_HARD, PASTE_EASY)}
# The names of the families that are not keyword families (they fire by other tests).
EXTRA_FAMILIES = tuple(_EXTRA)


def family(name: str) -> Family:
    return _BY_NAME.get(name) or _EXTRA[name]


# Every pasted-error word (hard, then easy) and the two words `_NUMBERS_DIFFER` needs, found in
# one pass over the text by an Aho-Corasick automaton (Rust's aho-corasick crate): 47
# substring tests cost 25 scans of the text even grouped under shared parts, about 18k
# instructions on a short request against 5k (cachegrind; pyahocorasick took 11k).
_PASTE_WORDS = (*_PASTE_HARD_WORDS, *_PASTE_EASY_WORDS, "assert", "expected")
_PASTE_FINDER = AhoCorasick(_PASTE_WORDS, matchkind=MatchKind.Standard)
_EASY_FROM = len(_PASTE_HARD_WORDS)
_NUMBERS_FROM = _EASY_FROM + len(_PASTE_EASY_WORDS)
# The pasted-error words of a short request that is all prose (`prose_as_is`) are found in the
# pass that finds the families' word starts: a second pass cost 5k instructions. That pass
# reads them spaced (digits and punctuation as spaces: "e0499" as "e    "), so each word found
# is then looked for in the text itself.
_PASTE_BY_PATTERN: dict[str, list[int]] = {}
for _n, _w in enumerate(_PASTE_WORDS):
    _PASTE_BY_PATTERN.setdefault(spaced_letters(_w)[1:-1], []).append(_n)
_PASTE_PATTERNS = frozenset(_PASTE_BY_PATTERN)
_WORD_STARTS = AhoCorasick(
    sorted(
        {*_BY_PATTERN, *_BULK_KEYS} - {_OUTSIDE_ASCII}
        | {p for rows in _BY_PATTERN.values() for r in rows for p in r[3] or () if p != "#"}
        | {p for *_, tail in _DIGIT_KEYED for p in tail or () if p != "#"}
        | _PASTE_BY_PATTERN.keys()
    ),
    matchkind=MatchKind.Standard,
    store_patterns=True,
    # a DFA: fewer instructions a byte than the default NFA (5.1k against 6.5k a short request)
    implementation=Implementation.DFA,
)


def word_starts(spaced: str) -> set[str]:
    """The patterns `match_families` and `match_paste` look for that occur in `spaced`
    (`spaced_letters` of the prose): words that start with a head, a tail key or a bulk
    target's word, and pasted-error words in their spaced form."""
    return set(_WORD_STARTS.find_matches_as_strings(spaced, overlapping=True))


def match_paste(
    text: str, lower: str | None = None, found: set[str] | None = None
) -> dict[str, str]:
    """The kinds of error in a request's pasted material (`text` is the whole request): for
    each kind, the earliest-listed word of it that occurs. `lower`: `text.lower()`, when the
    caller has it (and the text is not cut); `found`: with it, `word_starts` of its
    `spaced_letters`."""
    if len(text) > 2 * _PASTE_READ:
        text = text[:_PASTE_READ] + "\n" + text[-_PASTE_READ:]
        lower = None
    if lower is not None and found is not None:
        if found.isdisjoint(_PASTE_PATTERNS):
            return {}
        listed = {
            n
            for p in found & _PASTE_PATTERNS
            for n in _PASTE_BY_PATTERN[p]
            if _PASTE_WORDS[n] in lower
        }
        if not listed:  # found only in the spaced form ("e    " from "e 2024")
            return {}
    else:
        if lower is None:
            lower = text.lower()
        # every occurrence of every word, overlapping ones too: the words that occur
        matches = _PASTE_FINDER.find_matches_as_indexes(lower, overlapping=True)
        if not matches:
            return {}
        listed = {i for i, _, _ in matches}
    fired = {}
    hard = min((i for i in listed if i < _EASY_FROM), default=None)
    if hard is not None:
        fired[PASTE_HARD.name] = _PASTE_WORDS[hard]
    elif max(listed) >= _NUMBERS_FROM and (m := _NUMBERS_DIFFER.search(lower)):
        fired[PASTE_HARD.name] = m.group(0)
    easy = min((i for i in listed if _EASY_FROM <= i < _NUMBERS_FROM), default=None)
    if easy is not None:
        fired[PASTE_EASY.name] = _PASTE_WORDS[easy]
    return fired


# After this many occurrences of an alternative's start that do not match, the rest of the
# text is searched in one call.
_MATCH_TRIES = 8


def _first_match(
    regex: re.Pattern[str], start: str | None, text: str, anchored: bool = False, at: int = 0
) -> re.Match[str] | None:
    """`regex.search(text)`, tried only where its literal start occurs: a pattern that opens
    with `\\b` gets no literal-prefix scan in Python's engine, which then tries every position
    (a few µs on a paragraph); str.find finds the start in C. `\\b` and `^` see the character
    before the position, so each try answers what the search would there. `anchored`: the
    pattern opens with `^` (multi-line), so a start in mid-line is passed over untried.
    `at`: where to look from (the text before it holds no match)."""
    if start is None:
        return regex.search(text, at)
    find = text.find
    pos = find(start, at)
    tries = 0
    while pos != -1:
        if anchored and pos and text[pos - 1] != "\n":
            pos = find(start, pos + 1)
            continue
        if m := regex.match(text, pos):
            return m
        tries += 1
        if tries == _MATCH_TRIES:
            return regex.search(text, pos + 1)
        pos = find(start, pos + 1)
    return None


def _leftmost(c: _Compiled, alts: list[int], text: str) -> str | None:
    """The match the family's whole alternation would find, from the alternatives that can
    match: the leftmost, the earlier alternative on a tie."""
    best: re.Match[str] | None = None
    for j in sorted(alts):
        m = _first_match(c.alternatives[j], c.starts[j], text, c.anchored[j])
        if m and (best is None or m.start() < best.start()):
            best = m
            if not m.start():
                break  # none starts further left, and a tie goes to the earlier alternative
    return best.group(0) if best else None


def match_families(prose_lower: str, found: set[str] | None = None) -> dict[str, str]:
    """Map each family that fires to the first text that fired it.

    `found`: `word_starts(spaced_letters(prose_lower))`, when the caller has it (it is
    extended in place).
    """
    # family index -> the alternatives that can match
    candidates: dict[int, list[int]] = {i: [] for i in _ALWAYS} if _ALWAYS else {}
    # the patterns found: words that start with a head, a tail key or a bulk target's word
    if found is None:
        found = word_starts(spaced_letters(prose_lower))
    digit: bool | None = None  # whether the text has a digit, once asked
    if _TAILS_NEED_DIGIT and _DIGIT.search(prose_lower):
        found.add("#")
        digit = True
    heads = found & _HEAD_PATTERNS
    if not prose_lower.isascii():
        heads.add(_OUTSIDE_ASCII)
    by_pattern = _BY_PATTERN
    for pattern in heads:
        for i, j, head, tail, line_head in by_pattern[pattern]:
            if (
                (head is None or head in prose_lower)
                and (tail is None or not tail.isdisjoint(found))
                and (
                    line_head is None
                    or prose_lower.startswith(line_head)
                    or "\n" + line_head in prose_lower
                )
            ):
                if i not in candidates:
                    candidates[i] = [j]
                elif j not in candidates[i]:  # another head of the same alternative
                    candidates[i].append(j)
    if _DIGIT_TAILS is None or not _DIGIT_TAILS.isdisjoint(found):
        for i, j, digit_heads, tail in _DIGIT_KEYED:
            if tail is not None and tail.isdisjoint(found):
                continue
            if digit is None:
                digit = _DIGIT.search(prose_lower) is not None
            if digit and any(h in prose_lower for h in digit_heads):
                candidates.setdefault(i, []).append(j)
    # CJK alternatives start with a character from U+2E80 up: none can match without one
    # (an em dash or a curly quote makes text non-ASCII, not CJK).
    foreign = not prose_lower.isascii() and max(prose_lower) >= _CJK_FIRST
    fired: dict[str, str] = {}
    for i in sorted(candidates.keys() | set(_HAS_CJK) if foreign else candidates):
        c = _COMPILED[i]
        if i in candidates:
            if not c.keyed:
                m = c.regex.search(prose_lower)
                if m:
                    fired[c.family.name] = m.group(0)
                    continue
            else:
                alts = candidates[i]
                if len(alts) == 1:
                    # `_first_match` inlined for its first try: the head was found above, so
                    # the start (that head, when the alternative has one) is in the text.
                    regex, start, anchored = _TRIES[i][alts[0]]
                    if start is not None and not anchored:
                        pos = prose_lower.find(start)
                        m = regex.match(prose_lower, pos)
                        if m is None:
                            m = _first_match(regex, start, prose_lower, False, pos + 1)
                    else:
                        m = _first_match(regex, start, prose_lower, anchored)
                    matched = m[0] if m else None
                else:
                    matched = _leftmost(c, alts, prose_lower)
                if matched:
                    fired[c.family.name] = matched
                    continue
        if foreign and c.cjk is not None and (mc := c.cjk.search(prose_lower)):
            fired[c.family.name] = mc.group(0)
    # _BULK_TARGET opens with a word that starts with one of these
    if not _BULK_KEYS.isdisjoint(found) and (target := _BULK_TARGET.search(prose_lower)):
        if EDIT_VERB.search(prose_lower):
            fired[BULK.name] = target.group(0)
    return fired
