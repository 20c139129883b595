"""`--only CAPABILITY`: the URNs of one capability's components and everything below them,
so the engine touches nothing else. Which capability owns a resource is read off its URN
(`dsenv.capabilities.component_area`); resources outside every component (the providers)
belong to none."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from dsenv.capabilities import check_name, component_area
from dsenv.errors import UsageError


class Node(Protocol):
    @property
    def urn(self) -> str: ...


def capability_urns(resources: Iterable[Node], capability: str) -> list[str]:
    check_name(capability)
    urns = [n.urn for n in resources]
    chosen = sorted(u for u in urns if component_area(u) == capability)
    if not chosen:
        present = sorted({a for u in urns if (a := component_area(u))})
        raise UsageError(
            f"no {capability!r} capability in this stack",
            hint=f"capabilities present: {', '.join(present) or 'none (deploy the stack first)'}",
        )
    return chosen
