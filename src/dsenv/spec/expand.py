"""Expansion: a validated Team profile -> EnvironmentSpec. Pure, deterministic, no Pulumi."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
from dataclasses import replace
from functools import cache
from importlib import resources

from dsenv import __version__
from dsenv.profile.load import LoadedProfile
from dsenv.profile.model import Team, Tier, WorkspaceSettings
from dsenv.profile.types import parse_bytes, parse_millicpu, parse_seconds
from dsenv.spec import versions
from dsenv.spec.model import (
    AwsSpec,
    BucketSpec,
    ClusterSpec,
    EnvironmentSpec,
    HubAuthSpec,
    HubProfile,
    ImageSpec,
    KafkaSpec,
    KafkaUserSpec,
    LanguageSpec,
    ModelSpec,
    NamespaceSpec,
    NetworkSpec,
    NodePoolSpec,
    RegistrySpec,
    RunnersSpec,
    ScaleSetSpec,
    ServingSpec,
    SparkSpec,
    Taint,
    TopicSpec,
    WorkspacesSpec,
)

GIB = 2**30
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")
GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")


def expand(team: Team) -> EnvironmentSpec:
    prefix = f"{team.org}-{team.name}" if team.org else team.name
    labels = {
        "app.kubernetes.io/managed-by": "dsenv",
        "dsenv.io/team": team.name,
        **({"dsenv.io/org": team.org} if team.org else {}),
    }
    tags = {
        **team.tags,
        "dsenv:team": team.name,
        **({"dsenv:org": team.org} if team.org else {}),
        "dsenv:managed-by": "dsenv",
    }
    pools = tuple(_node_pool(prefix, name, tier, team.name) for name, tier in team.tiers.items())
    by_tier = {p.tier: p for p in pools}
    image = _image(team, prefix)
    image_ref = f"{image.repository}:{image.tag}"

    spec = EnvironmentSpec(
        team=team.name,
        org=team.org,
        provider=team.target.provider,
        kube_context=team.target.context,
        kubernetes_version=team.target.kubernetes_version,
        stack_name=prefix,
        namespace=_namespace(team, labels, pools),
        labels=labels,
        tags=dict(sorted(tags.items())),
        node_pools=pools,
        image=image,
        aws=_aws(team, prefix, image.repository) if team.target.provider == "aws" else None,
        budget_monthly_usd=team.budget.monthly_usd if team.budget else None,
        owners=tuple(team.owners),
        dsenv_version=__version__,
    )
    ns = spec.namespace.name
    # `shared`: the platform team's operators, in the namespaces the profile names, serve every
    # team; the namespaces below are then theirs and dsenv creates neither them nor the releases
    install = team.target.operators == "install"
    shared = team.target.operator_namespaces
    updates: dict[str, object] = {}
    if team.workspaces is not None:
        updates["workspaces"] = _workspaces(team, ns, pools, image_ref)
    if team.spark is not None:
        s = team.spark
        updates["spark"] = SparkSpec(
            engine=s.engine,
            chart=versions.SPARK_OPERATOR if s.engine == "operator" else None,
            release="spark-operator",
            namespace=ns,
            operator_namespace=f"{ns}-spark-operator" if install else shared.spark,
            service_account="spark",
            spark_version=s.version,
            driver=by_tier[s.driver_tier],
            executor=by_tier[s.executor_tier],
            max_executors=s.max_executors,
            emr_release=versions.EMR_RELEASE,
            image=image_ref,
            install_operator=install,
        )
    if team.kafka is not None:
        updates["kafka"] = _kafka(team, ns)
    if team.ci_runners is not None:
        r = team.ci_runners
        sets = (
            tuple(
                ScaleSetSpec(
                    name=_dns(f"{team.name}-{repo.split('/', 1)[1]}"),
                    config_url=f"https://github.com/{repo}",
                    min_runners=r.min_runners,
                    max_runners=r.max_runners,
                )
                for repo in r.repositories
            )
            if r.repositories
            else (
                ScaleSetSpec(
                    name=_dns(f"{team.name}-runners"),
                    config_url=f"https://github.com/{r.organization}",
                    min_runners=r.min_runners,
                    max_runners=r.max_runners,
                ),
            )
        )
        updates["runners"] = RunnersSpec(
            provider=r.provider,
            controller_chart=versions.ARC_CONTROLLER,
            scale_set_chart=versions.ARC_SCALE_SET,
            controller_namespace=f"{ns}-arc-system" if install else shared.arc,
            namespace=f"{ns}-runners",
            credentials_secret=r.credentials_secret,
            pool=by_tier[r.tier],
            image=image_ref,
            scale_sets=sets,
            install_operator=install,
        )
    if team.serving is not None:
        sv = team.serving
        updates["serving"] = ServingSpec(
            engine=sv.engine,
            crd_chart=versions.KSERVE_CRD,
            chart=versions.KSERVE,
            cert_manager_chart=versions.CERT_MANAGER,
            operator_namespace=f"{ns}-kserve" if install else shared.kserve,
            namespace=ns,
            service_account="model-server",
            models=tuple(
                ModelSpec(
                    name=m.name,
                    framework=m.framework,
                    storage_uri=m.storage_uri,
                    min_replicas=m.min_replicas,
                    max_replicas=m.max_replicas,
                    pool=by_tier[m.tier or sv.tier],
                )
                for m in sv.models
            ),
            install_operator=install,
        )
    return replace(spec, **updates)  # type: ignore[arg-type]


def _dns(text: str) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    return cleaned[:63].rstrip("-")


def _node_pool(prefix: str, name: str, tier: Tier, team: str) -> NodePoolSpec:
    return NodePoolSpec(
        tier=name,
        name=f"{prefix}-{name}"[:63],
        instance_types=tuple(tier.instance_types),
        capacity_type="SPOT" if tier.spot else "ON_DEMAND",
        min_size=tier.min_nodes,
        max_size=tier.max_nodes,
        desired_size=tier.min_nodes,
        disk_gib=max(20, math.ceil(parse_bytes(tier.disk) / GIB)),
        cpu_millis=parse_millicpu(tier.cpu),
        memory_bytes=parse_bytes(tier.memory),
        gpus=tier.gpus,
        labels={"dsenv.io/tier": name, "dsenv.io/team": team},
        taints=(GPU_TAINT,) if tier.gpus else (),
    )


def _namespace(
    team: Team, labels: dict[str, str], pools: tuple[NodePoolSpec, ...]
) -> NamespaceSpec:
    # The quota admits every tier at full size: the hard cap the node groups can reach.
    cpu = sum(p.cpu_millis * p.max_size for p in pools)
    mem = sum(p.memory_bytes * p.max_size for p in pools)
    gpus = sum(p.gpus * p.max_size for p in pools)
    smallest = min(pools, key=lambda p: (p.cpu_millis, p.memory_bytes))
    largest = max(pools, key=lambda p: (p.cpu_millis, p.memory_bytes))
    quota = {
        "requests.cpu": f"{cpu}m",
        "limits.cpu": f"{cpu}m",
        "requests.memory": _mi(mem),
        "limits.memory": _mi(mem),
        "persistentvolumeclaims": "200",
    }
    if gpus:
        quota["requests.nvidia.com/gpu"] = str(gpus)
    return NamespaceSpec(
        name=team.name,
        labels={
            **labels,
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        },
        quota=quota,
        default_request={"cpu": "100m", "memory": "256Mi"},
        default_limit={
            "cpu": f"{min(smallest.cpu_millis, 1000)}m",
            "memory": _mi(min(smallest.memory_bytes, 2 * GIB)),
        },
        max_limit={"cpu": f"{largest.cpu_millis}m", "memory": _mi(largest.memory_bytes)},
    )


def _mi(n: int) -> str:
    return f"{math.ceil(n / 2**20)}Mi"


def _aws(team: Team, prefix: str, repository: str) -> AwsSpec:
    target = team.target
    assert target.region is not None  # validated: provider aws requires a region
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
            name=f"{prefix}-vpc",
            cidr=target.vpc_cidr,
            zones=target.availability_zones,
            private_subnet_cidrs=private,
            public_subnet_cidrs=public,
        ),
        cluster=ClusterSpec(
            name=prefix,
            kubernetes_version=target.kubernetes_version,
            endpoint_private=True,
            endpoint_public=bool(target.public_access_cidrs),
            public_access_cidrs=tuple(target.public_access_cidrs),
            log_types=CONTROL_PLANE_LOGS,
        ),
        buckets=(
            BucketSpec("data", f"{prefix}-data"),
            BucketSpec("artifacts", f"{prefix}-artifacts"),
        ),
        registry=RegistrySpec(repository),
    )


def _workspaces(
    team: Team, ns: str, pools: tuple[NodePoolSpec, ...], image_ref: str
) -> WorkspacesSpec:
    ws = team.workspaces
    assert ws is not None
    default_tier = ws.default_tier or pools[0].tier
    groups_for_tier: dict[str, list[str]] = {p.tier: [] for p in pools}
    for group_name, group in team.groups.items():
        for tier in group.tiers:
            groups_for_tier[tier].append(group_name)
    profiles = []
    for p in pools:
        allowed = tuple(sorted(groups_for_tier[p.tier])) if team.groups else ()
        if team.groups and not allowed:
            continue  # no group may use this tier: do not offer it in the hub
        gpu = f", {p.gpus} GPU" if p.gpus else ""
        profiles.append(
            HubProfile(
                tier=p.tier,
                display_name=p.tier,
                description=f"{p.cpu_millis / 1000:g} CPU, {_mi(p.memory_bytes)} memory{gpu}",
                default=p.tier == default_tier,
                cpu=p.cpu_millis / 1000,
                memory_bytes=p.memory_bytes,
                gpus=p.gpus,
                groups=allowed,
            )
        )
    return WorkspacesSpec(
        chart=versions.JUPYTERHUB,
        release="jupyterhub",
        namespace=ns,
        image=ws.image or image_ref,
        image_from_registry=ws.image is None and team.target.provider == "aws",
        profiles=tuple(profiles),
        groups={g: tuple(sorted(v.members)) for g, v in sorted(team.groups.items())},
        admins=tuple(sorted(o.split("@", 1)[0] for o in team.owners)),
        idle_timeout_seconds=parse_seconds(ws.idle_timeout),
        storage=ws.storage,
        uid=versions.WORKSPACE_UID,
        gid=versions.WORKSPACE_GID,
        host=ws.host,
        auth=_hub_auth(ws),
    )


#: Key of the client secret inside the Kubernetes secret `workspaces.auth.client_secret` names.
HUB_CLIENT_SECRET_KEY = "client-secret"


def _hub_auth(ws: WorkspaceSettings) -> HubAuthSpec | None:
    auth = ws.auth
    if auth is None:
        return None
    # neither set: the authenticator builds the callback from the host of each request
    callback = auth.callback_url or (f"https://{ws.host}/hub/oauth_callback" if ws.host else None)
    if auth.provider == "github":
        return HubAuthSpec(
            provider="github",
            client_id=auth.client_id,
            client_secret_name=auth.client_secret,
            client_secret_key=HUB_CLIENT_SECRET_KEY,
            callback_url=callback,
            organization=auth.organization,
        )
    return HubAuthSpec(
        provider="oidc",
        client_id=auth.client_id,
        client_secret_name=auth.client_secret,
        client_secret_key=HUB_CLIENT_SECRET_KEY,
        callback_url=callback,
        issuer=auth.issuer,
        authorize_url=auth.authorize_url,
        token_url=auth.token_url,
        userdata_url=auth.userdata_url,
        username_claim=auth.username_claim,
        groups_claim=auth.groups_claim,
    )


def _kafka(team: Team, ns: str) -> KafkaSpec:
    k = team.kafka
    assert k is not None
    default_replicas = min(3, k.brokers)
    install = team.target.operators == "install"
    return KafkaSpec(
        engine=k.engine,
        chart=versions.STRIMZI if k.engine == "strimzi" else None,
        release="strimzi",
        operator_namespace=f"{ns}-strimzi" if install else team.target.operator_namespaces.strimzi,
        namespace=ns,
        cluster_name=f"{team.name}-kafka",
        brokers=k.brokers,
        storage=k.storage,
        storage_gib=max(1, math.ceil(parse_bytes(k.storage) / GIB)),
        kafka_version=k.version,
        metadata_version=versions.KAFKA_METADATA_VERSION,
        instance_type=k.instance_type,
        topics=tuple(
            TopicSpec(
                name=t.name,
                resource_name=_dns(t.name),
                partitions=t.partitions,
                replicas=t.replicas or default_replicas,
                retention_ms=parse_seconds(t.retention) * 1000,
            )
            for t in k.topics
        ),
        users=tuple(KafkaUserSpec(u.name, tuple(u.topics)) for u in k.users),
        min_insync_replicas=max(1, min(2, default_replicas - 1)),
        install_operator=install,
    )


@cache
def _image_recipe() -> str:
    recipe = resources.files("dsenv.templates").joinpath("image", "Dockerfile.j2").read_bytes()
    return hashlib.sha256(recipe).hexdigest()


def _image(team: Team, prefix: str) -> ImageSpec:
    langs = []
    if team.languages.python:
        py = team.languages.python
        langs.append(LanguageSpec("python", py.version, tuple(py.packages)))
    if team.languages.r:
        r = team.languages.r
        langs.append(LanguageSpec("r", r.version, tuple(r.packages)))
    # The tag names what goes into the image: the profile's languages and tools, every pinned
    # build input, and the recipe (the Dockerfile template) itself.
    content = {
        "recipe": _image_recipe(),
        "pins": [
            versions.WORKSPACE_BASE_IMAGE,
            versions.PACKAGE_SNAPSHOT,
            versions.UV_IMAGE,
            versions.CODE_SERVER_VERSION,
            versions.JAVA_PACKAGE,
            versions.RSTUDIO_SERVER_VERSION,
            versions.DEFAULT_PYTHON,
            versions.DEFAULT_R,
            list(versions.JUPYTER_SERVER_PACKAGES),
        ],
        "languages": [[lang.name, lang.version, list(lang.packages)] for lang in langs],
        "tools": sorted(team.tools),
        "spark": team.spark.version if team.spark else None,
        "kafka": team.kafka is not None,
        "runner": versions.ACTIONS_RUNNER_IMAGE if team.ci_runners else None,
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]
    repository = f"{team.org}/{team.name}-workspace" if team.org else f"{team.name}-workspace"
    return ImageSpec(
        repository=repository,
        tag=digest,
        base=versions.WORKSPACE_BASE_IMAGE,
        languages=tuple(langs),
        tools=tuple(sorted(team.tools)),
        spark_version=team.spark.version if team.spark else None,
        kafka=team.kafka is not None,
        ci_runner=team.ci_runners is not None,
        uid=versions.WORKSPACE_UID,
        gid=versions.WORKSPACE_GID,
    )


def expand_profile(loaded: LoadedProfile) -> EnvironmentSpec:
    """Expand a loaded Team profile, carrying the org's budget cap into the spec."""
    caps = [lim.constraints.max_monthly_usd for lim in loaded.limits]
    cap = min((c for c in caps if c is not None), default=None)
    return replace(expand(loaded.team), org_max_monthly_usd=cap)
