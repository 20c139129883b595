"""Kafka: Strimzi and a KRaft cluster in the team namespace (any target) or Amazon MSK
(target aws), with the profile's topics and users."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dsenv.profile.types import parse_bytes, parse_seconds
from dsenv.spec import versions
from dsenv.spec.tiers import GIB, NodePoolSpec
from dsenv.spec.versions import Chart

if TYPE_CHECKING:
    from dsenv.profile.model import Team
    from dsenv.spec.context import ExpandContext


#: Strimzi's internal TLS listener (SCRAM-SHA-512) that every client in the cluster uses.
STRIMZI_TLS_PORT = 9093


@dataclass(frozen=True)
class TopicSpec:
    name: str  # Kafka topic name
    resource_name: str  # KafkaTopic metadata.name
    partitions: int
    replicas: int
    retention_ms: int


@dataclass(frozen=True)
class KafkaUserSpec:
    name: str
    topics: tuple[str, ...]  # empty: all topics


@dataclass(frozen=True)
class KafkaSpec:
    engine: Literal["strimzi", "msk", "msk-serverless"]
    chart: Chart | None  # Strimzi operator chart
    release: str
    operator_namespace: str
    namespace: str
    labels: dict[str, str]
    cluster_name: str  # the Strimzi Kafka (in the namespace) or the MSK cluster (account-wide)
    brokers: int
    storage: str
    storage_gib: int
    kafka_version: str
    metadata_version: str
    instance_type: str  # msk
    topics: tuple[TopicSpec, ...]
    users: tuple[KafkaUserSpec, ...]
    min_insync_replicas: int
    log_group: str = ""  # msk: broker logs
    install_operator: bool = True  # False: the cluster's platform team runs a shared Strimzi
    storage_class: str | None = None  # broker volumes; None: the cluster's default class
    pool: NodePoolSpec | None = None  # strimzi: the brokers' tier (placement and size)
    #: strimzi on aws: brokers spread over the zones by this node label (Strimzi `rack`)
    rack_topology_key: str | None = None
    workspace_user: str | None = None  # strimzi: the KafkaUser every workspace connects as

    @property
    def bootstrap(self) -> str:
        """Strimzi's bootstrap Service `<cluster>-kafka-bootstrap` and the TLS listener."""
        return f"{self.cluster_name}-kafka-bootstrap.{self.namespace}.svc:{STRIMZI_TLS_PORT}"

    @property
    def ca_secret(self) -> str:
        """The cluster CA certificate's Secret, `<cluster>-cluster-ca-cert` (key `ca.crt`)."""
        return f"{self.cluster_name}-cluster-ca-cert"

    @property
    def broker_heap_mib(self) -> int:
        """Half the broker's memory for the JVM heap; the rest is the page cache Kafka
        reads from (Strimzi's and Kafka's sizing advice)."""
        assert self.pool is not None
        return self.pool.memory_bytes // 2**20 // 2


def expand(team: Team, ctx: ExpandContext) -> KafkaSpec | None:
    k = team.kafka
    if k is None:
        return None
    names = ctx.names
    default_replicas = min(3, k.brokers)
    strimzi = k.engine == "strimzi"
    return KafkaSpec(
        engine=k.engine,
        chart=versions.STRIMZI if strimzi else None,
        release=names.releases["strimzi"],
        operator_namespace=names.operator_namespaces["strimzi"],
        namespace=names.namespace,
        labels=ctx.labels,
        cluster_name=names.kafka_cluster,
        brokers=k.brokers,
        storage=k.storage,
        storage_gib=max(1, math.ceil(parse_bytes(k.storage) / GIB)),
        kafka_version=k.version,
        metadata_version=versions.KAFKA_METADATA_VERSION,
        instance_type=k.instance_type,
        topics=tuple(
            TopicSpec(
                name=t.name,
                resource_name=names.topics[t.name],
                partitions=t.partitions,
                replicas=t.replicas or default_replicas,
                retention_ms=parse_seconds(t.retention) * 1000,
            )
            for t in k.topics
        ),
        users=tuple(KafkaUserSpec(u.name, tuple(u.topics)) for u in k.users)
        + (
            # the workspaces' own user: every declared topic
            (KafkaUserSpec(names.kafka_workspace_user, tuple(t.name for t in k.topics)),)
            if strimzi and team.workspaces
            else ()
        ),
        min_insync_replicas=max(1, min(2, default_replicas - 1)),
        log_group=names.msk_log_group if not strimzi else "",
        install_operator=ctx.install_operators,
        storage_class=team.target.storage_classes.kafka,
        pool=broker_pool(team, ctx) if strimzi else None,
        rack_topology_key=ZONE_LABEL if strimzi and team.target.provider == "aws" else None,
        workspace_user=names.kafka_workspace_user if strimzi and team.workspaces else None,
    )


#: The well-known node label of a node's zone (set by the cloud provider on EKS nodes).
ZONE_LABEL = "topology.kubernetes.io/zone"


def broker_pool(team: Team, ctx: ExpandContext) -> NodePoolSpec:
    """`kafka.tier`, else the first tier without GPUs (else the first tier)."""
    k = team.kafka
    assert k is not None
    if k.tier is not None:
        return ctx.pools[k.tier]
    pools = list(ctx.pools.values())
    return next((p for p in pools if not p.gpus), pools[0])
