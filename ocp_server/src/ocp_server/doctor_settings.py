"""What `doctor` says of settings that are set yet do nothing: an OCP_* variable misspelt
(ignored, as any variable OCP does not read), and a paid model asked for without its key."""

from __future__ import annotations

from collections.abc import Mapping

from ocp_router.config import RouterSettings
from ocp_server.setting_names import misspelt_settings

__all__ = ["misspelt_note", "paid_key_missing"]

_PAID_FIELDS = ("paid_backend", "paid_model", "paid_top_model")


def misspelt_note(env: Mapping[str, str]) -> str | None:
    """The OCP_* variables of `env` OCP does not read that look like ones it does, each with
    the setting it likely meant (its default is in use); None when there is none."""
    misspelt = misspelt_settings(env)
    if not misspelt:
        return None
    said = "; ".join(f"{name} (did you mean {meant}?)" for name, meant in misspelt.items())
    return (
        f"not a setting OCP reads, so ignored: {said}. Rename it where it is set (your shell, "
        "the IDE's MCP config)"
    )


def paid_key_missing(rs: RouterSettings) -> str | None:
    """Why no paid model is called although one was asked for (its backend, model or top
    model set, the key it needs not): it was said "not configured", ok, as if none were."""
    fields = RouterSettings.model_fields
    named = [fields[f].alias or f for f in _PAID_FIELDS if f in rs.model_fields_set]
    if not named or rs.paid_configured or rs.paid_backend == "none":
        return None
    set_ = " and ".join(named)
    if rs.paid_backend == "anthropic":
        key_var, how = "ANTHROPIC_API_KEY", " (`ocp-server init --client … --paid` passes it)"
    else:
        key_var, how = "OPENAI_API_KEY", " (in the IDE's MCP config too: its `env`)"
    return (
        f"{set_} set, but {key_var} is not: no paid model is called, and complex requests "
        f"come back to your agent as an enriched prompt. Set {key_var}{how}, or unset {set_}"
    )
