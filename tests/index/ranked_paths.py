"""The files a search ranks, each named once, best first."""

from __future__ import annotations

from ocp_server.index.workspace import WorkspaceIndex


async def ranked_paths(index: WorkspaceIndex, query: str, k: int = 5) -> list[str]:
    response = await index.search(query, k=k, refresh=False)
    return list(dict.fromkeys(r.path for r in response.results))
