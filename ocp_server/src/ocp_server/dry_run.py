"""What a dry run of `ocp_model_route` (`ocp-server route --dry-run`) says a real route would
do: the model it would go to now, not only the one decided.

Decided local with no local model listening, a dry run said "would go to llama3.2" and the
real route then handed the request back to the agent. The router says which models a route
would try now (`OCPRouter.planned_chain`), and `hands_back` is the one definition of when
a route no model of OCP's answers goes back to the calling agent, for real routes and dry
runs alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocp_router import OCPRouter
from ocp_router.results import Decision

__all__ = ["DryRun", "dry_run", "hands_back"]

_NOTE = "dry run: decided and built the prompt; no model called"
# Not "the prompt below": a client reading the structured content has `prompt` before `note`.
_ENRICHED = "the prompt this result carries (the request with workspace context added)"


def hands_back(router: OCPRouter, decision: Decision) -> bool:
    """Whether a route of `decision` that no model of OCP's answers goes back to the calling
    agent, which is then the paid tier: no paid backend is configured, and the route was not
    forced local (a forced local route that fails fails)."""
    return router.paid is None and (decision.tier.paid or not decision.forced)


@dataclass(frozen=True, slots=True)
class DryRun:
    note: str
    enriched: bool  # what a real route sends or hands back carries the workspace context
    model: str | None  # who a real route would go to, when not the decided model ("agent")
    # A real route hands the prompt back to the calling agent (its context kept to what the
    # client accepts of a result), rather than sending it to a paid model (the whole budget).
    handed: bool = False

    @property
    def sent_to(self) -> str | None:
        """The model a real route sends the prompt shown to, whole (None: handed back)."""
        if self.handed:
            return None
        return "the paid model" if self.enriched else "the local model"


async def dry_run(router: OCPRouter, decision: Decision) -> DryRun:
    """What a real route of `decision` would do now (its local model asked whether it is
    there, within the backends' check timeout), said in the dry run's note."""
    if decision.tier.paid and hands_back(router, decision):
        return DryRun(_NOTE, True, None, handed=True)  # no model asked: nor is one here
    chain, unreachable = await router.planned_chain(decision)
    if unreachable is None:
        if decision.tier.paid:
            return DryRun(_NOTE, True, None)
        return DryRun(
            f"{_NOTE}. The local model gets the request as shown, without workspace context; "
            "if it fails, the paid tier (the calling agent, with no paid backend) gets it with "
            "the workspace context, the prompt a dry run forced paid shows.",
            False,
            None,
        )
    if chain:
        tier, model = chain[0]
        then, to = f"send the {tier} model {model} {_ENRICHED}", model
    elif hands_back(router, decision):
        then, to = f"hand the calling agent {_ENRICHED}, for it to answer", "agent"
    else:
        then, to = "fail: no model could answer (it was forced local)", "none"
    assert router.local is not None  # asked, and not there
    fix = str(unreachable)  # the backend's own fix (ollama: install it, where it is not)
    note = (
        f"{_NOTE}. The local model {router.local.model} does not answer now, so a real route "
        f"would {then}. {fix[:1].upper()}{fix[1:].rstrip('.')}."
    )
    return DryRun(note, to != "none", to, handed=to == "agent")
