"""Phase 2: a local model settles the ambiguous band, with schema-constrained JSON output.

Only AMBIGUOUS payloads get here. The classifier model (OCP_CLASSIFIER_MODEL, by default the
local model) answers `{"tier": "local" | "mid" | "top", "reason": "..."}` under a JSON schema
(Ollama `format`, OpenAI-compatible `response_format`). Verdicts are cached in an LRU keyed by
a hash of the last two messages, so an agent re-asking in the same spot costs nothing. On a
timeout, a backend error or an answer that is not the schema, phase 1's best guess stands and
the verdict says why.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass

from ocp_router.backends.base import GenerateRequest, ModelBackend
from ocp_router.errors import BackendError
from ocp_router.payload import AgentPayload
from ocp_router.phase1 import Assessment
from ocp_router.redact_names import redact_name_head
from ocp_router.tiers import Phase, Tier
from ocp_router.words import counted

logger = logging.getLogger(__name__)

VERDICT_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "tier": {"type": "string", "enum": ["local", "mid", "top"]},
        "reason": {"type": "string", "maxLength": 200},
    },
    "required": ["tier", "reason"],
    "additionalProperties": False,
}

INSTRUCTIONS = """You route coding requests to the cheapest model that will answer them well.
Tiers:
- local: a small local model. Simple explanations, definitions, one small function or regex,
  formatting, renaming in one file, reading an error whose cause is visible.
- mid: a strong paid model. Multi-file changes, debugging with an unclear cause, features,
  code review, agent work with tools.
- top: the strongest paid model. Architecture and design decisions, security audits,
  concurrency and distributed-systems bugs, deep multi-step reasoning.
Answer with JSON only: {"tier": "local" | "mid" | "top", "reason": "<at most 15 words>"}"""

_REQUEST_CHARS = 2000
_PREVIOUS_CHARS = 400
_OBJECT = re.compile(r"\{.*\}", re.S)
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The tier phase 2 settled on, how (llm_classifier, cache, or heuristic when it fell
    back to phase 1's guess) and why."""

    tier: Tier
    phase: Phase
    reason: str
    duration_ms: float = 0.0
    fallback: bool = False


def cache_key(payload: AgentPayload) -> str:
    """A hash of the last two messages: the request and what it answers."""
    h = hashlib.sha256()
    for message in payload.messages[-2:]:
        h.update(f"{message.role}\0{message.chars}\0{message.words}\0".encode())
    return h.hexdigest()


def _prompt(payload: AgentPayload, assessment: Assessment) -> str:
    # The instructions travel in the user turn: small local models often have no system role
    # (Gemma's chat format drops system messages).
    request = payload.user_turn[:_REQUEST_CHARS]
    lines = [
        INSTRUCTIONS,
        f"Conversation: {payload.turns} messages, {assessment.total_chars:,} characters, "
        f"{counted(assessment.tools, 'tool', 'tools')} offered, "
        f"{counted(assessment.tool_traffic, 'tool call or result', 'tool calls and results')}.",
    ]
    previous = [m for m in payload.messages[:-1] if m.text.strip()]
    if previous:
        lines.append(
            f"Previous message ({previous[-1].role}): {previous[-1].words[:_PREVIOUS_CHARS]}"
        )
    lines.append(f"Request:\n{request}")
    lines.append("Which tier should answer the request? JSON only.")
    return "\n\n".join(lines)


def parse_verdict(text: str) -> tuple[Tier, str]:
    """The tier and reason in a model's answer; ValueError says what was wrong with it.
    Tolerates a code fence or chatter around the one JSON object."""
    body = _FENCE.sub("", text).strip()
    try:
        data = json.loads(body)
    except ValueError:
        match = _OBJECT.search(body)
        if not match:
            raise ValueError(f"no JSON object in {redact_name_head(text, 80)!r}") from None
        if body[: match.start()].rstrip().endswith("["):
            raise ValueError("the answer is a JSON array, not an object") from None
        data = json.loads(match.group(0))
    if not isinstance(data, dict):
        raise ValueError(f"no JSON object in {redact_name_head(text, 80)!r}")
    tier = data.get("tier")
    if not isinstance(tier, str) or tier.strip().lower() not in ("local", "mid", "top"):
        raise ValueError(f"tier must be local, mid or top, got {tier!r}")
    reason = data.get("reason")
    # the local model read the prompt unredacted: its reason may quote a secret, cut whole
    return Tier(tier.strip().lower()), redact_name_head(
        str(reason if reason is not None else ""), 200
    )


# The defaults, the settings' too (OCP_CLASSIFIER_TIMEOUT, OCP_CLASSIFIER_CACHE_SIZE).
CLASSIFIER_TIMEOUT = 5.0
CLASSIFIER_CACHE_SIZE = 256


class LLMClassifier:
    """Asks a local model which tier an ambiguous payload needs."""

    def __init__(
        self,
        backend: ModelBackend,
        *,
        model: str | None = None,
        timeout: float = CLASSIFIER_TIMEOUT,
        cache_size: int = CLASSIFIER_CACHE_SIZE,
        max_tokens: int = 64,
    ) -> None:
        self.backend = backend
        self.model = model
        self.timeout = timeout
        self.cache_size = cache_size
        self.max_tokens = max_tokens
        self._cache: OrderedDict[str, tuple[Tier, str]] = OrderedDict()
        self.hits = 0
        self.lookups = 0

    async def classify(self, payload: AgentPayload, assessment: Assessment) -> Verdict:
        key = cache_key(payload)
        self.lookups += 1
        if (cached := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            self.hits += 1
            return Verdict(cached[0], Phase.CACHE, cached[1])
        request = GenerateRequest(
            prompt=_prompt(payload, assessment),
            max_tokens=self.max_tokens,
            temperature=0.0,
            model=self.model,
            json_schema=dict(VERDICT_SCHEMA),
            # Ollama from v0.12.4 has a model that can think do so unless told not to; its
            # thinking would spend the verdict's few tokens (an OpenAI-compatible server is
            # sent reasoning_effort "none"; the paid backends ignore it).
            think=False,
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.backend.generate(request)
            tier, reason = parse_verdict(response.text)
        except TimeoutError:
            return self._fallback(assessment, f"no verdict within {self.timeout:g}s", started)
        except BackendError as exc:
            return self._fallback(assessment, f"classifier model failed: {exc}", started)
        except ValueError as exc:
            return self._fallback(assessment, f"classifier answer unusable: {exc}", started)
        if self.cache_size > 0:
            self._cache[key] = (tier, reason)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        ms = round((loop.time() - started) * 1000, 3)
        return Verdict(tier, Phase.LLM_CLASSIFIER, reason, ms)

    def _fallback(self, assessment: Assessment, why: str, started: float) -> Verdict:
        why = why.rstrip(". ")  # a backend's error ends in a full stop; the `;` follows
        logger.info("phase 2 fell back to phase 1 (%s)", why)
        ms = round((asyncio.get_running_loop().time() - started) * 1000, 3)
        return Verdict(
            assessment.tier, Phase.HEURISTIC, f"{why}; phase 1's best guess", ms, fallback=True
        )
