"""The product spec's table (seed 000) and the classifier's contract."""

from __future__ import annotations

import pytest

from ocp_router import ConfigError, Route, TaskClassifier, TaskType
from ocp_router._text import split_request

SEED_TABLE = [
    ("explain this function", 0.00, Route.LOCAL),
    ("find all usages of db.connect", 0.00, Route.LOCAL),
    ("summarise the last session", 0.00, Route.LOCAL),
    ("refactor the login function", 0.25, Route.LOCAL),
    ("review security vulnerabilities", 0.55, Route.PAID),
    ("design the payment architecture", 0.55, Route.PAID),
    ("debug this production deadlock", 0.60, Route.PAID),
    ("refactor auth across all files", 0.80, Route.PAID),
    ("explain the auth middleware", 0.00, Route.LOCAL),
]


@pytest.mark.parametrize(("prompt", "score", "route"), SEED_TABLE)
def test_seed_requests_route_and_score_as_the_spec_table_says(
    prompt: str, score: float, route: Route
) -> None:
    result = TaskClassifier().classify(prompt)
    assert result.route_to is route
    assert result.complexity_score == pytest.approx(score, abs=0.05)


def test_signals_add_up_to_the_score_before_clamping() -> None:
    result = TaskClassifier().classify("debug this production deadlock")
    assert sum(s.weight for s in result.signals) == pytest.approx(result.complexity_score, abs=1e-3)
    names = {s.name for s in result.signals}
    assert {"deadlock / race / concurrency", "production / deploy"} <= names


def test_classification_is_deterministic() -> None:
    prompt = "why do two workers sometimes process the same job after we added retries?"
    first = TaskClassifier().classify(prompt)
    assert all(TaskClassifier().classify(prompt) == first for _ in range(5))


@pytest.mark.parametrize(
    "prompt",
    ["Review SECURITY holes", "is this endpoint secure?", "list the vulnerabilities here"],
)
def test_security_word_forms_match_case_insensitively(prompt: str) -> None:
    names = {s.name for s in TaskClassifier().classify(prompt).signals}
    assert "security" in names


@pytest.mark.parametrize("prompt", ["migrate to postgres", "migrating the db", "the migration"])
def test_migration_word_forms_match(prompt: str) -> None:
    assert "migration" in {s.name for s in TaskClassifier().classify(prompt).signals}


@pytest.mark.parametrize("prompt", ["architect it", "architectural review", "the architecture"])
def test_architecture_word_forms_match(prompt: str) -> None:
    names = {s.name for s in TaskClassifier().classify(prompt).signals}
    assert "architecture / design" in names


def test_attribute_access_and_timestamps_are_not_counted_as_file_paths() -> None:
    split = split_request(
        "at 12:03:44.123 self.cents went negative after db.connect and os.path.join ran"
    )
    assert split.paths == frozenset()


def test_real_file_paths_are_counted_once_each() -> None:
    split = split_request(
        "compare src/auth/session.py with web/app/routes.tsx, then src/auth/session.py and "
        "README.md; see https://example.com/x/y.py"
    )
    assert split.paths == {"src/auth/session.py", "web/app/routes.tsx", "readme.md"}


def test_keywords_inside_pasted_code_do_not_escalate() -> None:
    code = "\n".join(
        [
            "```python",
            "def migrate_locks(db):",
            "    with deadlock_guard(db.lock):",
            "        security.audit(db)",
            "        return db.migrate()",
            "```",
        ]
    )
    result = TaskClassifier().classify("add a docstring to this function\n" + code)
    assert result.route_to is Route.LOCAL
    assert not {"security", "migration", "deadlock / race / concurrency"} & {
        s.name for s in result.signals
    }
    assert any(s.name == "fenced code" for s in result.signals)


def test_threshold_zero_sends_everything_paid_and_one_keeps_nearly_everything_local() -> None:
    assert TaskClassifier(threshold=0.0).classify("explain this function").route_to is Route.PAID
    hard = TaskClassifier(threshold=1.0).classify("design the payment architecture")
    assert hard.route_to is Route.LOCAL


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_threshold_outside_zero_to_one_is_rejected(bad: float) -> None:
    with pytest.raises(ConfigError, match="between 0.0 and 1.0"):
        TaskClassifier(threshold=bad)


def test_confidence_grows_with_distance_from_the_threshold() -> None:
    clf = TaskClassifier()
    near = clf.classify("review security vulnerabilities")
    far = clf.classify("refactor auth across all files")
    assert 0.0 <= near.confidence < far.confidence <= 1.0


@pytest.mark.parametrize(
    ("prompt", "task_type"),
    [
        ("explain this function", TaskType.EXPLAIN),
        ("summarise the last session", TaskType.SUMMARISE),
        ("find all usages of db.connect", TaskType.RETRIEVAL),
        ("review security vulnerabilities", TaskType.SECURITY),
        ("design the payment architecture", TaskType.ARCHITECT),
        ("migrate the orders table to postgres 16 with zero downtime", TaskType.MIGRATE),
        ("debug this production deadlock", TaskType.DEBUG),
    ],
)
def test_task_type_follows_the_strongest_family(prompt: str, task_type: TaskType) -> None:
    assert TaskClassifier().classify(prompt).task_type is task_type


def test_empty_and_whitespace_prompts_classify_local_without_error() -> None:
    for prompt in ("", "   ", "\n\n"):
        result = TaskClassifier().classify(prompt)
        assert result.route_to is Route.LOCAL
        assert result.estimated_tokens >= 0


def test_explain_renders_route_score_and_signals() -> None:
    line = TaskClassifier().classify("refactor auth across all files").explain()
    assert line.startswith("paid (score 0.8")
    assert "multi-file scope +0.35" in line
