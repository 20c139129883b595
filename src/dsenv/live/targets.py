"""`--only CAPABILITY`: the URNs of one capability's component subtree.

A capability is the area of a top-level `dsenv:<area>:<Name>` component (base, workspaces,
spark, kafka, runners, serving, ...); its targets are that component and every resource
below it, so the engine touches nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from dsenv.errors import UsageError


class Node(Protocol):
    @property
    def urn(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def parent(self) -> str | None: ...


def area(type_token: str) -> str | None:
    parts = type_token.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "dsenv" else None


def capability_urns(resources: Iterable[Node], capability: str) -> list[str]:
    nodes = list(resources)
    by_urn = {n.urn: n for n in nodes}

    def top_level(n: Node) -> bool:
        parent = by_urn.get(n.parent) if n.parent else None
        return parent is None or parent.type == "pulumi:pulumi:Stack"

    roots = {n.urn for n in nodes if area(n.type) and top_level(n)}
    known = sorted({area(by_urn[u].type) or "" for u in roots})
    chosen = {u for u in roots if area(by_urn[u].type) == capability}
    if not chosen:
        raise UsageError(
            f"no {capability!r} capability in this stack",
            hint=f"capabilities present: {', '.join(known) or 'none (deploy the stack first)'}",
        )
    children: dict[str, list[str]] = {}
    for n in nodes:
        if n.parent:
            children.setdefault(n.parent, []).append(n.urn)
    out: list[str] = []
    todo = sorted(chosen)
    while todo:
        urn = todo.pop()
        out.append(urn)
        todo.extend(children.get(urn, []))
    return sorted(out)
