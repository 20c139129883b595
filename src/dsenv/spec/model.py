"""EnvironmentSpec: the fully resolved, pure-data description of one team's environment.

Expansion (`dsenv.spec.expand`) builds it from a validated profile; the Pulumi program in
`dsenv.stacks` consumes it. Nothing here imports Pulumi. Every value a component needs is
already decided here (names, labels, sizes, versions), so components only translate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dsenv.spec.versions import Chart

Provider = Literal["aws", "kubernetes"]


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


@dataclass(frozen=True)
class NodePoolSpec:
    """One compute tier: an EKS managed node group (aws) and a scheduling target (any)."""

    tier: str
    name: str  # node group name, e.g. "fraud-small"
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
        return {"dsenv.io/tier": self.tier}

    @property
    def tolerations(self) -> list[dict[str, str]]:
        return [
            {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect}
            for t in self.taints
        ]


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    cidr: str
    zones: int
    private_subnet_cidrs: tuple[str, ...]
    public_subnet_cidrs: tuple[str, ...]  # hold only the NAT gateways


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    kubernetes_version: str
    endpoint_private: bool
    endpoint_public: bool
    public_access_cidrs: tuple[str, ...]
    log_types: tuple[str, ...]


@dataclass(frozen=True)
class BucketSpec:
    purpose: Literal["data", "artifacts"]
    name: str  # the exact bucket name, e.g. "acme-fraud-artifacts"


@dataclass(frozen=True)
class RegistrySpec:
    name: str  # ECR repository name, e.g. "acme/fraud-workspace"


@dataclass(frozen=True)
class AwsSpec:
    region: str
    network: NetworkSpec
    cluster: ClusterSpec
    buckets: tuple[BucketSpec, ...]
    registry: RegistrySpec


@dataclass(frozen=True)
class NamespaceSpec:
    name: str
    labels: dict[str, str]  # includes pod-security.kubernetes.io/enforce=restricted
    quota: dict[str, str]  # ResourceQuota hard limits, Kubernetes quantities
    default_request: dict[str, str]  # LimitRange defaults for containers
    default_limit: dict[str, str]
    max_limit: dict[str, str]


@dataclass(frozen=True)
class HubProfile:
    """One JupyterHub profile-list entry: a tier, offered only to its groups."""

    tier: str
    display_name: str
    description: str
    default: bool
    cpu: float  # cores
    memory_bytes: int
    gpus: int
    groups: tuple[str, ...]  # empty: every user


@dataclass(frozen=True)
class HubAuthSpec:
    """Resolved hub sign-in: everything the hub's authenticator needs except the secret,
    which stays in the named Kubernetes secret."""

    provider: Literal["github", "oidc"]
    client_id: str
    client_secret_name: str  # Kubernetes secret in the team namespace
    client_secret_key: str  # key inside that secret
    callback_url: str | None  # None: derived by the hub from the request's host
    organization: str | None = None  # github
    issuer: str | None = None  # oidc
    authorize_url: str | None = None
    token_url: str | None = None
    userdata_url: str | None = None
    username_claim: str | None = None
    groups_claim: str | None = None


@dataclass(frozen=True)
class WorkspacesSpec:
    chart: Chart
    release: str
    namespace: str
    image: str  # repository:tag; the team image unless the profile names one
    image_from_registry: bool  # True: the image lives in the team's registry (aws)
    profiles: tuple[HubProfile, ...]
    groups: dict[str, tuple[str, ...]]  # group -> members
    admins: tuple[str, ...]
    idle_timeout_seconds: int
    storage: str  # per-user volume size as written, e.g. "50Gi"
    uid: int
    gid: int
    host: str | None = None  # DNS name users reach the hub at
    auth: HubAuthSpec | None = None  # None: nobody can sign in (null authenticator)


@dataclass(frozen=True)
class SparkSpec:
    engine: Literal["operator", "emr-on-eks", "emr-serverless"]
    chart: Chart | None  # the operator chart for engine operator
    release: str
    namespace: str  # where the team's applications run
    operator_namespace: str
    service_account: str
    spark_version: str
    driver: NodePoolSpec
    executor: NodePoolSpec
    max_executors: int
    emr_release: str
    image: str
    install_operator: bool = True  # False: the cluster's platform team runs a shared operator


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
    cluster_name: str
    brokers: int
    storage: str
    storage_gib: int
    kafka_version: str
    metadata_version: str
    instance_type: str  # msk
    topics: tuple[TopicSpec, ...]
    users: tuple[KafkaUserSpec, ...]
    min_insync_replicas: int
    install_operator: bool = True  # False: the cluster's platform team runs a shared Strimzi


@dataclass(frozen=True)
class ScaleSetSpec:
    name: str  # runner scale set name: the `runs-on` label
    config_url: str  # https://github.com/<org> or https://github.com/<owner>/<repo>
    min_runners: int
    max_runners: int


@dataclass(frozen=True)
class RunnersSpec:
    provider: Literal["github"]
    controller_chart: Chart
    scale_set_chart: Chart
    controller_namespace: str
    namespace: str
    credentials_secret: str
    pool: NodePoolSpec
    image: str
    scale_sets: tuple[ScaleSetSpec, ...]
    install_operator: bool = True  # False: the scale sets bind a shared ARC controller


@dataclass(frozen=True)
class ModelSpec:
    name: str
    framework: str
    storage_uri: str
    min_replicas: int
    max_replicas: int
    pool: NodePoolSpec


@dataclass(frozen=True)
class ServingSpec:
    engine: Literal["kserve"]
    crd_chart: Chart
    chart: Chart
    cert_manager_chart: Chart
    operator_namespace: str
    namespace: str
    service_account: str
    models: tuple[ModelSpec, ...]
    install_operator: bool = True  # False: a shared cert-manager and KServe serve the team


@dataclass(frozen=True)
class LanguageSpec:
    name: Literal["python", "r"]
    version: str
    packages: tuple[str, ...]


@dataclass(frozen=True)
class ImageSpec:
    """The team's workspace image, rendered from languages and tools."""

    repository: str  # registry repository name (aws) or local name
    tag: str  # content hash of what goes into the image
    base: str
    languages: tuple[LanguageSpec, ...]
    tools: tuple[str, ...]
    spark_version: str | None
    kafka: bool
    uid: int
    gid: int
    ci_runner: bool = False  # the GitHub Actions runner goes into the image (CI runners use it)


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
    budget_monthly_usd: float | None = None
    org_max_monthly_usd: float | None = None
    owners: tuple[str, ...] = field(default_factory=tuple)
    dsenv_version: str = "0.0.0"

    def pool(self, tier: str) -> NodePoolSpec:
        return next(p for p in self.node_pools if p.tier == tier)
