"""EnvironmentSpec: the fully resolved, pure-data description of one team's environment.

Expansion (`dsenv.spec.expand`) builds it from a validated profile; the Pulumi program in
`dsenv.stacks` consumes it. Nothing here imports Pulumi. Every value a component needs is
already decided (names, labels, sizes, versions), so components only translate. Each
capability's part is declared beside its expander (`dsenv.spec.<capability>`); this module
composes them and re-exports every spec type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dsenv.spec.aws import (
    AwsSpec,
    BucketSpec,
    ClusterSpec,
    IdentitySpec,
    NetworkSpec,
    RegistrySpec,
    WorkloadRole,
)
from dsenv.spec.base import NamespaceSpec
from dsenv.spec.image import ImageSpec, LanguageSpec
from dsenv.spec.kafka import KafkaSpec, KafkaUserSpec, TopicSpec
from dsenv.spec.objectstore import ObjectStoreSpec
from dsenv.spec.pipelines import PipelinesSpec
from dsenv.spec.runners import RunnersSpec, ScaleSetSpec
from dsenv.spec.serving import ModelSpec, ServingSpec
from dsenv.spec.spark import SparkSpec
from dsenv.spec.tiers import NodePoolSpec, Taint
from dsenv.spec.workspaces import HubAuthSpec, HubProfile, WorkspacesSpec

__all__ = [
    "AwsSpec",
    "BucketSpec",
    "ClusterSpec",
    "EnvironmentSpec",
    "HubAuthSpec",
    "HubProfile",
    "IdentitySpec",
    "ImageSpec",
    "KafkaSpec",
    "KafkaUserSpec",
    "LanguageSpec",
    "ModelSpec",
    "NamespaceSpec",
    "NetworkSpec",
    "NodePoolSpec",
    "ObjectStoreSpec",
    "PipelinesSpec",
    "Provider",
    "RegistrySpec",
    "RunnersSpec",
    "ScaleSetSpec",
    "ServingSpec",
    "SparkSpec",
    "Taint",
    "TopicSpec",
    "WorkloadRole",
    "WorkspacesSpec",
]

Provider = Literal["aws", "kubernetes"]


@dataclass(frozen=True)
class EnvironmentSpec:
    team: str
    org: str | None
    provider: Provider
    kube_context: str | None  # provider kubernetes: the kubeconfig context
    kubernetes_version: str
    stack_name: str  # the Pulumi stack, e.g. "acme-fraud"
    namespace: NamespaceSpec
    labels: dict[str, str]  # on every Kubernetes object
    tags: dict[str, str]  # on every AWS resource: org tags + team tags + dsenv tags
    node_pools: tuple[NodePoolSpec, ...]
    image: ImageSpec
    aws: AwsSpec | None = None
    workspaces: WorkspacesSpec | None = None
    spark: SparkSpec | None = None
    kafka: KafkaSpec | None = None
    runners: RunnersSpec | None = None
    serving: ServingSpec | None = None
    pipelines: PipelinesSpec | None = None
    object_store: ObjectStoreSpec | None = None  # target kubernetes: the referenced S3 store
    budget_monthly_usd: float | None = None
    org_max_monthly_usd: float | None = None
    owners: tuple[str, ...] = field(default_factory=tuple)
    dsenv_version: str = "0.0.0"

    def pool(self, tier: str) -> NodePoolSpec:
        return next(p for p in self.node_pools if p.tier == tier)
