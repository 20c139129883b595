"""Compute tiers: one node pool per tier (an EKS managed node group on target aws, a
scheduling target everywhere), and what one workspace on it gets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dsenv.profile.types import parse_bytes, parse_millicpu

if TYPE_CHECKING:
    from dsenv.profile.model import Team, Tier
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
#: The extended resource a GPU is requested as (NVIDIA's device plugin advertises it).
NVIDIA_GPU = "nvidia.com/gpu"


@dataclass(frozen=True)
class Toleration:
    """A pod toleration, as Kubernetes writes it."""

    key: str | None = None
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.key is not None:
            out["key"] = self.key
        out["operator"] = self.operator
        if self.value is not None:
            out["value"] = self.value
        if self.effect is not None:
            out["effect"] = self.effect
        if self.toleration_seconds is not None:
            out["tolerationSeconds"] = self.toleration_seconds
        return out


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
    labels: dict[str, str]  # node labels (aws node groups); always includes dsenv.io/tier
    taints: tuple[Taint, ...]  # node taints (aws): GPU tiers get nvidia.com/gpu=present:NoSchedule
    # Where the tier's pods run, written verbatim into every pod template of the tier
    # (workspaces, Spark, runners, predictors):
    node_selector: dict[str, str]
    tolerations: tuple[Toleration, ...]
    gpu_resource: str = NVIDIA_GPU  # the extended resource one GPU is requested as
    # The most pods of the tier's size the team runs at once (it sizes the namespace quota):
    # aws, the node group's max_size (one workspace a node); kubernetes, the tier's max_pods.
    max_pods: int = 0

    def toleration_manifests(self) -> list[dict[str, Any]]:
        return [t.manifest() for t in self.tolerations]


def _tolerating(taints: tuple[Taint, ...]) -> tuple[Toleration, ...]:
    return tuple(Toleration(t.key, "Equal", t.value, t.effect) for t in taints)


def expand(team: Team, names: Names) -> tuple[NodePoolSpec, ...]:
    if team.target.provider == "kubernetes":
        return tuple(
            kubernetes_pool(name, tier, names.node_groups[name])
            for name, tier in team.tiers.items()
        )
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
            node_selector={TIER_LABEL: name},
            tolerations=_tolerating((GPU_TAINT,) if tier.gpus else ()),
            max_pods=tier.max_nodes,
        )
        for name, tier in team.tiers.items()
    )


def kubernetes_pool(name: str, tier: Tier, pool_name: str) -> NodePoolSpec:
    """A tier on an existing cluster: no node group, its pods placed by the cluster admin's
    labels and taints exactly as the profile writes them, GPUs requested as the resource the
    cluster's device plugin advertises."""
    return NodePoolSpec(
        tier=name,
        name=pool_name,
        instance_types=(),
        capacity_type="ON_DEMAND",
        min_size=0,
        max_size=0,
        desired_size=0,
        disk_gib=0,
        cpu_millis=parse_millicpu(tier.cpu),
        memory_bytes=parse_bytes(tier.memory),
        gpus=tier.gpus,
        labels={},
        taints=(),
        node_selector=dict(tier.node_selector),
        tolerations=tuple(
            Toleration(t.key, t.operator, t.value, t.effect, t.tolerationSeconds)
            for t in tier.tolerations
        ),
        gpu_resource=tier.gpu_resource,
        max_pods=tier.max_pods,
    )


def mebibytes(n: int) -> str:
    """A byte count as a Kubernetes quantity in Mi, rounded up."""
    return f"{math.ceil(n / 2**20)}Mi"
