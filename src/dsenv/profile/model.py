"""The profile language: `Org` and `Team` documents, `apiVersion: dsenv/v1`.

These models are the user-facing contract. Every field is described: the descriptions
become the published JSON Schema (`dsenv schema`) that editors use to complete profiles.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from dsenv.capabilities import SECTIONS
from dsenv.profile.cron import check_schedule, check_time_zone
from dsenv.profile.fields import Field, Limits, Model, Scalar, describe
from dsenv.profile.types import (
    CpuQuantity,
    Duration,
    Email,
    EndpointUrl,
    LabelKey,
    LabelValue,
    Name,
    ObjectName,
    Quantity,
    Registry,
    TagKey,
    TagValue,
    Version,
)

API_VERSION = "dsenv/v1"

PositiveInt = Annotated[int, Limits(gt=0)]
NonNegativeInt = Annotated[int, Limits(ge=0)]

# Upper bounds on counts: the services' own limits where they have one, otherwise far
# beyond any real team, so that a typo (`max_nodes: 10000000`) is an error, not a plan.
#: EKS: at most 450 nodes in a managed node group (Amazon EKS service quotas).
MAX_NODES = 450
#: The most GPUs one EC2 instance has (p4d, p5, g5.48xlarge: 8; 16 leaves room).
MAX_GPUS = 16
MAX_BROKERS = 100
MAX_PARTITIONS = 10_000
MAX_REPLICAS = 1_000
MAX_EXECUTORS = 10_000
MAX_RUNNERS = 1_000
MAX_MONTHLY_USD = 10_000_000
NodeCount = Annotated[int, Limits(ge=0, le=MAX_NODES)]


class OperatorNamespaces(Model):
    """Where a cluster's shared operators run (used only with `target.operators: shared`)."""

    strimzi: Name = Field(
        default="strimzi", description="Namespace of the shared Strimzi operator (Kafka)."
    )
    spark: Name = Field(
        default="spark-operator", description="Namespace of the shared Spark operator."
    )
    kserve: Name = Field(
        default="kserve", description="Namespace of the shared KServe controller (serving)."
    )
    argo: Name = Field(
        default="argo",
        description="Namespace of the shared Argo Workflows controller (pipelines workflows).",
    )
    arc: Name = Field(
        default="arc-systems",
        description="Namespace of the shared Actions Runner Controller (CI runners); the "
        "runner scale sets bind its service account.",
    )


class StorageClasses(Model):
    """The StorageClass of each capability's persistent volumes (DNS-1123 names of classes
    the cluster has). Unset: the cluster's default class."""

    workspaces: ObjectName | None = Field(
        default=None, description="Per-user home volumes and the hub's database volume."
    )
    kafka: ObjectName | None = Field(default=None, description="Kafka broker volumes (Strimzi).")


class ObjectStorage(Model):
    """An S3-compatible object store (MinIO, Ceph RGW, a cloud's S3 API), by reference: dsenv
    never holds its credentials."""

    endpoint: EndpointUrl = Field(
        description="The S3 API endpoint, http(s)://host[:port], such as https://s3.lab.example."
    )
    credentials_secret: SecretName = Field(
        description="Name of an existing secret (in the team namespace, and the runners "
        "namespace with CI runners) with the keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
    )
    artifacts_bucket: (
        Annotated[str, Limits(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] | None
    ) = Field(
        default=None,
        description="The team's bucket for artifacts (MLflow runs, Spark output), given to "
        "every pod as DSENV_ARTIFACTS_URI=s3://<bucket>. Usually the team's own key, the "
        "endpoint and secret its org's.",
    )
    region: str = Field(
        default="us-east-1", description="Region name the store expects in signed requests."
    )


_IAM_PRINCIPAL_RE = re.compile(
    r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}$"
)


def _check_iam_principal(value: object) -> str:
    if not isinstance(value, str) or not _IAM_PRINCIPAL_RE.match(value):
        shown = repr(value)[:80] if isinstance(value, str) else describe(value)
        raise ValueError(
            f"{shown} is not an IAM principal ARN; write a role or user ARN such as "
            "arn:aws:iam::111122223333:role/platform-admin (EKS access entries take only these)"
        )
    return value


#: An IAM role or user ARN, the principals an EKS access entry names
#: (docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html).
IamPrincipalArn = Annotated[
    str,
    Scalar(_check_iam_principal, {"type": "string", "pattern": _IAM_PRINCIPAL_RE.pattern}),
]


class Target(Model):
    """Where the environment runs."""

    provider: Literal["aws", "kubernetes"] = Field(
        description="`aws`: dsenv creates the network, EKS cluster and cloud services. "
        "`kubernetes`: an existing cluster chosen by kubeconfig context; in-cluster resources only."
    )
    region: str | None = Field(
        default=None, description="AWS region, for example eu-west-1. Required for provider aws."
    )
    kubernetes_version: Version = Field(
        default="1.34", description="Kubernetes minor version of the cluster, quoted."
    )
    context: str | None = Field(
        default=None,
        description="provider kubernetes: the kubeconfig context of the existing cluster. "
        "Unset: the current context of the kubeconfig when dsenv runs (`dsenv doctor` shows it).",
    )
    registry: Registry | None = Field(
        default=None,
        description="provider kubernetes: the OCI registry (host[:port][/path], such as "
        "ghcr.io/acme) the team image is pushed to and every dsenv pod pulls it from. Unset: "
        "a local image, localhost/<name>:<tag>, loaded into the nodes (`kind load docker-image`).",
    )
    image_pull_secret: SecretName | None = Field(
        default=None,
        description="provider kubernetes: name of an existing kubernetes.io/dockerconfigjson "
        "secret (in the team namespace, and the runners namespace with CI runners) the pods "
        "pull the team image with. Unset: the nodes' own registry credentials.",
    )
    storage_classes: StorageClasses = Field(
        default_factory=StorageClasses,
        description="The StorageClass of each capability's volumes. Unset: the cluster's "
        "default class.",
    )
    object_storage: ObjectStorage | None = Field(
        default=None,
        description="provider kubernetes: an S3-compatible object store for artifacts and "
        "s3:// models, by reference (target aws uses the buckets dsenv creates).",
    )
    vpc_cidr: str = Field(
        default="10.40.0.0/16", description="CIDR of the VPC dsenv creates (provider aws)."
    )
    availability_zones: int = Field(
        default=2, ge=2, le=6, description="Number of zones for the private subnets (aws)."
    )
    public_access_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the EKS API publicly. Empty: private endpoint only.",
    )
    endpoint: Literal["public", "private"] | None = Field(
        default=None,
        description="target aws: how the EKS API is reached. `public`: from the "
        "public_access_cidrs only (required then), and privately from the VPC. `private`: from "
        "inside the VPC only; run `dsenv up` there (a VPN, a bastion or a CI runner in the VPC). "
        "Unset: public when public_access_cidrs are declared, else private.",
    )
    admins: list[IamPrincipalArn] = Field(
        default_factory=list,
        description="target aws: IAM role or user ARNs that get cluster admin through EKS "
        "access entries (usually the org's platform team, declared in the org's target).",
    )
    operators: Literal["install", "shared"] = Field(
        default="install",
        description="`install`: dsenv installs each capability's operator for this team (right "
        "for a cluster of its own, e.g. every target aws cluster). `shared`: the cluster's "
        "operators are installed once, cluster-wide, by its platform team; dsenv creates only "
        "the team's own objects.",
    )
    operator_namespaces: OperatorNamespaces = Field(
        default_factory=OperatorNamespaces,
        description="Where the shared operators run (used only with operators: shared).",
    )

    def check(self) -> Iterator[tuple[str, str]]:
        try:
            _network(self.vpc_cidr)
        except ValueError as exc:
            yield "vpc_cidr", str(exc)
        if self.region is not None:
            from dsenv import regions

            why = regions.problem(self.region)
            if why is not None:
                yield "region", why
        why = kubernetes_version_problem(self.kubernetes_version)
        if why is not None:
            yield "kubernetes_version", why
        # dsenv creates a target aws cluster for this team alone: nobody else installs operators
        if self.operators == "shared" and self.provider == "aws":
            yield (
                "operators",
                (
                    "operators shared needs target kubernetes: a target aws cluster is the team's "
                    "own, so dsenv installs its operators (use operators install)"
                ),
            )
        for cidr in self.public_access_cidrs:
            try:
                if _network(cidr).prefixlen == 0:
                    yield (
                        "public_access_cidrs",
                        f"{cidr} opens the cluster API to the whole internet",
                    )
            except ValueError as exc:
                yield "public_access_cidrs", str(exc)


def kubernetes_version_problem(version: str) -> str | None:
    """Why `version` cannot be a cluster's Kubernetes version, or None: it must be a minor
    version ("1.34") that dsenv's checkers have schemas for (`spec.versions`)."""
    from dsenv.spec.versions import kubernetes_versions

    if not re.fullmatch(r"\d+\.\d+", version):
        return f'{version!r} is not a Kubernetes minor version; write it like "1.34"'
    known = kubernetes_versions()
    if known is not None and version not in known:
        return (
            f"Kubernetes {version} is not a version dsenv's checkers know "
            f"({known[0]} to {known[-1]})"
        )
    return None


def _network(text: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an IPv4 CIDR such as 10.0.0.0/16") from exc


class Constraints(Model):
    """Limits an org places on every team that extends it."""

    allowed_instance_types: list[str] | None = Field(
        default=None,
        description="Glob patterns (m7i.*) every tier's instance types must match. Unset: any.",
    )
    max_gpus_per_team: Annotated[int, Limits(ge=0, le=MAX_GPUS * MAX_NODES)] | None = Field(
        default=None, description="Most GPUs a team's tiers may reach at their maximum node counts."
    )
    required_tags: list[str] = Field(
        default_factory=list, description="Tag keys every team must end up with (inherited counts)."
    )
    max_monthly_usd: Annotated[float, Limits(gt=0, le=MAX_MONTHLY_USD)] | None = Field(
        default=None, description="Largest monthly budget a team may declare."
    )


def _check_https_url(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected an https:// URL as a string")
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme != "https" or not parsed.hostname or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not an https:// URL such as https://login.acme.example")
    return value


HttpsUrl = Annotated[
    str,
    Scalar(_check_https_url, {"type": "string", "format": "uri", "pattern": "^https://\\S+$"}),
]

_DNS_NAME_RE = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$"
)


def _check_dns_name(value: object) -> str:
    if not isinstance(value, str) or not _DNS_NAME_RE.match(value):
        raise ValueError(
            f"{value!r} is not a DNS name; write a lower-case host name such as hub.fraud.acme.example"
        )
    return value


DnsName = Annotated[
    str,
    Scalar(_check_dns_name, {"type": "string", "pattern": _DNS_NAME_RE.pattern, "maxLength": 253}),
]


def _check_secret_name(value: object) -> str:
    if not isinstance(value, str) or not _SECRET_NAME_RE.match(value) or len(value) > 63:
        # never echo the value: a user may have pasted the secret itself here
        raise ValueError(
            "expected the NAME of a Kubernetes secret (DNS-1123 label: lower-case letters, "
            "digits and '-'), never the secret's value"
        )
    return value


_SECRET_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SecretName = Annotated[
    str,
    Scalar(
        _check_secret_name, {"type": "string", "pattern": _SECRET_NAME_RE.pattern, "maxLength": 63}
    ),
]


class HubAuth(Model):
    """How users sign in to the team hub (an OAuth app registered with GitHub or an OIDC IdP)."""

    provider: Literal["github", "oidc"] = Field(
        description="`github`: GitHub OAuth, gated by organization membership. `oidc`: any "
        "OpenID Connect identity provider (Keycloak, Okta, Entra ID, Google, ...)."
    )
    client_id: str = Field(
        min_length=1, description="Client ID of the OAuth app registered for this hub (not secret)."
    )
    client_secret: SecretName = Field(
        default="hub-oauth",
        description="Name of an existing Kubernetes secret in the team namespace whose key "
        "`client-secret` holds the OAuth client secret. dsenv only references it.",
    )
    callback_url: HttpsUrl | None = Field(
        default=None,
        description="OAuth callback URL registered with the app. Unset: "
        "https://<workspaces.host>/hub/oauth_callback, or without a host the hub derives it "
        "from the host of each sign-in request.",
    )
    organization: str | None = Field(
        default=None,
        description="provider github: GitHub organization whose members may sign in (required).",
    )
    issuer: HttpsUrl | None = Field(
        default=None, description="provider oidc: issuer URL of the identity provider (required)."
    )
    authorize_url: HttpsUrl | None = Field(
        default=None,
        description="provider oidc: `authorization_endpoint` from <issuer>/.well-known/openid-configuration (required).",
    )
    token_url: HttpsUrl | None = Field(
        default=None,
        description="provider oidc: `token_endpoint` from <issuer>/.well-known/openid-configuration (required).",
    )
    userdata_url: HttpsUrl | None = Field(
        default=None,
        description="provider oidc: `userinfo_endpoint` from <issuer>/.well-known/openid-configuration (required).",
    )
    username_claim: str = Field(
        default="preferred_username",
        description="provider oidc: claim whose value is the hub user name (matched against the group members).",
    )
    groups_claim: str | None = Field(
        default=None,
        description="provider oidc: claim listing the user's IdP groups. Set: members of an IdP "
        "group named like a dsenv group may sign in, and the IdP's groups become their hub "
        "groups at each sign-in, so tier access follows IdP group membership.",
    )


class WorkspaceSettings(Model):
    """Dev workspaces: JupyterHub with one profile per compute tier."""

    default_tier: Name | None = Field(
        default=None, description="Tier a new server starts on. Unset: the first tier."
    )
    idle_timeout: Duration = Field(default="1h", description="Idle servers are culled after this.")
    storage: Quantity = Field(default="10Gi", description="Per-user persistent home volume.")
    image: str | None = Field(
        default=None,
        description="Workspace image. Unset: the team image dsenv renders and builds from languages and tools.",
    )
    host: DnsName | None = Field(
        default=None,
        description="DNS name users reach the hub at (through the team's ingress); gives the "
        "OAuth callback https://<host>/hub/oauth_callback.",
    )
    dns_zone: DnsName | None = Field(
        default=None,
        description="target aws: the public Route 53 hosted zone that holds `host` (such as "
        "acme.example); dsenv validates the hub's ACM certificate there and keeps the host's "
        "record in it. Required with a host on target aws.",
    )
    auth: HubAuth | None = Field(
        default=None,
        description="Sign-in. Unset: the hub is locked (JupyterHub's null authenticator: "
        "nobody can sign in) and `dsenv check` reports it.",
    )


class Language(Model):
    version: Version = Field(description='Language version, quoted, such as "3.12".')
    packages: list[str] = Field(
        default_factory=list, description="Packages installed into the team image."
    )


class Languages(Model):
    python: Language | None = Field(default=None, description="Python and its packages.")
    r: Language | None = Field(default=None, description="R and its packages.")


Tool = Literal["jupyterlab", "vscode", "mlflow", "rstudio"]


class TierToleration(Model):
    """A pod toleration, in the Kubernetes form (`key`, `operator`, `value`, `effect`,
    `tolerationSeconds`), checked as the API server checks it."""

    key: LabelKey | None = Field(
        default=None, description="Taint key. Unset: every key (needs operator Exists)."
    )
    operator: Literal["Equal", "Exists"] = Field(
        default="Equal", description="Equal: the taint's value must be `value`. Exists: any value."
    )
    value: LabelValue | None = Field(default=None, description="Taint value (operator Equal).")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect tolerated. Unset: every effect."
    )
    tolerationSeconds: NonNegativeInt | None = Field(  # noqa: N815
        default=None, description="effect NoExecute: how long the pod stays once tainted."
    )

    def check(self) -> Iterator[tuple[str, str]]:
        # the rules of kubernetes pkg/apis/core/validation ValidateTolerations
        if self.key is None and self.operator != "Exists":
            yield "operator", "operator must be Exists when key is unset (it tolerates every taint)"
        if self.operator == "Exists" and self.value:
            yield "value", "value must be unset when operator is Exists"
        if self.tolerationSeconds is not None and self.effect != "NoExecute":
            yield "tolerationSeconds", "tolerationSeconds needs effect NoExecute"


GpuResource = Literal["nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/i915"]
#: Tier keys of one target only, and what they mean there.
AWS_TIER_KEYS = ("instance_types", "spot", "min_nodes", "max_nodes", "disk")
KUBERNETES_TIER_KEYS = ("node_selector", "tolerations", "gpu_resource", "max_pods")


class Tier(Model):
    """A compute tier: what one workspace gets, and where the tier's pods run (target aws: a
    node group dsenv creates; target kubernetes: the cluster's nodes the selector picks)."""

    cpu: CpuQuantity = Field(description="CPU a workspace on this tier gets.")
    memory: Quantity = Field(description="Memory a workspace on this tier gets.")
    gpus: Annotated[int, Limits(ge=0, le=MAX_GPUS)] = Field(
        default=0, description="GPUs per workspace on this tier."
    )
    instance_types: list[str] = Field(
        default_factory=list,
        min_length=1,
        description="target aws (required there): EC2 instance types for the tier's node group.",
    )
    spot: bool = Field(default=False, description="target aws: use spot capacity.")
    min_nodes: NodeCount = Field(
        default=0, description="target aws: fewest nodes; 0 scales to zero."
    )
    max_nodes: Annotated[int, Limits(gt=0, le=MAX_NODES)] = Field(
        default=3,
        description="target aws: most nodes (one workspace a node: sizes the quota; an EKS "
        "managed node group has at most 450).",
    )
    disk: Quantity = Field(default="100Gi", description="target aws: root volume of each node.")
    node_selector: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        description="target kubernetes: node labels the tier's pods require (the cluster "
        "admin's, e.g. nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB), written verbatim into "
        "every pod of the tier. Empty: any node.",
    )
    tolerations: list[TierToleration] = Field(
        default_factory=list,
        description="target kubernetes: taints of the tier's nodes its pods tolerate (e.g. "
        "{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}), verbatim.",
    )
    gpu_resource: GpuResource = Field(
        default="nvidia.com/gpu",
        description="target kubernetes: the extended resource a GPU is requested as (the "
        "device plugin's): nvidia.com/gpu, amd.com/gpu or gpu.intel.com/i915.",
    )
    max_pods: PositiveInt = Field(
        default=3,
        description="target kubernetes: most pods of this tier's size the team runs at once "
        "(workspaces, Spark drivers and executors, runners, predictors together); the "
        "namespace quota is the sum over tiers of max_pods times the tier's cpu, memory, gpus.",
    )


class Group(Model):
    members: list[str] = Field(description="User names in the group.")
    tiers: list[Name] = Field(min_length=1, description="Tiers the group may start servers on.")


class Spark(Model):
    engine: Literal["operator", "emr-on-eks", "emr-serverless"] = Field(
        default="operator",
        description="`operator`: the Kubeflow Spark operator in the cluster. `emr-on-eks` and "
        "`emr-serverless` (target aws only): Amazon EMR.",
    )
    driver_tier: Name = Field(description="Tier Spark drivers run on.")
    executor_tier: Name = Field(description="Tier Spark executors run on.")
    max_executors: Annotated[int, Limits(gt=0, le=MAX_EXECUTORS)] = Field(
        default=10, description="Upper bound of dynamic allocation."
    )
    version: Version = Field(
        default="3.5.5", description="Spark version of the team's applications."
    )
    image: str | None = Field(
        default=None,
        description="engine operator: the drivers' and executors' image; it must have Spark's "
        "entrypoint (/opt/entrypoint.sh) and SPARK_HOME, as images built from Apache Spark's "
        "do. Unset: Apache Spark's own image of `version` (docker.io/library/spark). "
        "On target kubernetes a name without a registry is one under target.registry.",
    )


class Topic(Model):
    name: Annotated[str, Limits(pattern=r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$", max_length=200)] = (
        Field(description="Topic name: lower-case letters, digits, '.' and '-'.")
    )
    partitions: Annotated[int, Limits(gt=0, le=MAX_PARTITIONS)] = Field(
        default=3, description="Partition count."
    )
    replicas: Annotated[int, Limits(gt=0, le=MAX_BROKERS)] | None = Field(
        default=None, description="Replication factor. Unset: min(3, brokers)."
    )
    retention: Duration = Field(default="7d", description="How long records are kept.")


class KafkaUser(Model):
    name: Name = Field(description="User name (SCRAM-SHA-512 credentials in a secret).")
    topics: list[str] = Field(
        default_factory=list, description="Topics the user may read and write. Empty: all topics."
    )


class Kafka(Model):
    engine: Literal["strimzi", "msk", "msk-serverless"] = Field(
        default="strimzi",
        description="`strimzi`: Strimzi operator and a KRaft Kafka in the cluster. `msk` and "
        "`msk-serverless` (target aws only): Amazon MSK.",
    )
    brokers: Annotated[int, Limits(gt=0, le=MAX_BROKERS)] = Field(
        default=3, description="Broker count."
    )
    storage: Quantity = Field(default="100Gi", description="Persistent storage per broker.")
    version: Version = Field(default="4.1.0", description="Kafka version.")
    instance_type: str = Field(
        default="kafka.m7g.large", description="Broker instance type (engine msk)."
    )
    tier: Name | None = Field(
        default=None,
        description="engine strimzi: the tier brokers run on, each getting its cpu and memory. "
        "Unset: the first tier without GPUs.",
    )
    topics: list[Topic] = Field(
        default_factory=list,
        description="Topics to create (engine strimzi; MSK has no API for topics: an error there).",
    )
    users: list[KafkaUser] = Field(
        default_factory=list,
        description="Users to create (engine strimzi; MSK authenticates IAM roles: an error there).",
    )


class CiRunners(Model):
    provider: Literal["github"] = Field(description="CI system. Only github for now.")
    organization: str = Field(description="GitHub organization owning the repositories.")
    repositories: list[str] = Field(
        default_factory=list,
        description="owner/name repositories that get a runner scale set. Empty: one organization-wide scale set.",
    )
    tier: Name = Field(description="Tier runners run on.")
    max_runners: Annotated[int, Limits(gt=0, le=MAX_RUNNERS)] = Field(
        default=5, description="Most runners per scale set."
    )
    min_runners: Annotated[int, Limits(ge=0, le=MAX_RUNNERS)] = Field(
        default=0, description="Fewest runners (0 scales to zero)."
    )
    credentials_secret: Name = Field(
        default="github-app",
        description="Name of the Kubernetes secret holding the GitHub App credentials. dsenv only references it.",
    )

    def check(self) -> Iterator[tuple[str, str]]:
        for repo in self.repositories:
            owner, _, name = repo.partition("/")
            if not owner or not name or "/" in name:
                yield "repositories", f"{repo!r} is not an owner/name repository"


class ServedModel(Model):
    name: Name = Field(description="InferenceService name.")
    framework: Literal[
        "sklearn", "xgboost", "lightgbm", "pytorch", "tensorflow", "onnx", "huggingface", "mlflow"
    ] = Field(description="Model format KServe serves.")
    storage_uri: Annotated[str, Limits(pattern=r"^(s3|gs|pvc|https?|hf)://\S+$")] = Field(
        description="Where the model artifact lives (s3://, gs://, pvc://, https://, hf://)."
    )
    min_replicas: Annotated[int, Limits(ge=0, le=MAX_REPLICAS)] = Field(
        default=1, description="Fewest replicas (0 scales to zero)."
    )
    max_replicas: Annotated[int, Limits(gt=0, le=MAX_REPLICAS)] = Field(
        default=3, description="Most replicas."
    )
    tier: Name | None = Field(default=None, description="Tier to run on. Unset: serving.tier.")


class Serving(Model):
    engine: Literal["kserve"] = Field(default="kserve", description="Serving engine.")
    tier: Name = Field(description="Default tier for models.")
    models: list[ServedModel] = Field(default_factory=list, description="Models to serve.")


CronSchedule = Annotated[
    str,
    Scalar(
        check_schedule,
        {
            "type": "string",
            "minLength": 1,
            "description": "A cron schedule (minute hour day-of-month month day-of-week, or "
            "@daily, @weekly, ...), as Kubernetes CronJobs read it.",
        },
    ),
]
TimeZone = Annotated[
    str,
    Scalar(
        check_time_zone,
        {
            "type": "string",
            "minLength": 1,
            "description": "An IANA time zone name such as Europe/Berlin or UTC (not Local).",
        },
    ),
]
EnvName = Annotated[str, Limits(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=253)]
Concurrency = Literal["Allow", "Forbid", "Replace"]
#: A retried run is re-run at most this often (Kubernetes `backoffLimit` allows more; a larger
#: number is a typo here, not a plan).
MAX_RETRIES = 10
#: The longest a run may take: a week.
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600


class PipelineJob(Model):
    """A container run on a schedule, or on demand: a Kubernetes CronJob."""

    name: Name = Field(description="Job name (the CronJob's; at most 52 characters).")
    command: list[str] = Field(
        min_length=1, description="The command and its arguments, such as [python, retrain.py]."
    )
    image: str | None = Field(default=None, description="Image to run. Unset: the team image.")
    tier: Name = Field(
        description="Tier the job's pod runs on (it gets the tier's cpu and memory)."
    )
    schedule: CronSchedule | None = Field(
        default=None,
        description="When it runs. Unset: only on demand (a suspended CronJob; trigger it "
        "with `kubectl create job --from=cronjob/<name>`).",
    )
    time_zone: TimeZone | None = Field(
        default=None, description="Time zone of the schedule. Unset: pipelines.time_zone."
    )
    concurrency: Concurrency = Field(
        default="Forbid",
        description="A run due while the last still runs: Allow it, Forbid it (skip), or "
        "Replace the running one.",
    )
    timeout: Duration = Field(
        default="1h",
        description="Longest a run may take before it is stopped (also what `dsenv cost` "
        "counts a run as).",
    )
    retries: Annotated[int, Limits(ge=0, le=MAX_RETRIES)] = Field(
        default=0, description="How often a failed run is retried."
    )
    env: dict[EnvName, str] = Field(
        default_factory=dict, description="Environment variables (plain values, never secrets)."
    )
    secrets: list[SecretName] = Field(
        default_factory=list,
        description="Names of existing secrets in the team namespace whose keys become "
        "environment variables. dsenv only references them.",
    )


class PipelineSparkJob(Model):
    """A Spark application on a schedule: a ScheduledSparkApplication (engine operator) or an
    EventBridge Scheduler schedule that starts an EMR job run (engine emr-on-eks)."""

    name: Name = Field(description="Spark job name.")
    main: Annotated[str, Limits(pattern=r"^(local|s3a?)://\S+$")] = Field(
        description="The application file: local:///path in the team image, or s3://bucket/key."
    )
    arguments: list[str] = Field(default_factory=list, description="Arguments of the application.")
    schedule: CronSchedule = Field(description="When it runs.")
    time_zone: TimeZone | None = Field(
        default=None, description="Time zone of the schedule. Unset: pipelines.time_zone."
    )
    concurrency: Concurrency = Field(
        default="Forbid", description="A run due while the last still runs: Allow, Forbid, Replace."
    )
    executors: Annotated[int, Limits(gt=0, le=MAX_EXECUTORS)] = Field(
        default=2, description="Executors of a run (on spark.executor_tier)."
    )
    timeout: Duration = Field(
        default="1h", description="How long a run is counted as by `dsenv cost`."
    )


class WorkflowStep(Model):
    """One step of a workflow: a container on a tier."""

    name: Name = Field(description="Step name, unique in the workflow.")
    command: list[str] = Field(min_length=1, description="The command and its arguments.")
    image: str | None = Field(default=None, description="Image to run. Unset: the team image.")
    tier: Name = Field(description="Tier the step's pod runs on.")
    depends: list[Name] = Field(
        default_factory=list, description="Steps that must succeed before this one starts."
    )
    timeout: Duration = Field(default="1h", description="Longest the step may take.")
    retries: Annotated[int, Limits(ge=0, le=MAX_RETRIES)] = Field(
        default=0, description="How often a failed step is retried."
    )
    env: dict[EnvName, str] = Field(
        default_factory=dict, description="Environment variables (plain values)."
    )
    secrets: list[SecretName] = Field(
        default_factory=list,
        description="Names of existing secrets whose keys become environment variables.",
    )


class PipelineWorkflow(Model):
    """A DAG of steps on Argo Workflows: a WorkflowTemplate, and a CronWorkflow when it has a
    schedule."""

    name: Name = Field(description="Workflow name (at most 52 characters with a schedule).")
    steps: list[WorkflowStep] = Field(min_length=1, description="The steps, in any order.")
    schedule: CronSchedule | None = Field(
        default=None, description="When it runs. Unset: only on demand (`argo submit --from`)."
    )
    time_zone: TimeZone | None = Field(
        default=None, description="Time zone of the schedule. Unset: pipelines.time_zone."
    )
    concurrency: Concurrency = Field(
        default="Forbid", description="A run due while the last still runs: Allow, Forbid, Replace."
    )


class Pipelines(Model):
    """Scheduled jobs, scheduled Spark jobs and workflows (Argo Workflows)."""

    engine: Literal["argo"] = Field(
        default="argo", description="Workflow engine: Argo Workflows (no database, namespaced)."
    )
    time_zone: TimeZone | None = Field(
        default=None,
        description="Time zone of every schedule that names none. A schedule needs one here "
        "or on its own entry.",
    )
    submitters: list[Name] = Field(
        default_factory=list,
        description="Groups whose members may submit and trigger jobs and workflows and read "
        "their logs (a RoleBinding to the Kubernetes group of that name). Empty: only the "
        "workspace identity.",
    )
    viewers: list[Name] = Field(
        default_factory=list,
        description="Groups whose members may only list runs and read their logs.",
    )
    jobs: list[PipelineJob] = Field(default_factory=list, description="Scheduled jobs.")
    spark_jobs: list[PipelineSparkJob] = Field(
        default_factory=list, description="Scheduled Spark jobs (needs the spark section)."
    )
    workflows: list[PipelineWorkflow] = Field(
        default_factory=list, description="Workflows: DAGs of steps on Argo Workflows."
    )


class Budget(Model):
    monthly_usd: Annotated[float, Limits(gt=0, le=MAX_MONTHLY_USD)] = Field(
        description="The team's monthly budget in USD."
    )


#: The keys an org's `defaults` may set: team settings, and every capability section.
DEFAULTS_KEYS = ("owners", "languages", "tools", "tiers", "groups", *SECTIONS, "budget")
if TYPE_CHECKING:
    DefaultsKey = str
else:
    DefaultsKey = Literal[DEFAULTS_KEYS]


class Org(Model):
    """Defaults every team inherits, and limits no team may break."""

    apiVersion: Literal["dsenv/v1"] = Field(description="Always dsenv/v1.")  # noqa: N815
    kind: Literal["Org"] = Field(description="Org.")
    name: Name = Field(description="Org name, used in resource names and tags.")
    extends: str | None = Field(
        default=None, description="Path to a parent org profile, relative to this file."
    )
    target: Target | None = Field(default=None, description="Default target for the org's teams.")
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, description="Tags on every resource."
    )
    constraints: Constraints = Field(
        default_factory=Constraints, description="Limits enforced on every team."
    )
    defaults: dict[DefaultsKey, object] = Field(
        default_factory=dict,
        description="Team settings every team inherits, deep-merged under the team's own. "
        f"A capability section here ({', '.join(SECTIONS)}) applies only "
        "to teams that declare that section: a default never switches a capability on.",
    )


class Team(Model):
    """One data-science team's environment."""

    apiVersion: Literal["dsenv/v1"] = Field(description="Always dsenv/v1.")  # noqa: N815
    kind: Literal["Team"] = Field(description="Team.")
    name: Name = Field(description="Team name: namespace, stack and resource names derive from it.")
    extends: str | None = Field(
        default=None, description="Path to an Org (or Team) profile, relative to this file."
    )
    org: Name | None = Field(default=None, description="Org name; set by extends.")
    owners: list[Email] = Field(
        default_factory=list,
        description="Owner e-mail addresses; they become the hub's admins (by the part before @).",
    )
    owner_arns: dict[Email, IamPrincipalArn] = Field(
        default_factory=dict,
        description="target aws: the IAM role or user ARN of each owner (by e-mail); each gets "
        "admin of the team's namespaces through an EKS access entry. An owner not listed here "
        "gets no cluster access (`dsenv explain PROFILE owners` says so).",
    )
    target: Target = Field(
        description="Where the environment runs (usually inherited from the org)."
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, description="Tags on every resource."
    )
    languages: Languages = Field(
        default_factory=Languages, description="Languages in the team image."
    )
    tools: list[Tool] = Field(
        default_factory=lambda: list[Tool](["jupyterlab"]), description="Tools in the image."
    )
    tiers: dict[Name, Tier] = Field(min_length=1, description="Compute tiers by name.")
    groups: dict[Name, Group] = Field(
        default_factory=dict,
        description="User groups and the tiers each may use. Empty: everyone may use every tier.",
    )
    workspaces: WorkspaceSettings | None = Field(
        default=None, description="Dev workspaces (JupyterHub)."
    )
    spark: Spark | None = Field(default=None, description="Spark.")
    kafka: Kafka | None = Field(default=None, description="Kafka.")
    ci_runners: CiRunners | None = Field(default=None, description="Self-hosted CI runners.")
    serving: Serving | None = Field(default=None, description="Model serving.")
    pipelines: Pipelines | None = Field(
        default=None, description="Scheduled jobs, Spark jobs and workflows."
    )
    budget: Budget | None = Field(default=None, description="Monthly budget.")
