"""The public token estimator: how many BPE tokens a text costs, offline and in microseconds
(the model and its measured error are described in `ocp_router._tokens`)."""

from ocp_router._tokens import CHARS_PER_TOKEN, estimate_tokens

__all__ = ["CHARS_PER_TOKEN", "estimate_tokens", "unread_tokens"]

# How far short of OCP's estimate a model's count of the prompt it read may fall before the
# prompt is taken as cut: the model's tokenizer and chat template alone count differently,
# but not by half, nor by this many tokens on a short prompt.
_CUT_RATIO = 2
_CUT_MIN_TOKENS = 64


def unread_tokens(read: int, prompt: str) -> int | None:
    """OCP's estimate of `prompt` in tokens when a model that says it read `read` of them
    cannot have read it whole (the server cut it to fit its context), else None. `read` 0
    (not reported) is never a cut."""
    sent = estimate_tokens(prompt)
    if read and read * _CUT_RATIO < sent and sent - read >= _CUT_MIN_TOKENS:
        return sent
    return None
