"""Dev workspaces: JupyterHub with one profile per tier, offered to the groups allowed it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from dsenv.profile.types import parse_seconds
from dsenv.spec import versions
from dsenv.spec.clients import ClientAccess
from dsenv.spec.image import qualified, registry_of
from dsenv.spec.objectstore import ObjectStoreSpec
from dsenv.spec.tiers import NodePoolSpec, mebibytes
from dsenv.spec.versions import Chart

if TYPE_CHECKING:
    from dsenv.profile.model import Team, WorkspaceSettings
    from dsenv.spec.context import ExpandContext

#: Key of the client secret inside the Kubernetes secret `workspaces.auth.client_secret` names.
HUB_CLIENT_SECRET_KEY = "client-secret"


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
    pool: NodePoolSpec  # where its servers run


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
class HubIngressSpec:
    """Target aws: how people reach the hub. An Ingress for the AWS Load Balancer Controller
    (an internet-facing ALB in the public subnets, to the hub's proxy); with a host, HTTPS
    with an ACM certificate validated in the Route 53 zone, and the host's record kept there
    by external-dns."""

    name: str  # the Ingress, in the team namespace
    ingress_class: str
    host: str | None
    dns_zone: str | None
    service: str = "proxy-public"  # the chart's proxy Service
    service_port: int = 80

    @property
    def url(self) -> str | None:
        """What a person types; None: the load balancer's address, known after `up`."""
        return f"https://{self.host}" if self.host else None


@dataclass(frozen=True)
class WorkspacesSpec:
    chart: Chart
    release: str
    namespace: str
    labels: dict[str, str]
    service_account: str  # the single-user servers' identity
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
    storage_class: str | None = None  # home and hub volumes; None: the cluster's default
    image_pull_secret: str | None = None  # target kubernetes: pull credentials of the image
    object_store: ObjectStoreSpec | None = None  # target kubernetes: the servers' S3 store
    clients: ClientAccess = field(default_factory=ClientAccess)  # to use Spark and Kafka
    ingress: HubIngressSpec | None = None  # target aws: the ALB Ingress, certificate and DNS

    @property
    def default_profile(self) -> HubProfile | None:
        return next(
            (p for p in self.profiles if p.default), self.profiles[0] if self.profiles else None
        )


def expand(
    team: Team, ctx: ExpandContext, clients: ClientAccess | None = None
) -> WorkspacesSpec | None:
    ws = team.workspaces
    if ws is None:
        return None
    pools = list(ctx.pools.values())
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
                description=f"{p.cpu_millis / 1000:g} CPU, {mebibytes(p.memory_bytes)} memory{gpu}",
                default=p.tier == default_tier,
                cpu=p.cpu_millis / 1000,
                memory_bytes=p.memory_bytes,
                gpus=p.gpus,
                groups=allowed,
                pool=p,
            )
        )
    return WorkspacesSpec(
        chart=versions.JUPYTERHUB,
        release=ctx.names.releases["jupyterhub"],
        namespace=ctx.names.namespace,
        labels=ctx.labels,
        service_account=ctx.names.service_accounts["workspaces"],
        image=_image(team, ws, ctx),
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
        storage_class=team.target.storage_classes.workspaces,
        image_pull_secret=ctx.image_pull_secret,
        object_store=ctx.object_store,
        clients=clients or ClientAccess(),
        ingress=(
            HubIngressSpec(name="hub", ingress_class="alb", host=ws.host, dns_zone=ws.dns_zone)
            if team.target.provider == "aws"
            else None
        ),
    )


def _image(team: Team, ws: WorkspaceSettings, ctx: ExpandContext) -> str:
    """The team image, or the profile's own: on target kubernetes a name without a registry
    (`custom/notebook:1`) is one under the team's registry, never Docker Hub's."""
    if ws.image is None:
        return ctx.image
    registry = registry_of(team)
    return qualified(ws.image, registry) if registry else ws.image


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
