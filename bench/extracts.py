"""bench_memory.py's `extract` edit (`--extracts`): a function split in two, a stretch of its
body moved to a new function its own calls."""

from __future__ import annotations

import ast
import random
import textwrap
from collections import Counter

__all__ = ["split_function"]


def split_function(
    rnd: random.Random, lines: list[str], name: str, head: int, end: int, number: int
) -> bool:
    """2 to 5 lines of the body of the definition at `head`..`end` (0-based, end exclusive) go,
    dedented, to a new function `_<name>_part<number>` at the end of the file, and a call to
    it takes their place; False when none is taken. A split no one makes is not taken: of a
    class's body, or one after which the file does not parse or defines other names than
    before and the new one (a string cut in two swallows definitions)."""
    if not lines[head].lstrip().startswith(("def ", "async def ")):
        return False
    before = _defined("\n".join(lines))
    for _ in range(20):
        n = rnd.randrange(head + 1, end)
        m = min(end, n + rnd.randint(2, 5))
        stretch = textwrap.dedent("\n".join(lines[n:m])).splitlines()
        indent = lines[n][: len(lines[n]) - len(lines[n].lstrip())] or "    "
        helper = f"_{name}_part{number}"
        split = [*lines[:n], f"{indent}{helper}()", *lines[m:], "", ""]
        split += [f"def {helper}():", *(f"    {ln}" if ln else ln for ln in stretch)]
        if before is not None and _defined("\n".join(split)) == before + Counter([helper]):
            lines[:] = split
            return True
    return False


def _defined(text: str) -> Counter[str] | None:
    """The names a module's functions and classes bear, None when it does not parse."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return Counter(node.name for node in ast.walk(tree) if isinstance(node, kinds))
