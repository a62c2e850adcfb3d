"""Which paid model signed each thinking block the proxy relayed, so that a block goes back
to that model and to no other.

Answers name the model the client asked for (served_model.py), so a client cannot tell which
model signed a block. Claude Code drops the signed blocks of answers whose model is not the
one it asks for now: it did so for the tier's model while answers named it, and keeps them all
since. Whether the API takes one model's signature on a request to another is not documented
(the reference says nothing); the proxy takes such blocks out, as Claude Code did, and leaves
every other block as the client sent it (a model's own blocks, and blocks it never relayed:
another process's, or relayed before a restart).

A block is known by a hash of its `signature` (a `thinking` block's) or `data` (a
`redacted_thinking` block's): the last KEPT of them, in memory. A streamed signature is read
from its `signature_delta` event, assumed whole there (the API sends one per block); a block
whose signature came in pieces is not known, and is left as it came.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from ocp_server.proxy import anthropic

__all__ = ["KEPT", "SignedThinking"]

KEPT = 8192  # blocks remembered: a long agent session's worth, 16 bytes and a model name each


def _key(block: dict[str, Any]) -> bytes | None:
    kind = block.get("type")
    secret = block.get("signature") if kind == "thinking" else None
    if kind == "redacted_thinking":
        secret = block.get("data")
    if not isinstance(secret, str) or not secret:
        return None
    return hashlib.blake2b(secret.encode(), digest_size=16).digest()


class SignedThinking:
    """The models that signed the thinking blocks relayed lately."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._signers: OrderedDict[bytes, str] = OrderedDict()

    def _note(self, block: Any, model: str) -> None:
        if isinstance(block, dict) and (key := _key(block)) is not None:
            self._signers[key] = model
            self._signers.move_to_end(key)
            while len(self._signers) > self.kept:
                self._signers.popitem(last=False)

    def signer(self, block: dict[str, Any]) -> str | None:
        """The model that signed `block`, if the proxy relayed it."""
        key = _key(block)
        return self._signers.get(key) if key is not None else None

    def note_message(self, message: Any, model: str) -> None:
        """The blocks of a whole answer `model` wrote."""
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            self._note(block, model)

    def note_events(self, lines: bytes, model: str) -> None:
        """The blocks of a streamed answer's whole `lines` that `model` wrote."""
        if b'"signature_delta"' not in lines and b'"redacted_thinking"' not in lines:
            return
        for line in lines.splitlines():
            if not line.startswith(b"data:"):
                continue
            try:
                event = json.loads(line[5:])
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            delta = event.get("delta")
            if isinstance(delta, dict) and delta.get("type") == "signature_delta":
                self._note({"type": "thinking", "signature": delta.get("signature")}, model)
            elif event.get("type") == "content_block_start":
                self._note(event.get("content_block"), model)

    def drop_others(self, body: dict[str, Any], model: str) -> int:
        """Take the blocks another model than `model` signed out of `body`; how many."""
        if not self._signers:
            return 0

        def unwanted(block: dict[str, Any]) -> bool:
            signer = self.signer(block)
            return signer is not None and signer != model

        return anthropic.drop_thinking(body, unwanted)
