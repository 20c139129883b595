"""StrimziKafka: the Strimzi operator watching the team namespace, and a KRaft Kafka
(`kafka.strimzi.io/v1`) with one dual-role node pool, the profile's topics and users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource

from dsenv.capabilities import component_type
from dsenv.spec.base import restricted_labels
from dsenv.spec.kafka import STRIMZI_TLS_PORT, KafkaSpec, KafkaUserSpec
from dsenv.spec.tiers import mebibytes
from dsenv.stacks.components.kube import helm_release, manifest_resource
from dsenv.stacks.components.namespace import namespace_manifest
from dsenv.stacks.components.podsecurity import restricted_container_context, restricted_pod_context

API_VERSION = "kafka.strimzi.io/v1"
STRIMZI_UID = 1001  # the uid of every Strimzi image
TLS_PORT = STRIMZI_TLS_PORT
NODE_POOL = "dual-role"


def _pod() -> dict[str, Any]:
    return {
        "securityContext": restricted_pod_context(run_as_user=STRIMZI_UID, fs_group=STRIMZI_UID)
    }


def _container() -> dict[str, Any]:
    return {"securityContext": restricted_container_context(run_as_user=STRIMZI_UID)}


def operator_values(kafka: KafkaSpec) -> dict[str, Any]:
    return {
        "watchNamespaces": [kafka.namespace],
        "watchAnyNamespace": False,
        # Strimzi's own switch: every operand it creates (including ones dsenv does not
        # template) gets a `restricted` security context
        "extraEnvs": [{"name": "STRIMZI_POD_SECURITY_PROVIDER_CLASS", "value": "restricted"}],
        "podSecurityContext": restricted_pod_context(run_as_user=STRIMZI_UID),
        "securityContext": restricted_container_context(
            run_as_user=STRIMZI_UID, read_only_root=True
        ),
    }


def _meta(
    kafka: KafkaSpec, name: str, *, cluster_label: bool = True, **extra: Any
) -> dict[str, Any]:
    labels = dict(kafka.labels)
    if cluster_label:
        labels["strimzi.io/cluster"] = kafka.cluster_name
    return {"name": name, "namespace": kafka.namespace, "labels": labels, **extra}


def kafka_resource(kafka: KafkaSpec) -> dict[str, Any]:
    replication = min(3, kafka.brokers)
    return {
        "apiVersion": API_VERSION,
        "kind": "Kafka",
        "metadata": _meta(
            kafka,
            kafka.cluster_name,
            cluster_label=False,
            annotations={"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"},
        ),
        "spec": {
            "kafka": {
                "version": kafka.kafka_version,
                "metadataVersion": kafka.metadata_version,
                "listeners": [
                    {
                        "name": "tls",
                        "port": TLS_PORT,
                        "type": "internal",
                        "tls": True,
                        "authentication": {"type": "scram-sha-512"},
                    }
                ],
                "authorization": {"type": "simple"},
                # brokers know their zone (Strimzi's init container reads the node label),
                # and replicas of a partition go to different zones
                **(
                    {"rack": {"topologyKey": kafka.rack_topology_key}}
                    if kafka.rack_topology_key
                    else {}
                ),
                "config": {
                    "min.insync.replicas": kafka.min_insync_replicas,
                    "default.replication.factor": replication,
                    "offsets.topic.replication.factor": replication,
                    "transaction.state.log.replication.factor": replication,
                    "transaction.state.log.min.isr": kafka.min_insync_replicas,
                    "auto.create.topics.enable": False,
                    # with rack awareness, consumers read from a replica in their own zone
                    **(
                        {
                            "replica.selector.class": "org.apache.kafka.common.replica.RackAwareReplicaSelector"
                        }
                        if kafka.rack_topology_key
                        else {}
                    ),
                },
                "template": {
                    "pod": _pod(),
                    "kafkaContainer": _container(),
                    "initContainer": _container(),
                },
            },
            "entityOperator": {
                "topicOperator": {},
                "userOperator": {},
                "template": {
                    "pod": _pod(),
                    "topicOperatorContainer": _container(),
                    "userOperatorContainer": _container(),
                },
            },
        },
    }


def broker_requests(kafka: KafkaSpec) -> dict[str, str]:
    """One broker's requests and limits: its tier's cpu and memory."""
    assert kafka.pool is not None
    return {"cpu": f"{kafka.pool.cpu_millis}m", "memory": mebibytes(kafka.pool.memory_bytes)}


def broker_pod(kafka: KafkaSpec) -> dict[str, Any]:
    """The brokers' pod template: on their tier's nodes (Strimzi's pod template has no
    nodeSelector: a required node affinity on the same labels), with its tolerations, and on
    aws spread over the zones."""
    pod = _pod()
    pool = kafka.pool
    assert pool is not None
    if pool.node_selector:
        pod["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": k, "operator": "In", "values": [v]}
                                for k, v in sorted(pool.node_selector.items())
                            ]
                        }
                    ]
                }
            }
        }
    if pool.tolerations:
        pod["tolerations"] = pool.toleration_manifests()
    if kafka.rack_topology_key:
        pod["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": kafka.rack_topology_key,
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {
                    "matchLabels": {
                        "strimzi.io/cluster": kafka.cluster_name,
                        "strimzi.io/pool-name": NODE_POOL,
                    }
                },
            }
        ]
    return pod


def node_pool_resource(kafka: KafkaSpec) -> dict[str, Any]:
    heap = f"{kafka.broker_heap_mib}m"
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaNodePool",
        "metadata": _meta(kafka, NODE_POOL),
        "spec": {
            "replicas": kafka.brokers,
            "roles": ["controller", "broker"],
            "storage": {
                "type": "jbod",
                "volumes": [
                    {
                        "id": 0,
                        "type": "persistent-claim",
                        "size": kafka.storage,
                        "deleteClaim": False,
                        "kraftMetadata": "shared",
                        **({"class": kafka.storage_class} if kafka.storage_class else {}),
                    }
                ],
            },
            "resources": {"requests": broker_requests(kafka), "limits": broker_requests(kafka)},
            "jvmOptions": {"-Xms": heap, "-Xmx": heap},
            "template": {
                "pod": broker_pod(kafka),
                "kafkaContainer": _container(),
                "initContainer": _container(),
            },
        },
    }


def topic_resources(kafka: KafkaSpec) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": API_VERSION,
            "kind": "KafkaTopic",
            "metadata": _meta(kafka, t.resource_name),
            "spec": {
                "topicName": t.name,
                "partitions": t.partitions,
                "replicas": t.replicas,
                "config": {
                    "retention.ms": t.retention_ms,
                    "min.insync.replicas": min(t.replicas, kafka.min_insync_replicas),
                },
            },
        }
        for t in kafka.topics
    ]


def user_acls(user: KafkaUserSpec) -> list[dict[str, Any]]:
    """Produce and consume on the user's topics (all topics when it names none), and
    consumer groups named after the user."""
    topics = user.topics or ("*",)
    acls: list[dict[str, Any]] = [
        {
            "resource": {"type": "topic", "name": topic, "patternType": "literal"},
            "operations": ["Describe", "Read", "Write"],
        }
        for topic in topics
    ]
    acls.append(
        {
            "resource": {"type": "group", "name": f"{user.name}-", "patternType": "prefix"},
            "operations": ["Read"],
        }
    )
    return acls


def user_resources(kafka: KafkaSpec) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": API_VERSION,
            "kind": "KafkaUser",
            "metadata": _meta(kafka, u.name),
            "spec": {
                "authentication": {"type": "scram-sha-512"},
                "authorization": {"type": "simple", "acls": user_acls(u)},
            },
        }
        for u in kafka.users
    ]


def bootstrap_address(kafka: KafkaSpec) -> str:
    return kafka.bootstrap


def _custom(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> CustomResource:
    return CustomResource(
        name,
        api_version=obj["apiVersion"],
        kind=obj["kind"],
        metadata=obj["metadata"],
        spec=obj["spec"],
        opts=opts,
    )


@dataclass
class StrimziKafkaArgs:
    kafka: KafkaSpec


class StrimziKafka(pulumi.ComponentResource):
    """The operator, the cluster and its node pool (both protected: they hold the data)."""

    bootstrap_servers: pulumi.Output[str]
    cluster_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: StrimziKafkaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("kafka", "StrimziKafka"), name, None, opts)
        kafka = args.kafka
        assert kafka.engine == "strimzi", "StrimziKafka is for engine strimzi"
        operator: list[pulumi.Resource] = []
        if kafka.install_operator:
            # shared operators: the cluster's Strimzi (and its CRDs) exist before this stack
            assert kafka.chart is not None
            operator_ns = manifest_resource(
                f"{name}-operator-namespace",
                namespace_manifest(kafka.operator_namespace, restricted_labels(kafka.labels)),
                pulumi.ResourceOptions(parent=self),
            )
            operator.append(
                helm_release(
                    name,
                    kafka.chart,
                    namespace=kafka.operator_namespace,
                    values=operator_values(kafka),
                    release_name=kafka.release,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[operator_ns]),
                )
            )
        # the CRDs come with the operator chart
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=operator)
        stateful = pulumi.ResourceOptions(parent=self, depends_on=operator, protect=True)
        _custom(f"{name}-node-pool", node_pool_resource(kafka), stateful)
        cluster = _custom(f"{name}-cluster", kafka_resource(kafka), stateful)
        for topic in topic_resources(kafka):
            _custom(f"{name}-topic-{topic['metadata']['name']}", topic, after_crds)
        for user in user_resources(kafka):
            _custom(f"{name}-user-{user['metadata']['name']}", user, after_crds)
        self.cluster_name = cluster.urn.apply(lambda _: kafka.cluster_name)
        self.bootstrap_servers = self.cluster_name.apply(lambda _: bootstrap_address(kafka))
        self.register_outputs(
            {"bootstrap_servers": self.bootstrap_servers, "cluster_name": self.cluster_name}
        )
