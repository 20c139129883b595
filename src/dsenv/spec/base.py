"""The team namespace: Pod Security `restricted`, a quota that admits every tier at its
largest, container limits, and which network paths its policies open."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dsenv.spec.objectstore import ObjectStoreSpec
from dsenv.spec.tiers import GIB, NodePoolSpec, mebibytes

if TYPE_CHECKING:
    from dsenv.profile.model import Team
    from dsenv.spec.context import ExpandContext

#: The labels that make the API server enforce Pod Security `restricted` in a namespace.
POD_SECURITY_RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}


def restricted_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Object labels plus Pod Security `restricted` enforcement: every namespace dsenv makes."""
    return {**labels, **POD_SECURITY_RESTRICTED}


@dataclass(frozen=True)
class NamespaceSpec:
    name: str
    labels: dict[str, str]  # the namespace's own: object labels + Pod Security restricted
    object_labels: dict[str, str]  # on every object inside it
    quota: dict[str, str]  # ResourceQuota hard limits, Kubernetes quantities
    default_request: dict[str, str]  # LimitRange defaults for containers
    default_limit: dict[str, str]
    max_limit: dict[str, str]
    operator_namespaces: tuple[str, ...] = ()  # operators that reach into the namespace
    hub_ingress: bool = False  # workspaces: the hub proxy's public port is open
    msk_egress_cidr: str | None = None  # Kafka on MSK: the VPC range its brokers are in
    object_store: ObjectStoreSpec | None = None  # target kubernetes: egress to the S3 store
    #: on the namespace: `TIERS_ANNOTATION`, each tier's size and placement as JSON, so checks
    #: of the deployed objects know what one pod of a tier may request, and where it runs
    annotations: dict[str, str] = field(default_factory=dict)


#: The team namespace's annotation holding its tiers: {tier: {cpu, memory, gpus, nodeSelector}}.
TIERS_ANNOTATION = "dsenv.io/compute-tiers"


def tiers_annotation(pools: list[NodePoolSpec]) -> str:
    return json.dumps(
        {
            p.tier: {
                "cpu": f"{p.cpu_millis}m",
                "memory": mebibytes(p.memory_bytes),
                "gpus": p.gpus,
                "nodeSelector": dict(p.node_selector),
            }
            for p in pools
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def expand(team: Team, ctx: ExpandContext) -> NamespaceSpec:
    pools = list(ctx.pools.values())
    # The quota admits every tier at full size, max_pods of it: on aws the hard cap the node
    # groups can reach, on a shared cluster the team's declared share.
    cpu = sum(p.cpu_millis * p.max_pods for p in pools)
    mem = sum(p.memory_bytes * p.max_pods for p in pools)
    gpus: dict[str, int] = {}
    for p in pools:
        if p.gpus:
            gpus[p.gpu_resource] = gpus.get(p.gpu_resource, 0) + p.gpus * p.max_pods
    smallest = min(pools, key=lambda p: (p.cpu_millis, p.memory_bytes))
    largest = max(pools, key=lambda p: (p.cpu_millis, p.memory_bytes))
    quota = {
        "requests.cpu": f"{cpu}m",
        "limits.cpu": f"{cpu}m",
        "requests.memory": mebibytes(mem),
        "limits.memory": mebibytes(mem),
        "persistentvolumeclaims": "200",
    }
    for resource, count in sorted(gpus.items()):
        quota[f"requests.{resource}"] = str(count)
    operators = ctx.names.operator_namespaces
    reaching_in = []
    if team.spark is not None and team.spark.engine == "operator":
        reaching_in.append(operators["spark"])
    if team.kafka is not None and team.kafka.engine == "strimzi":
        reaching_in.append(operators["strimzi"])
    if team.serving is not None:
        reaching_in.append(operators["kserve"])
    msk = team.kafka is not None and team.kafka.engine != "strimzi"
    return NamespaceSpec(
        name=ctx.names.namespace,
        labels=restricted_labels(ctx.labels),
        object_labels=ctx.labels,
        quota=quota,
        default_request={"cpu": "100m", "memory": "256Mi"},
        default_limit={
            "cpu": f"{min(smallest.cpu_millis, 1000)}m",
            "memory": mebibytes(min(smallest.memory_bytes, 2 * GIB)),
        },
        max_limit={"cpu": f"{largest.cpu_millis}m", "memory": mebibytes(largest.memory_bytes)},
        operator_namespaces=tuple(reaching_in),
        hub_ingress=team.workspaces is not None,
        msk_egress_cidr=team.target.vpc_cidr if msk and team.target.provider == "aws" else None,
        object_store=ctx.object_store,
        annotations={TIERS_ANNOTATION: tiers_annotation(pools)},
    )
