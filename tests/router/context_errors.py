"""A local server's refusal of a prompt longer than its context, as llama.cpp sends it."""

from __future__ import annotations

LLAMA_CPP_CONTEXT = {
    "error": {
        "code": 400,
        "message": "request (8889 tokens) exceeds the available context size (4096 tokens), "
        "try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 8889,
        "n_ctx": 4096,
    }
}
