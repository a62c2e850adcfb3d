"""The labelled routing request sets, named once for the tests (scripts/train_classifier.py's
TRAINED_ON names the same training files for training)."""

from __future__ import annotations

import json
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent

#: What the shipped classifier was trained on.
TRAINED_ON = (
    "routing_train.jsonl",
    "routing_sources.jsonl",
    "routing_sources_2.jsonl",
    "routing_sources_3.jsonl",
    "routing_sources_4.jsonl",
)
#: Plain requests it never saw: the holdout and the requests written after training.
NEVER_TRAINED_ON = ("routing_holdout.jsonl", "routing_fresh.jsonl")


def texts(names: tuple[str, ...]) -> list[str]:
    """Every request text of the named sets, in file order."""
    return [
        json.loads(line)["text"]
        for name in names
        for line in (DATA_DIR / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
