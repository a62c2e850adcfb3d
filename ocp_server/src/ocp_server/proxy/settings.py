"""The proxy's own settings, from OCP_PROXY_* (and a few shared OCP_*) variables, read once.

The upstreams are deliberately not ANTHROPIC_BASE_URL / OPENAI_BASE_URL: a user pointing
Claude Code at the proxy sets ANTHROPIC_BASE_URL to the proxy itself, and a proxy that read it
would forward to itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ocp_router.config import env_value
from ocp_router.env import HTTP_URL, HTTP_URL_EXPECTED
from ocp_router.errors import ConfigError

ANTHROPIC_UPSTREAM = "https://api.anthropic.com"
OPENAI_UPSTREAM = "https://api.openai.com/v1"


class Ceiling(StrEnum):
    """`requested`: the client's model is the most a request may cost (a simple turn may go
    down to the mid model, never up). `none`: each tier's configured model, whatever was asked."""

    REQUESTED = "requested"
    NONE = "none"


MAX_PORT = 65535


class ProxySettings(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, allow_inf_nan=False)

    host: str = Field("127.0.0.1", alias="OCP_PROXY_HOST", min_length=1)
    port: int = Field(8787, alias="OCP_PROXY_PORT", ge=0, le=MAX_PORT)
    token: str | None = Field(None, alias="OCP_PROXY_TOKEN", repr=False, min_length=8)
    ceiling: Ceiling = Field(Ceiling.REQUESTED, alias="OCP_PROXY_CEILING")
    trace_content: bool = Field(False, alias="OCP_TRACE_CONTENT")
    max_body_bytes: int = Field(32 * 1024 * 1024, alias="OCP_PROXY_MAX_BODY_BYTES", gt=0)
    anthropic_upstream: str = Field(
        ANTHROPIC_UPSTREAM, alias="OCP_PROXY_ANTHROPIC_UPSTREAM", pattern=HTTP_URL
    )
    openai_upstream: str = Field(
        OPENAI_UPSTREAM, alias="OCP_PROXY_OPENAI_UPSTREAM", pattern=HTTP_URL
    )
    # Seconds to wait for an upstream's next byte (a paid stream may think for a long time).
    upstream_timeout: float = Field(600.0, alias="OCP_PROXY_UPSTREAM_TIMEOUT", gt=0)
    # Seconds one step of the proxy's own work on a large body may take (its parse, judgement,
    # redaction, serialising: 1-3 s for 32 MB); past it the request is a 500, the step left.
    work_timeout: float = Field(60.0, alias="OCP_PROXY_WORK_TIMEOUT", gt=0)
    # Seconds open streams get to finish when the proxy is asked to stop.
    shutdown_grace: float = Field(30.0, alias="OCP_PROXY_SHUTDOWN_GRACE", ge=0)
    recent: int = Field(500, alias="OCP_PROXY_RECENT", gt=0, le=100_000)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> ProxySettings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field in cls.model_fields.values():
            if field.alias and (value := env_value(env, field.alias)) is not None:
                values[field.alias] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else "?"
                alias = cls.model_fields[name].alias if name in cls.model_fields else name
                shown = "<hidden>" if alias == "OCP_PROXY_TOKEN" else repr(err.get("input"))
                url = err["type"] == "string_pattern_mismatch"  # the upstreams' one pattern
                problems.append(
                    f"{alias}={shown} is invalid: {HTTP_URL_EXPECTED if url else err['msg']}"
                )
            raise ConfigError("; ".join(problems)) from exc
