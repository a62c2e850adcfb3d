"""The public token estimator: how many BPE tokens a text costs, offline and in microseconds
(the model and its measured error are described in `ocp_router._tokens`)."""

from ocp_router._tokens import estimate_tokens

__all__ = ["estimate_tokens"]
