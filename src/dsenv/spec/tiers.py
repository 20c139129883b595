"""Compute tiers: one node pool per tier (an EKS managed node group on target aws, a
scheduling target everywhere), and what one workspace on it gets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dsenv.profile.types import parse_bytes, parse_millicpu

if TYPE_CHECKING:
    from dsenv.profile.model import Team
    from dsenv.spec.names import Names

GIB = 2**30
TIER_LABEL = "dsenv.io/tier"
TEAM_LABEL = "dsenv.io/team"


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


#: GPU tiers' nodes are tainted so that only pods asking for the tier land on them.
GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")


@dataclass(frozen=True)
class NodePoolSpec:
    """One compute tier: an EKS managed node group (aws) and a scheduling target (any)."""

    tier: str
    name: str  # node group name, e.g. "acme-fraud-small"
    instance_types: tuple[str, ...]
    capacity_type: Literal["ON_DEMAND", "SPOT"]
    min_size: int
    max_size: int
    desired_size: int
    disk_gib: int
    cpu_millis: int  # what one workspace on this tier requests
    memory_bytes: int
    gpus: int
    labels: dict[str, str]  # node labels; always includes dsenv.io/tier
    taints: tuple[Taint, ...]  # GPU tiers get nvidia.com/gpu=present:NoSchedule

    @property
    def node_selector(self) -> dict[str, str]:
        return {TIER_LABEL: self.tier}

    @property
    def tolerations(self) -> list[dict[str, str]]:
        return [
            {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect}
            for t in self.taints
        ]


def expand(team: Team, names: Names) -> tuple[NodePoolSpec, ...]:
    return tuple(
        NodePoolSpec(
            tier=name,
            name=names.node_groups[name],
            instance_types=tuple(tier.instance_types),
            capacity_type="SPOT" if tier.spot else "ON_DEMAND",
            min_size=tier.min_nodes,
            max_size=tier.max_nodes,
            desired_size=tier.min_nodes,
            disk_gib=max(20, math.ceil(parse_bytes(tier.disk) / GIB)),
            cpu_millis=parse_millicpu(tier.cpu),
            memory_bytes=parse_bytes(tier.memory),
            gpus=tier.gpus,
            labels={TIER_LABEL: name, TEAM_LABEL: team.name},
            taints=(GPU_TAINT,) if tier.gpus else (),
        )
        for name, tier in team.tiers.items()
    )


def mebibytes(n: int) -> str:
    """A byte count as a Kubernetes quantity in Mi, rounded up."""
    return f"{math.ceil(n / 2**20)}Mi"
