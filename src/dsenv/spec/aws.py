"""Target aws: the VPC, the EKS cluster and its node groups, the buckets and the registry,
and one IAM role per in-cluster workload that calls AWS."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dsenv.spec.tiers import NodePoolSpec

if TYPE_CHECKING:
    from dsenv.profile.model import Team
    from dsenv.spec.context import ExpandContext

CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    cidr: str
    zones: int
    private_subnet_cidrs: tuple[str, ...]
    public_subnet_cidrs: tuple[str, ...]  # hold only the NAT gateways
    cluster_name: str  # the subnets' EKS discovery tag
    flow_log_group: str


#: EKS access policies (docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html)
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
NAMESPACE_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"


@dataclass(frozen=True)
class AccessEntrySpec:
    """An IAM principal's access to the cluster: an EKS access entry and one access policy,
    on the whole cluster (org admins) or on the team's namespaces (owners)."""

    principal_arn: str
    policy_arn: str
    namespaces: tuple[str, ...] = ()  # empty: cluster scope
    who: str = ""  # what the profile calls the principal (an owner's e-mail, "admin")


@dataclass(frozen=True)
class LoadBalancerControllerSpec:
    release: str
    role: str  # IAM role (IRSA) of its service account


@dataclass(frozen=True)
class ExternalDnsSpec:
    release: str
    role: str
    zone: str  # the public Route 53 hosted zone it may change, by name


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    region: str
    kubernetes_version: str
    endpoint_private: bool
    endpoint_public: bool
    public_access_cidrs: tuple[str, ...]
    log_types: tuple[str, ...]
    log_group: str  # where EKS writes the control plane logs
    kms_alias: str
    node_pools: tuple[NodePoolSpec, ...]
    labels: dict[str, str]
    ebs_csi_role: str
    autoscaler_role: str
    autoscaler_release: str
    metrics_server_release: str
    device_plugin_release: str | None  # GPU tiers only: NVIDIA's device plugin
    network_policy: bool  # vpc-cni enforces NetworkPolicies (its network policy agent)
    access_entries: tuple[AccessEntrySpec, ...]
    load_balancer_controller: LoadBalancerControllerSpec | None = None  # with workspaces
    external_dns: ExternalDnsSpec | None = None  # with a hub host


@dataclass(frozen=True)
class BucketSpec:
    purpose: Literal["data", "artifacts"]
    name: str  # the exact bucket name, e.g. "acme-fraud-artifacts"


@dataclass(frozen=True)
class RegistrySpec:
    name: str  # ECR repository name, e.g. "acme/fraud-workspace"


@dataclass(frozen=True)
class WorkloadRole:
    """An in-cluster workload that calls AWS: its IAM role and the service account it trusts."""

    purpose: Literal["workspaces", "spark", "serving", "runners", "pipelines"]
    role_name: str
    namespace: str
    service_account: str
    kafka_client: bool = False  # Kafka on MSK: the role may connect, read and write


@dataclass(frozen=True)
class IdentitySpec:
    region: str
    roles: tuple[WorkloadRole, ...]
    model_uris: tuple[str, ...] = ()  # serving reads exactly these S3 prefixes
    kafka_cluster: str | None = None  # the MSK cluster the Kafka clients' policy names


@dataclass(frozen=True)
class AwsSpec:
    region: str
    network: NetworkSpec
    cluster: ClusterSpec
    buckets: tuple[BucketSpec, ...]
    registry: RegistrySpec
    identity: IdentitySpec


def expand(team: Team, ctx: ExpandContext) -> AwsSpec | None:
    target = team.target
    if target.provider != "aws":
        return None
    assert target.region is not None  # validated: provider aws requires a region
    names = ctx.names
    vpc = ipaddress.IPv4Network(target.vpc_cidr)
    # /16 -> /19 private subnets (8 slots) and /24 public ones carved from the last /19.
    new_prefix = min(vpc.prefixlen + 3, 28)
    slots = list(vpc.subnets(new_prefix=new_prefix))
    private = tuple(str(s) for s in slots[: target.availability_zones])
    public_parent = slots[-1]
    public = tuple(
        str(s)
        for s in list(public_parent.subnets(new_prefix=min(public_parent.prefixlen + 3, 28)))[
            : target.availability_zones
        ]
    )
    return AwsSpec(
        region=target.region,
        network=NetworkSpec(
            name=names.vpc,
            cidr=target.vpc_cidr,
            zones=target.availability_zones,
            private_subnet_cidrs=private,
            public_subnet_cidrs=public,
            cluster_name=names.cluster,
            flow_log_group=names.flow_log_group,
        ),
        cluster=ClusterSpec(
            name=names.cluster,
            region=target.region,
            kubernetes_version=target.kubernetes_version,
            endpoint_private=True,
            endpoint_public=target.endpoint != "private" and bool(target.public_access_cidrs),
            public_access_cidrs=tuple(target.public_access_cidrs),
            log_types=CONTROL_PLANE_LOGS,
            log_group=names.cluster_log_group,
            kms_alias=names.kms_alias,
            node_pools=tuple(ctx.pools.values()),
            labels=ctx.labels,
            ebs_csi_role=names.roles["ebs-csi"],
            autoscaler_role=names.roles["cluster-autoscaler"],
            autoscaler_release=names.releases["cluster-autoscaler"],
            metrics_server_release=names.releases["metrics-server"],
            device_plugin_release=(
                names.releases["nvidia-device-plugin"]
                if any(p.gpus for p in ctx.pools.values())
                else None
            ),
            network_policy=True,
            access_entries=access_entries(team, ctx),
            load_balancer_controller=(
                LoadBalancerControllerSpec(
                    names.releases["aws-load-balancer-controller"], names.roles["lb-controller"]
                )
                if team.workspaces is not None
                else None
            ),
            external_dns=(
                ExternalDnsSpec(
                    names.releases["external-dns"],
                    names.roles["external-dns"],
                    team.workspaces.dns_zone,
                )
                if team.workspaces is not None
                and team.workspaces.host is not None
                and team.workspaces.dns_zone is not None
                else None
            ),
        ),
        buckets=(
            BucketSpec("data", names.buckets["data"]),
            BucketSpec("artifacts", names.buckets["artifacts"]),
        ),
        registry=RegistrySpec(names.repository),
        identity=_identity(team, ctx, target.region),
    )


def access_entries(team: Team, ctx: ExpandContext) -> tuple[AccessEntrySpec, ...]:
    """Org admins: cluster admin. Owners with an IAM principal (`owner_arns`): admin of the
    team's namespaces. An owner known only by e-mail gets no cluster access."""
    names = ctx.names
    namespaces = [names.namespace]
    if team.ci_runners is not None:
        namespaces.append(names.runners_namespace)
    entries = [
        AccessEntrySpec(arn, CLUSTER_ADMIN_POLICY, (), "admin")
        for arn in dict.fromkeys(team.target.admins)
    ]
    seen = {e.principal_arn for e in entries}
    for owner in team.owners:
        arn = team.owner_arns.get(owner)
        if arn is not None and arn not in seen:
            seen.add(arn)
            entries.append(AccessEntrySpec(arn, NAMESPACE_ADMIN_POLICY, tuple(namespaces), owner))
    return tuple(entries)


def _identity(team: Team, ctx: ExpandContext, region: str) -> IdentitySpec:
    names = ctx.names
    ns, accounts = names.namespace, names.service_accounts
    msk = team.kafka is not None and team.kafka.engine != "strimzi"
    roles: list[WorkloadRole] = []
    if team.workspaces is not None:
        roles.append(
            WorkloadRole("workspaces", names.roles["workspaces"], ns, accounts["workspaces"], msk)
        )
    if team.spark is not None and team.spark.engine == "operator":
        roles.append(WorkloadRole("spark", names.roles["spark"], ns, accounts["spark"], msk))
    if team.serving is not None:
        roles.append(WorkloadRole("serving", names.roles["serving"], ns, accounts["serving"]))
    if team.ci_runners is not None:
        roles.append(
            WorkloadRole(
                "runners", names.roles["runners"], names.runners_namespace, accounts["runners"]
            )
        )
    if team.pipelines is not None:
        # jobs and workflow steps read and write the team's data; Argo keeps logs and
        # artifacts in the artifacts bucket through the same role
        roles.append(
            WorkloadRole("pipelines", names.roles["pipelines"], ns, accounts["pipelines"], msk)
        )
    return IdentitySpec(
        region=region,
        roles=tuple(roles),
        model_uris=tuple(m.storage_uri for m in team.serving.models) if team.serving else (),
        kafka_cluster=names.kafka_cluster if msk else None,
    )
