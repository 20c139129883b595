"""TeamNamespace: the team's namespace, its quota and limits, and its network policy.

Network policy, decided once for every capability:
- `default-deny`: no ingress and no egress for any pod unless another policy allows it;
- `allow-dns`: egress to the cluster DNS in kube-system (UDP/TCP 53);
- `allow-same-namespace`: any pod to any pod of the team namespace, both ways. This carries
  hub <-> proxy <-> user servers, Spark driver <-> executors (ephemeral block-manager ports)
  and Kafka clients -> brokers (9093) and broker <-> controller (9090/9091) traffic;
- `allow-from-operators`: ingress from the operator namespaces dsenv installs (the Strimzi
  operator reaches the brokers' control port 9091; the Spark operator and KServe controller
  reach the pods they manage);
- `allow-hub-proxy-ingress` (workspaces only): the public proxy port 8000 from anywhere, the
  one way in for users;
- `allow-https-egress`: HTTPS (443) to any address except the cloud metadata endpoint, so
  workspaces can install packages and every workload can reach object storage, the cloud
  APIs (IRSA's STS exchange) and the Kubernetes API on managed clusters; plus 6443 to
  private ranges for self-managed API servers. Plain HTTP and other ports stay closed;
- `allow-object-storage-egress` (target kubernetes, `target.object_storage` on a port other
  than 443 or inside the cluster): the store's port, to its namespace when it is a Service of
  the cluster (`<svc>.<ns>.svc`), else to any address but the metadata endpoint.

The CI runners' namespace gets the baseline only (deny, DNS, HTTPS egress): runners talk to
GitHub and nothing inside the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from dsenv.capabilities import component_type
from dsenv.spec.base import NamespaceSpec
from dsenv.spec.objectstore import ObjectStoreSpec
from dsenv.stacks.components.kube import manifest_resource

METADATA_IP = "169.254.169.254/32"
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
HUB_PROXY_PORT = 8000


MSK_IAM_PORT = 9098


def namespace_manifest(
    name: str, labels: Mapping[str, str], annotations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def quota_manifest(ns: NamespaceSpec, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "team-quota", "namespace": ns.name, "labels": dict(labels)},
        "spec": {"hard": dict(ns.quota)},
    }


def limit_range_manifest(ns: NamespaceSpec, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "team-limits", "namespace": ns.name, "labels": dict(labels)},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": dict(ns.default_limit),
                    "defaultRequest": dict(ns.default_request),
                    "max": dict(ns.max_limit),
                }
            ]
        },
    }


def _policy(
    name: str, namespace: str, labels: Mapping[str, str], spec: dict[str, Any]
) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": spec,
    }


def _namespaces(names: Sequence[str]) -> dict[str, Any]:
    return {
        "namespaceSelector": {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(names)}
            ]
        }
    }


def baseline_policies(namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Default deny, DNS, and HTTPS egress: every namespace dsenv runs team workloads in."""
    all_pods: dict[str, Any] = {}
    return [
        _policy(
            "default-deny",
            namespace,
            labels,
            {"podSelector": all_pods, "policyTypes": ["Ingress", "Egress"]},
        ),
        _policy(
            "allow-dns",
            namespace,
            labels,
            {
                "podSelector": all_pods,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [_namespaces(["kube-system"])],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
        _policy(
            "allow-https-egress",
            namespace,
            labels,
            {
                "podSelector": all_pods,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [METADATA_IP]}}],
                        "ports": [{"protocol": "TCP", "port": 443}],
                    },
                    {
                        "to": [{"ipBlock": {"cidr": c}} for c in PRIVATE_RANGES],
                        "ports": [{"protocol": "TCP", "port": 6443}],
                    },
                ],
            },
        ),
    ]


def object_store_policies(
    namespace: str, labels: Mapping[str, str], store: ObjectStoreSpec | None
) -> list[dict[str, Any]]:
    """Egress to the team's S3-compatible store when the HTTPS rule does not cover it: a
    store on another port (MinIO's 9000), or one served inside the cluster, reached through
    its namespace (a CIDR does not select pods on every network plugin)."""
    if store is None or not store.needs_egress_policy:
        return []
    peer: dict[str, Any]
    if store.service_namespace is not None:
        peer = _namespaces([store.service_namespace])
    else:
        peer = {"ipBlock": {"cidr": "0.0.0.0/0", "except": [METADATA_IP]}}
    return [
        _policy(
            "allow-object-storage-egress",
            namespace,
            labels,
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{"to": [peer], "ports": [{"protocol": "TCP", "port": store.port}]}],
            },
        )
    ]


def network_policy_manifests(spec: NamespaceSpec) -> list[dict[str, Any]]:
    ns, labels = spec.name, spec.object_labels
    all_pods: dict[str, Any] = {}
    policies = [
        *baseline_policies(ns, labels),
        _policy(
            "allow-same-namespace",
            ns,
            labels,
            {
                "podSelector": all_pods,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": all_pods}]}],
                "egress": [{"to": [{"podSelector": all_pods}]}],
            },
        ),
    ]
    operators = spec.operator_namespaces
    if operators:
        policies.append(
            _policy(
                "allow-from-operators",
                ns,
                labels,
                {
                    "podSelector": all_pods,
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [_namespaces(operators)]}],
                },
            )
        )
    if spec.hub_ingress:
        policies.append(
            _policy(
                "allow-hub-proxy-ingress",
                ns,
                labels,
                {
                    "podSelector": {"matchLabels": {"app": "jupyterhub", "component": "proxy"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"ports": [{"protocol": "TCP", "port": HUB_PROXY_PORT}]}],
                },
            )
        )
    policies += object_store_policies(ns, labels, spec.object_store)
    if spec.msk_egress_cidr:
        # Amazon MSK with IAM auth listens on 9098 inside the VPC, outside the cluster.
        policies.append(
            _policy(
                "allow-msk-egress",
                ns,
                labels,
                {
                    "podSelector": all_pods,
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [{"ipBlock": {"cidr": spec.msk_egress_cidr}}],
                            "ports": [{"protocol": "TCP", "port": MSK_IAM_PORT}],
                        }
                    ],
                },
            )
        )
    return policies


def team_namespace_manifests(spec: NamespaceSpec) -> list[dict[str, Any]]:
    """Every object TeamNamespace creates, as plain manifests (namespace first)."""
    return [
        namespace_manifest(spec.name, spec.labels, spec.annotations),
        quota_manifest(spec, spec.object_labels),
        limit_range_manifest(spec, spec.object_labels),
        *network_policy_manifests(spec),
    ]


@dataclass
class TeamNamespaceArgs:
    namespace: NamespaceSpec


class TeamNamespace(pulumi.ComponentResource):
    """The team namespace (Pod Security `restricted`), quota, limits and network policy."""

    name: pulumi.Output[str]
    namespace: pulumi.CustomResource

    def __init__(
        self, name: str, args: TeamNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("base", "TeamNamespace"), name, None, opts)
        manifests = team_namespace_manifests(args.namespace)
        child = pulumi.ResourceOptions(parent=self)
        ns_resource = manifest_resource(f"{name}-namespace", manifests[0], child)
        self.namespace = ns_resource
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns_resource])
        for manifest in manifests[1:]:
            manifest_resource(f"{name}-{manifest['metadata']['name']}", manifest, in_ns)
        ns_name = args.namespace.name
        self.name = ns_resource.id.apply(lambda _: ns_name)  # known name, ordered after creation
        self.register_outputs({"name": self.name})
